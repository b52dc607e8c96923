"""A batch's plan: which items to paint (a `Task` each), which are done before, which are refused now, and
what each one's inputs hash to and may cost in memory.

An item is skipped when its picture is in the folder and the record says it was painted from the same
input files (by content hash) and settings; an output the batch did not write is refused unless
``overwrite``; a bad input refuses its own item only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .. import methods
from ..errors import InputImageError, OutputError, PainterlyError
from ..settings import INITS, Settings
from .items import Item
from .records import read_record



@dataclass
class Task:
    """An item ready to paint: where it goes, its key and its estimated memory."""

    item: Item
    output: Path
    key: str
    memory: int
    attempts: int = 0
    sent: float = 0.0
    report: Path | None = None  # the item's report folder (REPORT_DIR/<name without its suffix>)


def plan(items: Sequence[Item], folder: Path, *, overwrite: bool = False, report: Path | None = None):
    """(tasks to paint, names skipped, {name: reason} refused now) for these items in `folder`; with
    `report`, each task's report goes into a folder of its own under it."""
    from .. import images

    records = read_record(folder)
    digests: dict[Path, str] = {}
    todo, skipped, refused = [], [], {}
    for item in items:
        output = folder / item.name
        if item.problem is not None:
            refused[item.name] = item.problem
            continue
        try:
            key = _key_or_error(item, digests)
            record = records.get(item.name)
            if record and record.get("state") == "done" and record.get("key") == key and output.is_file():
                skipped.append(item.name)
                continue
            if output.exists() and not overwrite:
                why = ("was painted from other inputs or settings" if record and record.get("state") == "done"
                       else "already exists and was not written by this batch")
                raise OutputError(f"output '{output}' {why}: pass --overwrite to replace it, or move it")
            images.check_output(output, overwrite=True, inputs=[item.content, *item.styles])
            pages = report / Path(item.name).stem if report is not None else None
            if pages is not None:
                _check_report(pages, item, overwrite or _wrote_report(record, pages))
        except PainterlyError as error:
            refused[item.name] = str(error)
            continue
        todo.append(Task(item, output, key, estimate_bytes(item), report=pages))
    return todo, skipped, refused


def _check_report(folder: Path, item: Item, overwrite: bool) -> None:
    """As the still command checks its report folder: never an input or a user's file; a report only with
    `overwrite`."""
    from ..reports import check_folder, report_files

    inputs = [item.content, *item.styles] + ([Path(item.settings.init)] if item.settings.init not in INITS else [])
    check_folder(folder, report_files(len(item.styles)), overwrite=overwrite, inputs=inputs)


def _wrote_report(record: dict | None, folder: Path) -> bool:
    """Whether this batch's record says it wrote the report in `folder` (a rerun may then replace it)."""
    written = (record or {}).get("report")
    return bool(written) and Path(written).resolve() == (folder / "index.html").resolve()


def _key_or_error(item: Item, digests: dict[Path, str]) -> str:
    roles = [(item.content, "content image")]
    several = len(item.styles) > 1
    roles += [(s, f"style image {i + 1}" if several else "style image") for i, s in enumerate(item.styles)]
    if item.settings.init not in INITS:
        roles.append((Path(item.settings.init), "init image"))
    for path, role in roles:
        try:
            _digest(path, digests)
        except OSError as error:
            raise input_error(path, role, error) from None
    return item_key(item, digests)


def task_files(task: Task, send_bytes: bool) -> list[tuple[str, bytes | None]]:
    """The item's input files for a worker: paths only, or with their bytes (for another machine)."""
    paths = [task.item.content, *task.item.styles]
    if task.item.settings.init not in INITS:
        paths.append(Path(task.item.settings.init))
    return [(str(p), p.read_bytes() if send_bytes else None) for p in paths]



def item_key(item: Item, digests: dict[Path, str]) -> str:
    """What decides the picture: every input file's content hash, the settings and the format."""
    files = [item.content, *item.styles]
    if item.settings.init not in INITS:
        files.append(Path(item.settings.init))
    parts = [_digest(path, digests) for path in files]
    text = json.dumps([parts, item.settings.to_dict(), Path(item.name).suffix.lower()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(path: Path, cache: dict[Path, str]) -> str:
    if path not in cache:
        with open(path, "rb") as file:
            cache[path] = hashlib.file_digest(file, "sha256").hexdigest()
    return cache[path]


def input_error(path: Path, role: str, error: OSError) -> InputImageError:
    """The one-line message for an input file that cannot be read (as `images.load_image` words it)."""
    from .. import images

    try:
        images.load_image(path, role=role)
    except InputImageError as refused:
        return refused
    return InputImageError(f"{role} '{path}' cannot be read ({error.strerror or error}): check the file")



def estimate_bytes(item: Item) -> int:
    """painterly's own estimate of an item's peak memory (`estimate_peak`): what a worker asks Ray for."""
    return estimate_peak(item.content, item.styles, item.settings)


def estimate_peak(content: Path, styles: Sequence[Path], s: Settings) -> int:
    """painterly's own estimate of the peak memory of painting `content` in `styles` with `s`
    (`memory.estimate_peak_bytes`, or the fast network's), from the images' headers only. An unreadable
    image is estimated as a square at `s.size`."""
    from PIL import Image

    from .. import images

    def size_of(path: Path) -> tuple[int, int]:
        try:
            with Image.open(path) as image:
                return image.size
        except Exception:  # unreadable: the worker will say why; estimate for a square at --size
            side = s.size if isinstance(s.size, int) else 1024
            return side, side

    shape = size_of(Path(content))
    if s.size == "auto":
        width, height = shape
    else:
        width, height = images.output_size(shape, s.size, s.size_edge)
    return methods.get(s.method).estimate_bytes(s, (width, height), [size_of(p) for p in styles])


def resolve_models(items: Sequence[Item], notice: Callable[[str], None]) -> list[Item]:
    """Items whose settings leave a choice to the machine (`Method.resolve`: --model auto) get what it stands for
    here, decided once for the batch."""
    chosen: dict = {}  # (method, model, weights) -> the settings fields the method's resolve changed
    resolved = []
    for item in items:
        s = item.settings
        if item.problem is None:
            key = (s.method, s.model, s.weights)
            if key not in chosen:
                decided = methods.get(s.method).resolve(s, notice)
                chosen[key] = {f.name: getattr(decided, f.name) for f in dataclasses.fields(s)
                               if getattr(decided, f.name) != getattr(s, f.name)}
            if chosen[key]:
                item = dataclasses.replace(item, settings=s.replace(**chosen[key]))
        resolved.append(item)
    return resolved

