"""The web app's job records: one SQLite file (jobs.sqlite in the data folder), safe to use from any thread.

    store = Store(data_dir / "jobs.sqlite")   # StoreError, one line, for a file damaged, locked or not ours
    store.add(id=..., state="queued", ...); store.update(id, state="running"); store.get(id); store.all("queued")

A write waits up to WAIT_SECONDS for another program holding the file (an sqlite3 shell, a backup); then,
as for a damaged file or a full disk, StoreError. A file painterly did not make is never written to.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from pathlib import Path

from ..errors import PainterlyError

WAIT_SECONDS = 30.0  # how long a write to jobs.sqlite waits for another program holding it

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    state TEXT NOT NULL,
    preset TEXT NOT NULL,
    settings TEXT NOT NULL,      -- JSON: Settings.to_dict()
    inputs TEXT NOT NULL,        -- JSON: {"content": name, "styles": [names]}, for display only
    started REAL,
    finished REAL,
    message TEXT,                -- why it failed or stopped, or a notice (e.g. the backbone fallback)
    progress TEXT,               -- JSON: the latest step's numbers (a video's: the latest frame's)
    video TEXT,                  -- JSON: a video job's options and its clip's numbers; NULL for a photo
    steps TEXT                   -- JSON: a finished job's step records (the event stream's), out of memory
)"""
COLUMNS_ADDED = {"video": "TEXT", "steps": "TEXT"}  # to a jobs.sqlite made before they existed
SHOWN = "id, created, state, preset, settings, inputs, started, finished, message, progress, video"  # not steps


class StoreError(PainterlyError):
    """The job records (jobs.sqlite) cannot be read or written: held by another program, damaged, not
    painterly's, or on a full disk (HTTP 503). The message names the file, not the server's paths."""


_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _NOTADB = 5, 6, 8, 10, 11, 13, 26  # SQLite's result codes
_OURS = {"id", "created", "state", "preset", "settings", "inputs"}  # the columns every jobs.sqlite of ours has


class Store:
    """Job records in one SQLite file, safe to use from any thread. A write waits up to WAIT_SECONDS for
    another program holding the file (an sqlite3 shell, a backup); then, as for a damaged file or a full
    disk, StoreError in one line."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.wait = WAIT_SECONDS
        self.shown = str(self.path)  # the file in messages: at start they are the operator's (see Jobs)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, timeout=self.wait, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as error:
            raise self._error(error) from None
        self._db.row_factory = sqlite3.Row
        try:
            with self._using() as db:
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
                if tables and not _OURS <= present:  # someone else's database: never written to
                    raise StoreError(f"{self.shown} was not made by painterly (it holds "
                                     f"{', '.join(sorted(tables))[:80]}): choose another data folder")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
                for name, kind in COLUMNS_ADDED.items():
                    if name not in present:
                        db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
        except BaseException:
            self._db.close()
            raise

    @contextlib.contextmanager
    def _using(self):
        """The connection, to this thread alone; SQLite's errors as one line (StoreError)."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as error:
                raise self._error(error) from None

    def _error(self, error: sqlite3.Error) -> StoreError:
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        name = self.shown
        if code in (_BUSY, _LOCKED):
            return StoreError(f"{name} is locked by another program (an sqlite3 shell, a backup?) for over "
                              f"{self.wait:g} s: close it, then try again")
        if code == _FULL:
            return StoreError(f"{name} cannot be written: the disk is full: free some space, then try again")
        if code == _IOERR:
            return StoreError(f"{name} could not be written ({error}: a full disk?): free some space, then try again")
        if code in (_CORRUPT, _NOTADB):
            return StoreError(f"{name} is damaged ({error}): move it aside (painterly then starts an empty job list) "
                              f"or put back a copy from a backup")
        if code == _READONLY:
            return StoreError(f"{name} is read-only: give the server write access to it and its folder")
        return StoreError(f"{name} cannot be used ({error}): check the data folder's disk and permissions")

    def add(self, **fields) -> None:
        names = ", ".join(fields)
        with self._using() as db:
            db.execute(f"INSERT INTO jobs ({names}) VALUES ({', '.join('?' * len(fields))})", list(fields.values()))

    def update(self, job_id: str, **fields) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._using() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*fields.values(), job_id])

    def get(self, job_id: str) -> dict | None:
        with self._using() as db:
            row = db.execute(f"SELECT {SHOWN} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row(row) if row else None

    def steps(self, job_id: str) -> list[dict]:
        """A finished job's step records."""
        with self._using() as db:
            row = db.execute("SELECT steps FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else []

    def count(self, state: str) -> int:
        with self._using() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,)).fetchone()[0]

    def all(self, state: str | None = None, limit: int = -1) -> list[dict]:
        """Jobs newest first (oldest first when filtered by state: the queue's order)."""
        with self._using() as db:
            if state is None:
                rows = db.execute(f"SELECT {SHOWN} FROM jobs ORDER BY created DESC, rowid DESC LIMIT ?", (limit,))
            else:
                rows = db.execute(f"SELECT {SHOWN} FROM jobs WHERE state = ? ORDER BY created, rowid", (state,))
            return [_row(r) for r in rows.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()


JSON_COLUMNS = ("settings", "inputs", "progress", "video")  # the columns holding JSON


def storage_error(error: OSError) -> StoreError:
    """A file the server could not write (a full disk, a read-only folder), as the one line a browser sees."""
    return StoreError(f"the server could not store the job's files ({error.strerror or type(error).__name__}): "
                      f"try again later, or tell the server's owner")


def _row(row: sqlite3.Row) -> dict:
    job = dict(row)
    for name in JSON_COLUMNS:
        job[name] = json.loads(job[name]) if job[name] else None
    return job
