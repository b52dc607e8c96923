"""The files painterly writes, and the checks before it writes them: a user's file is never touched unless
painterly wrote it.

    files.write_atomic(path, data)               # bytes to `path`: a unique temporary file, fsynced, renamed
    files.write_stream(path, readable)           # the same for a stream (an upload), copied in chunks
    files.refuse_inputs(path, inputs, "output")  # OutputError when `path` is an input: path, symlink, hard link
    claim = files.claim(folder, what="work folder", flag="--work")   # painterly's own folder, locked for the run
    ...
    claim.discard()                              # the marker gone; the folder too if painterly made it, now empty
    files.owned(folder), files.mark(folder)      # whether painterly's marker is there; put it there
    files.written_by_painterly("report/summary.json")   # a JSON file painterly wrote (its version inside)

A folder is painterly's when it holds the marker file `.painterly` (JSON: the version that wrote it, whether
painterly made the folder, the process holding it). `claim` makes the folder, or adopts an empty one, and refuses
one that holds anything without the marker; it locks the marker (`fcntl.flock`, released when the process ends,
however it ends), so a second run on the same folder is refused at once instead of clearing the first one's files.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO, Iterable

from .errors import OutputError
from .version import __version__

MARKER = ".painterly"


def write_atomic(path, data: bytes) -> None:
    """`data` into `path` through a temporary file of a unique name beside it, flushed to the disk and renamed
    onto `path`: a reader sees the old file or the new one, never half of one. OutputError names the file."""
    write_stream(path, io.BytesIO(data))


def write_stream(path, source: BinaryIO) -> None:
    """`write_atomic` for a readable binary stream (an upload, a file), copied in chunks: never all in memory."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as handle:
            shutil.copyfileobj(source, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"'{path}' could not be written ({error.strerror or error}): check the folder's "
                          f"permissions and free space") from error  # the OSError kept: a server says it its own way
    _sync_folder(path.parent)


def same_file(a, b) -> bool:
    """Whether two paths name one file or folder: the same path, a symbolic link to it, or a hard link (one
    inode). A path that does not exist is the same as another only by its resolved name."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def refuse_inputs(path, inputs: Iterable, what: str = "output") -> None:
    """OutputError when `path` is one of `inputs` (None entries skipped), however it is named."""
    for source in inputs:
        if source is not None and same_file(path, source):
            shown = "" if Path(source).name == Path(path).name else f" ('{source}')"
            raise OutputError(f"{what} '{path}' is one of the inputs{shown}, which are never overwritten: "
                              f"choose another name")


def written_by_painterly(path) -> bool:
    """Whether `path` is a JSON file painterly wrote: an object carrying painterly's version (every metadata and
    summary file painterly writes has it). A report folder holding one is painterly's report."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(value, dict) and "painterly" in value


def owned(folder) -> bool:
    """Whether `folder` holds painterly's marker."""
    return (Path(folder) / MARKER).is_file()


def mark(folder) -> None:
    """Put painterly's marker into `folder` (one painterly writes, such as a report folder it made or emptied)."""
    marker = Path(folder) / MARKER
    if not marker.is_file():
        write_atomic(marker, _marker_text(made=True))


class Claim:
    """A folder painterly holds for one run: `release` lets it go, `discard` also removes the marker (and the
    folder, when painterly made it and nothing is left in it)."""

    def __init__(self, folder: Path, made: bool, created: bool, handle):
        self.folder, self.made, self.created, self._handle = folder, made, created, handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # the lock goes with the open file
            self._handle = None

    def discard(self) -> bool:
        """Remove the marker, and the folder if painterly made it; whether the folder is gone."""
        (self.folder / MARKER).unlink(missing_ok=True)
        self.release()
        if not self.made:
            return False
        try:
            self.folder.rmdir()
            return True
        except OSError:  # something else is in it: left as it is
            return False


def claim(folder, *, what: str = "work folder", flag: str = "--work") -> Claim:
    """Make `folder` (its parent must exist), adopt it if empty, or take it back if it holds painterly's marker;
    lock it for this process. OutputError (one line) for a folder holding other things without the marker, a
    folder another painterly run holds, or one that cannot be made."""
    folder = Path(folder)
    made = created = False
    if not folder.exists():
        try:
            folder.mkdir()
            made = True
        except FileExistsError:
            pass  # made at this moment by someone else: checked below like any other
        except OSError as error:
            raise OutputError(f"{what} '{folder}' could not be made ({error.strerror}): choose another with "
                              f"{flag}") from None
    if not folder.is_dir():
        raise OutputError(f"{what} '{folder}' is a file: give {flag} a folder")
    marker = folder / MARKER
    if not marker.is_file():
        try:
            present = sorted(p.name for p in folder.iterdir())
        except OSError as error:
            raise OutputError(f"{what} '{folder}' cannot be read ({error.strerror or error}): choose another with "
                              f"{flag}") from None
        if present:
            raise OutputError(f"{what} '{folder}' was not made by painterly and holds {present[0]}"
                              f"{' …' if len(present) > 1 else ''}: painterly never writes into or clears such a "
                              f"folder; give {flag} a new or empty folder")
    try:
        try:
            handle = open(marker, "x+")  # the marker made here, or (made a moment ago by another run) opened
            created = True
        except FileExistsError:
            handle = open(marker, "r+")
    except OSError as error:
        raise OutputError(f"{what} '{folder}' cannot be written ({error.strerror or error}): choose another with "
                          f"{flag}") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read(handle).get("pid")
        handle.close()
        raise OutputError(f"{what} '{folder}' is in use by another painterly run"
                          f"{f' (process {holder})' if holder else ''}: wait for it to end, or give this run "
                          f"another output or {flag}") from None
    except OSError as error:  # a file system without locks
        handle.close()
        raise OutputError(f"{what} '{folder}' cannot be locked ({error.strerror or error}): give {flag} a folder "
                          f"on a local disk") from None
    if not created:
        made = bool(_read(handle).get("made", False))
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(_marker_text(made=made, pid=os.getpid()).decode())
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as error:
        handle.close()
        raise OutputError(f"{what} '{folder}' cannot be written ({error.strerror or error}): check its free space, "
                          f"or choose another with {flag}") from None
    return Claim(folder, made, created, handle)


def _marker_text(*, made: bool, pid: int | None = None) -> bytes:
    return json.dumps({"painterly": __version__, "made": made, "pid": pid}).encode()


def _read(handle) -> dict:
    try:
        handle.seek(0)
        value = json.loads(handle.read() or "{}")
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _sync_folder(folder: Path) -> None:
    """The rename itself on the disk (best effort: some file systems do not sync folders)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
