"""`painterly batch`: many pictures at once — contents × styles, or a manifest — into one output folder.

    items = pairs(["photos/"], ["starry.jpg", "styles/*.jpg"], Settings(method="fast"))
    summary = run_batch(items, Path("out/"), ray="local")     # or ray="off", or ray="HOST:6379"
    summary.done, summary.failed, summary.skipped             # item names

Each item is one `runner.run_job` on a worker (`Painter`): in this process with ``ray="off"``, on Ray
actors otherwise (`painterly.cluster`). Whoever runs the batch holds the output folder: the workers send
their pixels back and this process writes every picture atomically, so a picture in the folder is whole.
The folder's record, ``batch.jsonl``, gets one line per finished item (done or failed, with the reason);
running the same batch again skips an item whose picture is there and whose record says it was painted
from the same input files (by content hash) and settings, and retries the rest. A bad input fails its
own item only. Ctrl-C stops the batch; the pictures done so far and their records are kept.

Names are predictable: ``{content}__{style}[+{style}...].{format}`` from the file names, and, only
where two items of the batch would get the same name, ``-{8 hex digits of the item's inputs and
settings}`` after it; a manifest row may name its own output.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import glob
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .errors import InputImageError, OutputError, PainterlyError, SettingsError
from .settings import INITS, Settings

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
RECORD = "batch.jsonl"  # in the output folder: one line per finished item
FORMATS = ("png", "jpg", "webp", "tif")
MANIFEST_COLUMNS = ("content", "style", "styles", "output", "preset")
FAST_PROCESS_BYTES = 120_000_000  # a worker with NumPy and onnxruntime, besides the network (Ray worker's
# peak with the network loaded, painting 32 px: 210 MB; at 512 px: 275 MB against 305 estimated: bench/batch.py)
FAST_IMAGE_BYTES = 5 * 4 * 3  # float32 RGB copies the fast method holds beside its network (methods/fast.py)


@dataclass(frozen=True)
class Item:
    """One picture of a batch: what to paint, with which settings, under which file name."""

    name: str  # the output's file name inside the batch folder
    content: Path
    styles: tuple[Path, ...]
    settings: Settings
    problem: str | None = None  # why this item cannot run (a bad manifest row): it fails with this reason


@dataclass
class Summary:
    """What `run_batch` did."""

    done: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> reason
    skipped: list[str] = dataclasses.field(default_factory=list)  # done before, with the same inputs and settings
    code: int = 0  # 0; 130 (Ctrl-C) or 143 (SIGTERM): stopped, the rest left for the next run
    seconds: float = 0.0
    startup_s: float = 0.0  # connecting to Ray and starting the workers (0 with ray="off")
    workers: int = 1
    error: str | None = None  # why the batch stopped before its end (its record cannot be written); code 2


# -- the items -------------------------------------------------------------------------------------

def expand(patterns: Iterable[str | os.PathLike], role: str) -> list[Path]:
    """Image files named by files, folders (their images, sorted) and globs, in the order given.

    A folder or glob leaves out the pictures a batch painted there (named in that folder's batch.jsonl),
    so a batch whose output folder is its input folder does not paint its own outputs on a rerun; a
    painted picture named on its own is taken."""
    found: list[Path] = []
    painted: dict[Path, set[str]] = {}

    def ours(p: Path) -> bool:
        if p.parent not in painted:
            painted[p.parent] = {name for name, entry in read_record(p.parent).items() if entry.get("state") == "done"}
        return p.name in painted[p.parent]

    for pattern in patterns:
        text = str(pattern)
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file() and not ours(p))
            if not files:
                raise InputImageError(f"{role} folder '{text}' has no images ({', '.join(EXTENSIONS)}): "
                                      f"check the path")
        elif glob.has_magic(text):
            files = sorted(p for p in map(Path, glob.glob(text))
                           if p.suffix.lower() in EXTENSIONS and not ours(p))
            if not files:
                raise InputImageError(f"{role} pattern '{text}' matches no image: check the pattern")
        elif role == "style":  # a painting's name on the shelf works as its file
            from .shelf import resolve

            files = [resolve(text, role="style image", strict=False)]
        else:
            files = [path]  # a missing or unreadable file fails its own items, not the batch
        found += [f for f in files if f not in found]
    if not found:
        raise InputImageError(f"no {role} images given: name files, folders or globs")
    return found


def pairs(contents: Iterable, styles: Iterable, settings: Settings | None = None, *,
          format: str = "png") -> list[Item]:
    """Every content × every style (files, folders or globs), each a picture with `settings`."""
    settings = settings or Settings()
    contents, styles = expand(contents, "content"), expand(styles, "style")
    return named([(c, (s,), settings, None, None) for c in contents for s in styles], format)


def read_manifest(path: str | os.PathLike, settings: Callable[[dict], Settings] | Settings | None = None, *,
                  format: str = "png") -> list[Item]:
    """The items of a CSV (with a header row) or JSONL manifest: a content and its style(s) per row, an
    optional output name, and any setting by its name (`style_weight`) or flag (`--style-weight`).

    In CSV several styles are separated by ';', list settings by spaces; in JSONL they are lists. Paths
    are relative to the manifest's folder. `settings` turns a row's settings into `Settings` (default:
    those settings over `Settings()`); a row whose settings are refused becomes an item that fails with
    the reason, so one bad row does not stop the batch. A column that is no setting refuses the manifest.
    """
    path = Path(path)
    make = settings if callable(settings) else row_settings(base=settings)
    rows = _manifest_rows(path)
    entries = []
    for line, row in rows:
        where = f"manifest '{path}' line {line}"
        content = row.get("content")
        styles = row.get("styles", row.get("style"))
        if isinstance(styles, str):
            styles = [s.strip() for s in styles.split(";") if s.strip()]
        if not content or not styles:
            entries.append((Path(str(content or f"line-{line}")), (), Settings(), None,
                            f"{where} needs a content and at least one style"))
            continue
        paths = [path.parent / Path(str(p)).expanduser() for p in [content, *styles]]
        paths[1:] = [_shelf_or(p, str(s)) for p, s in zip(paths[1:], styles)]  # a style may be a painting's name
        given = {k: v for k, v in row.items() if k not in MANIFEST_COLUMNS and v not in (None, "")}
        problem, chosen = None, Settings()
        try:
            chosen = make({"preset": row.get("preset") or None, **given})
        except PainterlyError as error:
            problem = f"{where}: {error}"
        output = row.get("output") or None
        if output is not None and (Path(str(output)).name != str(output) or not Path(str(output)).suffix):
            raise SettingsError(f"{where}: output '{output}' must be a file name with an extension, "
                                f"without folders (the batch writes into its output folder)")
        entries.append((paths[0], tuple(paths[1:]), chosen, output, problem))
    return named(entries, format)


def row_settings(base: Settings | None = None, preset_name: str = "default",
                 given: dict | None = None) -> Callable[[dict], Settings]:
    """A manifest row's settings -> `Settings`: the row's over the command line's `given` flags over
    the preset (the row's own `preset` column, else `preset_name`); with `base` instead, over `base`.
    Values are parsed exactly as their command-line flags are."""
    from .flags import settings_from_text

    def make(row: dict) -> Settings:
        values = {k: v for k, v in row.items() if k != "preset" and v is not None}
        if base is not None and not row.get("preset"):
            return settings_from_text(values, base=base)
        return settings_from_text(values, row.get("preset") or preset_name, under=given)

    return make


def _manifest_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) of a CSV or JSONL manifest; unknown columns refuse the whole manifest."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputImageError(f"manifest '{path}' does not exist: check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputImageError(f"manifest '{path}' cannot be read ({error}): give a UTF-8 CSV or JSONL file") from None
    rows: list[tuple[int, dict]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise SettingsError(f"manifest '{path}' line {number} is not JSON ({error.msg}): "
                                    f"write one object per line") from None
            if not isinstance(row, dict):
                raise SettingsError(f"manifest '{path}' line {number} is not a JSON object: write one per line")
            rows.append((number, row))
    elif path.suffix.lower() in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        rows = [(number, row) for number, row in enumerate(reader, 2) if any((v or "").strip() for v in row.values())]
        if reader.fieldnames and None in (rows[0][1] if rows else {}):
            raise SettingsError(f"manifest '{path}' has a row with more cells than its header: check the commas")
    else:
        raise SettingsError(f"manifest '{path}' must be .csv or .jsonl")
    _check_columns(path, {key for _, row in rows for key in row})
    return rows


def _shelf_or(path: Path, text: str) -> Path:
    """`path` when it exists, else the shelf's painting named `text`, else `path` (its items fail)."""
    from .shelf import find

    painting = None if path.exists() else find(text)
    return path if painting is None else painting.path


def _check_columns(path: Path, columns: set) -> None:
    import difflib

    settings = {f.name for f in dataclasses.fields(Settings)}
    known = set(MANIFEST_COLUMNS) | settings
    for column in sorted(columns, key=str):
        if str(column).lstrip("-").replace("-", "_") not in known:
            close = difflib.get_close_matches(str(column).lstrip("-").replace("-", "_"), sorted(known), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise SettingsError(f"manifest '{path}' has an unknown column '{column}': {hint}columns are content, "
                                f"style (several separated by ';'), output, preset and the settings by name")


def named(entries: Sequence[tuple], format: str = "png") -> list[Item]:
    """Items with their output names: (content, styles, settings, output or None, problem or None) each."""
    if format not in FORMATS:
        raise SettingsError(f"unknown format '{format}': choose one of {', '.join(FORMATS)}")
    base = [output or f"{_safe(content.stem)}__{'+'.join(_safe(s.stem) for s in styles) or 'none'}.{format}"
            for content, styles, _, output, _ in entries]
    given = [output for _, _, _, output, _ in entries if output]
    twice = sorted({o for o in given if given.count(o) > 1})
    if twice:
        raise SettingsError(f"the manifest names the output '{twice[0]}' more than once: give each row its own")
    items = []
    for (content, styles, settings, output, problem), name in zip(entries, base):
        if output is None and base.count(name) > 1:  # two items would share a name: tell them apart
            stem, suffix = name.rsplit(".", 1)
            name = f"{stem}-{_identity(content, styles, settings)}.{suffix}"
        items.append(Item(name, Path(content), tuple(Path(s) for s in styles), settings, problem))
    names = [item.name for item in items]
    if len(set(names)) != len(names):  # the same picture asked for twice: paint it once
        seen, unique = set(), []
        for item in items:
            if item.name not in seen:
                seen.add(item.name)
                unique.append(item)
        items = unique
    return items


def _safe(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "image"


def _identity(content: Path, styles, settings: Settings) -> str:
    text = json.dumps([str(Path(content).resolve()), [str(Path(s).resolve()) for s in styles], settings.to_dict()],
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


# -- the record of what is done --------------------------------------------------------------------

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


def _append_record(folder: Path, entry: dict) -> None:
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
    from . import images

    try:
        images.load_image(path, role=role)
    except InputImageError as refused:
        return refused
    return InputImageError(f"{role} '{path}' cannot be read ({error.strerror or error}): check the file")


# -- estimates -------------------------------------------------------------------------------------

def estimate_bytes(item: Item) -> int:
    """painterly's own estimate of an item's peak memory (`memory.estimate_peak_bytes`, or the fast
    network's), from the images' headers only: what a worker asks Ray for."""
    from PIL import Image

    from . import backbones, feedforward, images, memory

    s = item.settings

    def size_of(path: Path) -> tuple[int, int]:
        try:
            with Image.open(path) as image:
                return image.size
        except Exception:  # unreadable: the worker will say why; estimate for a square at --size
            side = s.size if isinstance(s.size, int) else 1024
            return side, side

    content = size_of(item.content)
    if s.size == "auto":
        width, height = content
    else:
        width, height = images.output_size(content, s.size, s.size_edge)
    if s.method == "fast":
        return int(FAST_PROCESS_BYTES + feedforward.estimate_peak_bytes(width, height)
                   + FAST_IMAGE_BYTES * width * height)
    layers = list(dict.fromkeys(s.content_layers + s.style_layers))
    model = s.model if s.model != "auto" else "vgg19"
    tile = s.tile if isinstance(s.tile, int) else None
    halo = backbones.required_halo(memory.architecture(model), layers) if tile else 0
    side = max(width, height)
    styles = [images.style_shape(size_of(p), side, s.style_scale, s.style_upscale) for p in item.styles]
    estimate = memory.estimate_peak_bytes(width, height, model=model, layers=layers, optimizer=s.optimizer,
                                          style_sizes=styles, iterations=s.iterations, tile=tile, halo=halo)
    if s.init == "fast":
        estimate += feedforward.estimate_peak_bytes(width, height)
    return int(estimate)


# -- the worker ------------------------------------------------------------------------------------

class Painter:
    """Paints items one after another, keeping its feature network (or the fast network) between them.

    In this process for ``ray="off"``; on a Ray actor otherwise (`painterly.cluster`), where the input
    files come as bytes (a cluster's machines need not share a disk) and the pixels go back.
    `threads`: the arithmetic's threads (TensorFlow's and onnxruntime's); None: their defaults.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self.backbones: dict[tuple, object] = {}
        self.network = None
        self.where = {"node": _node_id(), "pid": os.getpid()}

    def ready(self) -> dict:
        return self.where

    def paint(self, name: str, settings: Settings, files: list[tuple[str, bytes | None]], report: bool = False) -> dict:
        """Paint one item: files is [(path, its bytes or None to read the path)] for the content, the
        styles and an init image. Returns a result dict: state "done" with the pixels (and with `report`,
        the still's report as {file name: bytes}), or "failed" and why."""
        started = time.perf_counter()
        answer = {"name": name, **self.where}
        try:
            with tempfile.TemporaryDirectory(prefix="painterly-batch-") as scratch:
                paths = _materialise(files, Path(scratch))
                try:
                    answer.update(self._run(paths, settings, Path(scratch) / "report" if report else None))
                except PainterlyError as error:
                    message = str(error)
                    for local, (original, _) in zip(paths, files):
                        message = message.replace(str(local), original)
                    answer.update(state="failed", reason=message)
        except Exception as error:  # a bug must fail its item, not the batch
            answer.update(state="failed", reason=f"internal error: {type(error).__name__}: {error}")
        answer["seconds"] = time.perf_counter() - started
        return answer

    def paint_sent(self, name: str, settings: Settings, paths: list[str], *blobs: bytes, report: bool = False) -> dict:
        """`paint` with the files' bytes as separate arguments (Ray hands an actor the bytes behind the
        object references given as arguments, so a style put once serves every item)."""
        return self.paint(name, settings, list(zip(paths, blobs)), report)

    def _run(self, paths: list[Path], settings: Settings, report: Path | None = None) -> dict:
        from . import images
        from .runner import Job, run_job

        init = None
        if settings.init not in INITS:
            init, paths = paths[-1], paths[:-1]
            settings = settings.replace(init=str(init))
        options = {}
        if settings.method == "optimise" and not (settings.model.endswith("-random") and settings.seed is None):
            options["backbone"] = self._backbone(settings)  # (without a seed the run draws one, and its weights)
        else:
            options["network"] = self._network()
        outcome = run_job(Job(paths[0], tuple(paths[1:]), settings, report=report, report_paths=False), **options)
        if outcome.result is None or outcome.code in (130, 143):
            raise KeyboardInterrupt()
        if outcome.failure is not None:
            return {"state": "failed", "reason": str(outcome.failure)}
        result = outcome.result
        answer = {"state": "done", "image": images.to_uint8(result.image), "alpha": result.alpha,
                  "seed": result.metadata.get("seed"), "stopped": result.stopped, "peak_rss_bytes": _peak_rss()}
        if report is not None:  # the files travel back with the pixels: the driver writes them
            answer["report"] = {str(f.relative_to(report)): f.read_bytes() for f in sorted(report.rglob("*"))
                                if f.is_file()}
        return answer

    def _backbone(self, settings: Settings):
        from . import backbones

        key = backbone_key(settings)
        if key not in self.backbones:
            self._threads_for_tensorflow()
            layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
            self.backbones.clear()  # one network held at a time
            self.backbones[key] = backbones.build(settings.model, layers, weights=settings.weights,
                                                  pooling=settings.pooling, border=settings.border,
                                                  precision=settings.precision, seed=settings.seed)
        return self.backbones[key]

    def _network(self):
        if self.network is None:
            from . import feedforward

            self.network = feedforward.network(self.threads)
        return self.network

    def _threads_for_tensorflow(self) -> None:
        from .backbones import import_tensorflow_quietly

        import_tensorflow_quietly()
        if self.threads is not None:
            import tensorflow as tf

            try:
                tf.config.threading.set_intra_op_parallelism_threads(self.threads)
                tf.config.threading.set_inter_op_parallelism_threads(self.threads)
            except RuntimeError:  # TensorFlow already ran something in this process: it keeps its threads
                pass


def backbone_key(s: Settings) -> tuple:
    """Everything the feature network depends on (as backbones.build takes it): random weights are drawn
    from the seed."""
    return (s.model, s.weights, s.pooling, s.border, s.precision,
            tuple(sorted(set(s.content_layers) | set(s.style_layers))),
            s.seed if s.model.endswith("-random") else None)


def _materialise(files: list[tuple[str, bytes | None]], scratch: Path) -> list[Path]:
    """Paths to paint from: the given ones, or the bytes written under `scratch` with their file names."""
    paths = []
    for i, (original, data) in enumerate(files):
        if data is None:
            paths.append(Path(original))
            continue
        folder = scratch / str(i)
        folder.mkdir()
        path = folder / Path(original).name
        path.write_bytes(data)
        paths.append(path)
    return paths


def _node_id() -> str | None:
    """The Ray node this process runs on (None outside Ray; Ray is never imported here for it)."""
    ray = sys.modules.get("ray")
    try:
        if ray is not None and ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    except Exception:
        pass
    return None


def _peak_rss() -> int:
    from . import memory

    return memory.peak_rss_bytes()


# -- running a batch -------------------------------------------------------------------------------

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
    from . import images

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
    from .reports import check_folder, report_files

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


def resolve_models(items: Sequence[Item], notice: Callable[[str], None]) -> list[Item]:
    """Items whose model is "auto" get the model it stands for here, decided once for the batch."""
    from . import backbones

    chosen: dict = {}
    resolved = []
    for item in items:
        s = item.settings
        if s.method == "optimise" and s.model == "auto" and item.problem is None:
            if s.weights not in chosen:
                chosen[s.weights] = backbones.resolve_auto(s.weights, notice)
            item = dataclasses.replace(item, settings=s.replace(model=chosen[s.weights]))
        resolved.append(item)
    return resolved


def run_batch(items: Sequence[Item], folder: str | os.PathLike, *, ray: str = "off", workers: int | None = None,
              threads: int | None = None, overwrite: bool = False, report: str | os.PathLike | None = None,
              listen: Callable[[dict], None] | None = None, notice: Callable[[str], None] | None = None,
              ray_timeout: float | None = None) -> Summary:
    """Paint `items` into `folder` (created if its parent exists) and return what happened.

    ray: "off" (one by one in this process), "local" (Ray started on this machine, on 127.0.0.1, sized to
        its cores) or a cluster's address ("HOST:6379", "auto", "ray://HOST:10001").
    ray_timeout: seconds a cluster's address has to answer (default `cluster.connect_timeout()`: 30).
    workers, threads: Ray actors and threads per actor (default: as many actors as the cluster's CPUs
        allow at `threads` (default 1) each, at most one per item).
    report: a folder for the still's report of each item painted (index.html, tables, graphs), in a folder
        of its own named as the picture without its suffix (`REPORT/chicago__candy/index.html`), written
        by this process like the pictures; an item skipped as done before keeps the report it had.
    listen: called with each finished item's record (also the refused ones); may raise KeyboardInterrupt.
    Ctrl-C (KeyboardInterrupt) stops the batch and keeps what is done: the summary's code is then 130.
    """
    from .interrupts import EXIT_OK, exit_code

    folder = _output_folder(Path(folder))
    started = time.perf_counter()
    say = notice or (lambda message: None)
    items = resolve_models(items, say)
    report = _report_folder(Path(report), folder) if report is not None else None
    todo, skipped, refused = plan(items, folder, overwrite=overwrite, report=report)
    summary = Summary(skipped=skipped)
    finish = _Finisher(folder, summary, listen)
    code = EXIT_OK
    try:
        for name in skipped:
            if listen is not None:
                listen({"name": name, "state": "skipped"})
        for name, reason in refused.items():
            finish.failed(next(i for i in items if i.name == name), reason)
        if todo and ray == "off":
            _run_here(todo, finish, threads)
        elif todo:
            from . import cluster

            cluster.run(todo, finish, painter=Painter, files=task_files, address=ray, workers=workers, threads=threads,
                        summary=summary, notice=say, timeout=ray_timeout)
    except KeyboardInterrupt as stop:
        code = exit_code(stop)
    except RecordError as error:  # a full disk: every later item would fail the same way
        summary.error, code = str(error), 2
    summary.code = code
    summary.seconds = time.perf_counter() - started
    return summary


def _report_folder(folder: Path, output: Path) -> Path:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"report folder '{folder}' is a file: give a folder for the items' reports")
    if not folder.parent.is_dir():
        raise OutputError(f"the folder '{folder.parent}' of the report folder does not exist: create it first")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"report folder '{folder}' cannot be made ({error.strerror}): choose another") from None
    return folder


def _write_report(folder: Path, files: dict[str, bytes]) -> Path:
    """An item's report files, each atomically, index.html last (its presence means the report is whole)."""
    from .reports import _write_atomic, remove_old_snapshots

    remove_old_snapshots(folder)  # the folder was checked (`_check_report`): a report of ours, or none
    names = sorted(files, key=lambda name: name == "index.html")
    for name in names:
        path = folder / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"report folder '{path.parent}' cannot be made ({error.strerror}): choose "
                              f"another --report folder") from None
        _write_atomic(path, files[name])
    return folder / "index.html"


def _output_folder(folder: Path) -> Path:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder '{folder}' is a file: give a folder for the batch's pictures")
    if not folder.parent.is_dir():
        raise OutputError(f"the folder '{folder.parent}' of the output folder does not exist: create it first")
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / f".painterly-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputError(f"output folder '{folder}' cannot be written ({error.strerror}): "
                          f"check its permissions or choose another") from None
    return folder


def _run_here(todo: list[Task], finish: "_Finisher", threads: int | None) -> None:
    painter = Painter(threads)
    for task in todo:
        task.attempts += 1
        task.sent = time.perf_counter()
        finish.result(task, painter.paint(task.item.name, task.item.settings, task_files(task, False),
                                          task.report is not None))


class _Finisher:
    """Writes each finished item's picture atomically and its line of the record, then tells `listen`."""

    def __init__(self, folder: Path, summary: Summary, listen):
        self.folder, self.summary, self.listen = folder, summary, listen

    def result(self, task: Task, answer: dict) -> None:
        from . import images
        from .interrupts import deferred_stop

        item = task.item
        entry = self._entry(item, task.key, task.attempts)
        entry.update({k: answer.get(k) for k in ("node", "pid", "seconds", "seed", "peak_rss_bytes")
                      if answer.get(k) is not None})
        entry["estimated_bytes"] = task.memory
        entry["turnaround_s"] = time.perf_counter() - task.sent
        with deferred_stop() as stops:  # a Ctrl-C while a picture is written waits for the write
            if answer["state"] == "done":
                try:
                    written = images.save_or_rescue(task.output, answer["image"], answer.get("alpha"))
                except PainterlyError as error:
                    answer = {"state": "failed", "reason": str(error)}
                else:
                    if written != task.output:
                        answer = {"state": "failed", "reason": f"output '{task.output}' could not be written: "
                                                               f"the picture was saved to '{written}' instead"}
                    elif task.report is not None and answer.get("report"):
                        try:
                            entry["report"] = str(_write_report(task.report, answer["report"]))
                        except PainterlyError as error:
                            answer = {"state": "failed", "reason": f"the picture was written, its report not: {error}"}
            entry["state"] = answer["state"]
            if answer["state"] != "done":
                entry["reason"] = answer.get("reason", "unknown")
            _append_record(self.folder, entry)
        self._count(entry)
        if stops:
            raise stops[0]

    def failed(self, item: Item, reason: str, key: str | None = None, attempts: int = 0) -> None:
        entry = {**self._entry(item, key, attempts), "state": "failed", "reason": reason}
        _append_record(self.folder, entry)
        self._count(entry)

    def _entry(self, item: Item, key: str | None, attempts: int) -> dict:
        return {"name": item.name, "content": str(item.content), "styles": [str(s) for s in item.styles],
                "settings": item.settings.to_dict(), "key": key, "attempts": attempts,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def _count(self, entry: dict) -> None:
        if entry["state"] == "done":
            self.summary.done.append(entry["name"])
        else:
            self.summary.failed[entry["name"]] = entry["reason"]
        if self.listen is not None:
            self.listen(entry)


# -- the command -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from .flags import Parser, add_settings_flags
    from .settings import PRESETS

    parser = Parser(prog="painterly batch", formatter_class=argparse.RawDescriptionHelpFormatter,
                    description="Paint many pictures: every CONTENT with every --styles image, or the rows of "
                                "a --manifest, into one output folder, on Ray or in this process.",
                    epilog="Examples:\n"
                           "  painterly batch photos/ --styles starry.jpg 'styles/*.jpg' -o painted/ --method fast\n"
                           "  painterly batch --manifest jobs.csv -o painted/ --ray 10.0.0.5:6379\n\n"
                           "A manifest (CSV with a header, or JSONL) has a row per picture: content, style (several "
                           "separated by ';'), optionally output (a file name) and preset, and any setting by "
                           "name (size, style_weight, method, ...). Running the same command again skips what "
                           "is done and retries what failed; OUT_DIR/batch.jsonl records each item.")
    parser.add_argument("contents", nargs="*", metavar="CONTENT", help="content photos: files, folders or globs")
    parser.add_argument("--styles", nargs="+", default=[], metavar="STYLE", help="style images: files, folders, globs")
    parser.add_argument("--manifest", metavar="FILE", help="a CSV or JSONL file of items instead of CONTENT × STYLE")
    parser.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="folder for the pictures")
    parser.add_argument("--format", default="png", choices=FORMATS, help="the pictures' file format (png)")
    parser.add_argument("--ray", default="off", metavar="off|local|ADDRESS",
                        help="off (the default): one by one here; local: Ray on this machine (worth it for many "
                             "optimised pictures on many cores: it takes seconds to start); ADDRESS: join that "
                             "cluster (`ray start --head` prints it)")
    parser.add_argument("--ray-timeout", type=float, metavar="S", help="seconds a cluster's ADDRESS has to answer "
                        "before the batch gives up (default: PAINTERLY_RAY_TIMEOUT, else 30)")
    parser.add_argument("--workers", type=int, metavar="N", help="Ray actors (default: the CPUs over --threads)")
    parser.add_argument("--threads", type=int, metavar="N", help="threads per actor (default 1)")
    parser.add_argument("--preset", default="default", help=f"named settings: {', '.join(PRESETS)}")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace pictures in OUT_DIR that this batch did not paint from these inputs")
    parser.add_argument("--report", metavar="DIR", help="each item's report (as painterly's --report for one "
                        "picture) in a folder of its own: DIR/<picture name>/index.html")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_settings_flags(parser)
    return parser


def main(argv: Sequence[str]) -> int:
    from .flags import ignored_flags, settings_from

    args = build_parser().parse_args(list(argv))
    settings = settings_from(args)
    for value, flag in ((args.workers, "--workers"), (args.threads, "--threads")):
        if value is not None and value < 1:
            raise SettingsError(f"{flag} {value} must be at least 1")
    if args.manifest:
        if args.contents or args.styles:
            raise SettingsError("give either --manifest or CONTENT and --styles, not both")
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if hasattr(args, f.name)}
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
        items = read_manifest(args.manifest, row_settings(preset_name=args.preset, given=given), format=args.format)
    else:
        if not args.contents or not args.styles:
            raise SettingsError("give CONTENT photos and --styles images (files, folders or globs), or --manifest")
        items = pairs(args.contents, args.styles, settings, format=args.format)
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    for name in ignored_flags(args, settings):
        say(f"painterly: {name} applies to --method optimise only: ignored with --method {settings.method}")
    where = args.ray
    if where != "off":
        from .cluster import check_address, require_ray

        require_ray(where)  # before anything imports Ray: a loopback address must stay loopback
        check_address(where, args.ray_timeout)  # Ray itself would retry an address where nothing answers
        say("painterly: starting Ray on this machine (--ray local)" if where == "local" else
            f"painterly: joining the Ray cluster at {where}")
    progress = Progress(len(items), enabled=not args.quiet and sys.stderr.isatty(), say=say)
    with progress:
        summary = run_batch(items, args.output, ray=where, workers=args.workers, threads=args.threads,
                            overwrite=args.overwrite, report=args.report, listen=progress.update,
                            notice=lambda m: progress.say(f"painterly: {m}"), ray_timeout=args.ray_timeout)
    for name, reason in summary.failed.items():
        print(f"painterly: failed: {name}: {reason}", file=sys.stderr)
    if summary.error is not None:
        print(f"painterly: error: {summary.error}", file=sys.stderr)
        return summary.code
    rate = len(summary.done) / summary.seconds * 3600 if summary.seconds and summary.done else 0
    say(f"painterly: batch {'stopped' if summary.code else 'finished'} in {summary.seconds:.1f} s: "
        f"{len(summary.done)} painted, {len(summary.skipped)} skipped (done before), {len(summary.failed)} failed"
        + (f"; {rate:.0f} pictures an hour" if rate else "") + f"; record in {Path(args.output) / RECORD}")
    if summary.code:
        return summary.code
    return 2 if summary.failed else 0


class Progress:
    """A bar over the batch's items with the time left (rich); one line per item when disabled."""

    def __init__(self, total: int, *, enabled: bool, say: Callable[[str], None]):
        self.total, self.enabled, self._say = total, enabled, say
        self.bar = self.task = None
        self.counts = {"done": 0, "failed": 0}

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[counts]}"), TextColumn("left"), TimeRemainingColumn())
            self.bar.__enter__()
            self.task = self.bar.add_task("batch", total=self.total, counts="")
        return self

    def say(self, message: str) -> None:
        if self.bar is not None:
            self.bar.console.print(message, markup=False, highlight=False)
        else:
            self._say(message)

    def update(self, entry: dict) -> None:
        if entry["state"] == "skipped":  # done before: not counted in the bar, nor in its time left
            self.total -= 1
            if self.bar is not None:
                self.bar.update(self.task, total=self.total)
            return
        self.counts[entry["state"]] = self.counts.get(entry["state"], 0) + 1
        done = sum(self.counts.values())
        if self.bar is not None:
            self.bar.update(self.task, completed=done,
                            counts=f"{self.counts['done']} done, {self.counts['failed']} failed")
            return
        took = f" in {entry['seconds']:.1f} s" if "seconds" in entry else ""
        self._say(f"painterly: {done}/{self.total} {entry['state']} {entry['name']}{took}"
                  + (f": {entry['reason']}" if entry["state"] != "done" else ""))

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
            self.bar = None
        return False
