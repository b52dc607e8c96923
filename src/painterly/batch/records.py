"""A batch's record of what is done: ``batch.jsonl`` in the output folder, one line per finished item.

The last line of an item's name is its state (done or failed, with the reason); a torn last line is ignored,
and a line is appended whole or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ..errors import OutputError

RECORD = "batch.jsonl"  # in the output folder: one line per finished item


def read_record(folder: Path) -> dict[str, dict]:
    """The last record of each item name in the folder's batch.jsonl (a torn last line is ignored)."""
    records: dict[str, dict] = {}
    try:
        lines = (folder / RECORD).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return records
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and "name" in entry:
            records[entry["name"]] = entry
    return records


class RecordError(OutputError):
    """The folder's record cannot be written (a full disk): the batch stops, keeping what is done."""


def append_record(folder: Path, entry: dict) -> None:
    """One line more in the record, whole or not at all: a write that fails (a full disk) is cut back off,
    so the record never holds half a line, and the batch stops (`RecordError`)."""
    path = folder / RECORD
    line = memoryview((json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            start = os.lseek(handle, 0, os.SEEK_END)
            try:
                while line:
                    line = line[os.write(handle, line):]
                os.fsync(handle)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(handle, start)  # no half line left behind
                raise
        finally:
            os.close(handle)
    except OSError as error:
        raise RecordError(f"the batch's record '{path}' cannot be written ({error.strerror or error}): free "
                          f"some space or check the folder, then run the same command again (what is done is "
                          f"kept)") from None

