"""A video run's work folder (`<output>.work`, or `--work DIR`): what painterly keeps there, and clearing it.

    claim = files.claim(folder)            # painterly's own folder, locked for the run (see `painterly.files`)
    append_record(folder / RECORDS, {...})  # one frame's record, a line of JSON
    left = clear(folder)                   # painterly's files removed; the names of anything else found

painterly writes only these: `job.json` (what decides the frames: a resumed run must match it), `frames.jsonl`
(one record a frame, in frame order), `frames/000000.png …` (the painted frames), and for a run on Ray
`input.json`, `painted.jsonl` and `input/000000.png …` (the decoded input frames), with their temporary files
while they are written, and the marker `.painterly`. `clear` removes those and nothing else: a file someone
else put into the folder stays, and so do the folder and its `frames/` when it holds one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import files
from ..errors import OutputError

JOB, RECORDS = "job.json", "frames.jsonl"
FILES = (JOB, RECORDS, "input.json", "painted.jsonl")  # painterly's files in the folder itself
FOLDERS = ("frames", "input")  # its folders of numbered PNG frames
FRAME = re.compile(r"\d{6}\.png")
TEMPORARY = re.compile(r"\.(\d{6}\.png|" + "|".join(re.escape(name) for name in FILES) + r")\.[0-9a-f.]+\.tmp")


def write_text(path: Path, text: str) -> None:
    """`text` into `path`, atomically (`files.write_atomic`)."""
    files.write_atomic(path, text.encode())


def append_record(path: Path, record: dict) -> None:
    try:
        with open(path, "a") as file:
            file.write(json.dumps(record) + "\n")
    except OSError as error:
        raise OutputError(f"'{path}' could not be written ({error.strerror or error}): check the folder's free "
                          f"space") from None


def read_records(path: Path) -> list[dict]:
    records = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:  # a line cut short by the stop: that frame is painted again
                break
    return records


def write_records(path: Path, records: list[dict]) -> None:
    write_text(path, "".join(json.dumps(r) + "\n" for r in records))


def read_state(folder: Path) -> dict | None:
    """The job.json of the run whose frames are in `folder` (None: none there)."""
    path = folder / JOB
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise OutputError(f"work folder '{folder}' has a damaged job.json: remove the folder, or pass "
                          f"--overwrite to start over") from None


def clear(folder: Path) -> list[str]:
    """Remove the files painterly writes in `folder` (not its marker); the names of the other things found in
    its frame folders, which are left there with those folders."""
    left = []
    for name in FOLDERS:
        frames = folder / name
        if not frames.is_dir():
            continue
        for path in frames.iterdir():
            if path.is_file() and (FRAME.fullmatch(path.name) or TEMPORARY.fullmatch(path.name)):
                path.unlink()
            else:
                left.append(f"{name}/{path.name}")
        if not any(item.startswith(f"{name}/") for item in left):
            frames.rmdir()
    for path in folder.iterdir() if folder.is_dir() else ():
        if path.is_file() and (path.name in FILES or TEMPORARY.fullmatch(path.name)):
            path.unlink()
    return left
