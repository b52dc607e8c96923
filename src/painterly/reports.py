"""The paper's outputs for one run, written into a folder.

`Report` is fed every `Iterate` record as it arrives (`add`), keeps snapshots of chosen steps on disk,
and at the end (`finish`) writes the loss tables (the paper's Tables II-III), the two bar graphs
(figures 18-19), a contact sheet of the snapshots (figures 10-17), the metadata and one self-contained
`index.html` that shows them all. Every file is written atomically (a temporary file in the same folder,
then `os.replace`), so a reader never sees half a file.

NumPy, Pillow and matplotlib only; matplotlib is imported inside the graph functions, never at import.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from painterly import images
from painterly.errors import OutputError
from painterly.events import Iterate, Result

TERMS = ("content", "style", "tv")  # the still-image objective's terms; a run with more gets a column for each


def columns(terms: Sequence[str] = TERMS) -> tuple[str, ...]:
    """The loss table's columns: one per loss term, by the term's name, between the total and the rest."""
    return ("scale", "iteration", "width", "height", "total", *terms, "improvement_pct", "elapsed_s", "evaluations")


def term_names(history: Iterable[Iterate]) -> tuple[str, ...]:
    """Every term name the records carry, the still-image terms first, then others as they appear."""
    names = dict.fromkeys(TERMS)
    for record in history:
        names.update(dict.fromkeys(record.terms))
    return tuple(names)


COLUMNS = columns()
REPORT_MARKERS = ("index.html", "table.csv")  # files whose presence means "a report lives here"
SNAPSHOT_DIR = "iterations"
SNAPSHOT_NAME = re.compile(r"s\d+_\d{5}\.png")
MAX_TILES = 24  # contact sheet: evenly subsampled above this, first and last always kept
TILE_MAX = 256  # contact sheet: longest tile side, in pixels
TILE_MIN = 128  # contact sheet: small images are scaled up to this so they stay visible
HTML_ROWS = 100  # html table: rows shown at each end when a run has more than 2 * HTML_ROWS
HTML_PREVIEW_MAX = 1024  # html: input images larger than this are embedded as a smaller preview


# ---------------------------------------------------------------------------------------------- table


def loss_table(history: Sequence[Iterate]) -> list[dict]:
    """One row per record, with the improvement over the previous step of the same scale."""
    rows = []
    previous: Iterate | None = None
    terms = term_names(history)
    for record in history:
        same_scale = previous is not None and previous.scale == record.scale
        rows.append(
            {
                "scale": int(record.scale),
                "iteration": int(record.step),
                "width": int(record.size[0]),
                "height": int(record.size[1]),
                "total": float(record.loss),
                **{term: float(record.terms.get(term, 0.0)) for term in terms},
                "improvement_pct": _improvement(previous.loss, record.loss) if same_scale else 0.0,
                "elapsed_s": float(record.elapsed),
                "evaluations": int(record.evaluations),
            }
        )
        previous = record
    return rows


def _improvement(before: float, after: float) -> float:
    """Percentage drop from `before` to `after` (negative when the loss rose); 0 when `before` is 0."""
    before, after = float(before), float(after)
    return 0.0 if before == 0.0 else (before - after) / before * 100.0


# --------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class _Snapshot:
    scale: int
    step: int
    scales: int
    path: Path


class Report:
    """Collects a run's records and writes its report folder.

    directory: the report folder; its parent must exist. A folder already holding a report is refused
        unless `overwrite` is true.
    save_every: save the image of every step that is a multiple of this (0 included) as
        `iterations/s{scale}_{step:05d}.png`; the last step of each scale is saved too. 0 saves none.
    """

    def __init__(self, directory: str | os.PathLike, *, save_every: int = 0, overwrite: bool = False,
                 styles: int = 1, inputs: Iterable = ()):
        """styles: how many style images the run has (their copies are report files too); inputs: the
        run's input files, which the report never replaces, with or without `overwrite`."""
        if save_every < 0:
            raise OutputError(f"save_every must be 0 (off) or a positive number of steps, not {save_every}.")
        self.directory = Path(directory)
        self.save_every = int(save_every)
        self.inputs = [Path(p) for p in inputs if p is not None]
        self.names = report_files(styles)
        self._check_folder(overwrite)
        self._make_folder()
        self._stale = overwrite  # an old report's snapshots, removed once the run has begun (after every check)
        self._snapshots: list[_Snapshot] = []
        self._latest: Iterate | None = None

    def add(self, record: Iterate) -> None:
        """Take one record; save its image now when its step is due."""
        if self._stale:
            self._remove_old_snapshots()
        latest = self._latest
        if latest is not None and latest.scale != record.scale:
            self._save_if_unsaved(latest)  # the last step of the scale that just ended
        if record.image is not None:
            self._latest = record
            if self.save_every > 0 and record.step % self.save_every == 0:
                self._save_snapshot(record)

    def finish(self, result: Result, inputs: Mapping[str, np.ndarray]) -> Path:
        """Write every output of the run and return the path of `index.html`."""
        if self._stale:
            self._remove_old_snapshots()
        if self._latest is not None:
            self._save_if_unsaved(self._latest)
        rows = loss_table(result.history)
        files = _build_files(result, inputs, rows, self._snapshots)
        for name, data in files.items():
            _write_atomic(self.directory / name, data)
        page = _html_page(result, inputs, rows, files, self._snapshot_note())
        index = self.directory / "index.html"
        _write_atomic(index, page.encode("utf-8"))  # last, so its presence means the report is whole
        return index

    # -- folder checks --------------------------------------------------------------------------------

    def _check_folder(self, overwrite: bool) -> None:
        check_folder(self.directory, self.names, overwrite=overwrite, inputs=self.inputs)

    def _make_folder(self) -> None:
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError as error:
            raise OutputError(
                f"Report folder {self.directory} cannot be created ({error.strerror or error}); "
                "choose another folder."
            ) from error

    def _remove_old_snapshots(self) -> None:
        remove_old_snapshots(self.directory)
        self._stale = False

    # -- snapshots ------------------------------------------------------------------------------------

    def _save_if_unsaved(self, record: Iterate) -> None:
        last = self._snapshots[-1] if self._snapshots else None
        if self.save_every > 0 and (last is None or (last.scale, last.step) != (record.scale, record.step)):
            self._save_snapshot(record)

    def _save_snapshot(self, record: Iterate) -> None:
        folder = self.directory / SNAPSHOT_DIR
        _make_dir(folder)
        path = folder / f"s{record.scale}_{record.step:05d}.png"
        _write_atomic(path, _png_bytes(_to_pil(record.image)))
        self._snapshots.append(_Snapshot(record.scale, record.step, record.scales, path))

    def _snapshot_note(self) -> str:
        if self.save_every == 0:
            return "No per-iteration images were saved (save_every was 0), so there is no contact sheet."
        if not self._snapshots:
            return "No per-iteration images were recorded, so there is no contact sheet."
        return ""


def check_folder(folder: Path, names: Sequence[str], *, overwrite: bool, inputs: Iterable[Path] = ()) -> None:
    """Refuse a report folder whose report files (`names`) would replace an input (always), a report
    (unless `overwrite`) or files no painterly report wrote (always). Raises OutputError."""
    folder = Path(folder)
    if not folder.parent.is_dir():
        raise OutputError(
            f"Report folder {folder} cannot be created: its parent {folder.parent} does not exist; "
            "create it first or choose another folder."
        )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"Report path {folder} is a file, not a folder; choose another folder.")
    for name in names:
        if any(images.same_file((folder / name).resolve(), Path(source)) for source in inputs):
            raise OutputError(f"Report folder {folder} holds the input {folder / name}, which a report would "
                              "replace and inputs are never overwritten: choose another folder.")
    existing = [name for name in REPORT_MARKERS if (folder / name).exists()]
    if existing and not overwrite:
        raise OutputError(
            f"Report folder {folder} already holds a report ({', '.join(existing)}); "
            "pass --overwrite to replace it or choose another folder."
        )
    clashing = [name for name in names if (folder / name).exists()]
    if clashing and not existing:  # files of the user's own that happen to have a report's names
        shown = ", ".join(clashing[:3]) + (" …" if len(clashing) > 3 else "")
        raise OutputError(f"Report folder {folder} holds {shown}, which a report would replace and no "
                          "painterly report wrote: choose an empty or new folder.")


def remove_old_snapshots(folder: Path) -> None:
    """An overwritten report must not show a previous run's snapshots: remove only files we name."""
    snapshots = Path(folder) / SNAPSHOT_DIR
    if snapshots.is_dir():
        for path in snapshots.iterdir():
            if SNAPSHOT_NAME.fullmatch(path.name) and path.is_file():
                path.unlink()


def report_files(styles: int = 1) -> list[str]:
    """The names of the files a report writes at its top level (snapshots go in SNAPSHOT_DIR)."""
    inputs = ["content"] + ["style" if i == 0 else f"style {i + 1}" for i in range(styles)]
    return ["result.png", *map(_input_filename, inputs), *TABLE_WRITERS, *GRAPHS, "contact_sheet.png",
            "metadata.json", "index.html"]


def has_losses(result: Result) -> bool:
    """Whether the run minimised a loss (the optimisation) rather than painting in one pass (fast)."""
    return not result.history or any(math.isfinite(record.loss) for record in result.history)


def _build_files(
    result: Result,
    inputs: Mapping[str, np.ndarray],
    rows: list[dict],
    snapshots: Sequence[_Snapshot],
) -> dict[str, bytes]:
    """Every file of the report except index.html, by name, in the order they are written."""
    files = {"result.png": _png_bytes(_to_pil(result.image, result.alpha))}
    files.update({_input_filename(name): _png_bytes(_to_pil(image)) for name, image in inputs.items()})
    if not has_losses(result):  # a feed-forward method: one picture, nothing minimised, no table to draw
        files["metadata.json"] = _json_bytes(_metadata(result))
        return files
    files.update({name: writer(rows) for name, writer in TABLE_WRITERS.items()})
    files.update({name: graph(rows) for name, graph in GRAPHS.items()})
    if snapshots:
        chosen = _subsample(list(snapshots), MAX_TILES)
        several = len({s.scale for s in snapshots}) > 1 or any(s.scales > 1 for s in snapshots)
        captions = [f"s{s.scale} Itn-{s.step}" if several else f"Itn-{s.step}" for s in chosen]
        files["contact_sheet.png"] = _png_bytes(contact_sheet([s.path for s in chosen], captions))
    files["metadata.json"] = _json_bytes(_metadata(result))
    return files


# ---------------------------------------------------------------------------------------- file output


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then move it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 lets the umask decide the permissions, as a plain open() would
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(
            f"Cannot write {path} ({error.strerror or error}); check the folder's permissions and free space."
        ) from error


def _make_dir(folder: Path) -> None:
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"Cannot create {folder} ({error.strerror or error}); check the folder.") from error


def _to_pil(image: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """uint8 or float (0..255) HxW, HxWx1, HxWx3 or HxWx4 array -> Pillow image, with `alpha` if it fits."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(np.nan_to_num(array.astype(np.float32)), 0, 255).round().astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if alpha is not None and array.ndim == 3 and array.shape[2] == 3 and np.shape(alpha) == array.shape[:2]:
        array = np.dstack([array, np.asarray(alpha, dtype=np.uint8)])
    return Image.fromarray(np.ascontiguousarray(array))


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


_OWN_PNGS = frozenset({"result.png", "loss.png", "improvement.png", "contact_sheet.png"})


def _input_filename(name: str) -> str:
    """"content" -> content.png, "style 2" -> style_2.png; never one of the report's own file names."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "input"
    filename = f"{stem}.png"
    return f"input_{filename}" if filename in _OWN_PNGS else filename


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns_of(rows), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)  # floats are written with repr: full precision
    return buffer.getvalue().encode("utf-8")


def _table_json_bytes(rows: list[dict]) -> bytes:
    return _json_bytes({"columns": list(_columns_of(rows)), "rows": rows})


def _columns_of(rows: list[dict]) -> tuple[str, ...]:
    return tuple(rows[0]) if rows else COLUMNS


def _terms_of(rows: list[dict]) -> tuple[str, ...]:
    names = _columns_of(rows)
    return names[names.index("total") + 1:names.index("improvement_pct")]


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(_jsonable(value), indent=2, allow_nan=False) + "\n").encode("utf-8")


def _jsonable(value: Any) -> Any:
    """Plain JSON values from numpy scalars and arrays, tuples, sets, paths; NaN and infinities -> null."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _metadata(result: Result) -> dict:
    best = result.best if result.history and has_losses(result) else None
    return {
        **dict(result.metadata),
        "stopped": result.stopped,
        "best": None if best is None else {"iteration": best.step, "scale": best.scale, "loss": best.loss},
    }


def without_paths(value):
    """Metadata fit to show a stranger: file names instead of paths, no platform string."""
    if isinstance(value, dict):
        return {key: without_paths(item) for key, item in value.items() if key != "platform"}
    if isinstance(value, (list, tuple)):
        return [without_paths(item) for item in value]
    if isinstance(value, str) and (os.path.isabs(value) or value.startswith("~") or "\\" in value):
        return value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return value


TABLE_WRITERS: dict[str, Callable[[list[dict]], bytes]] = {
    "table.csv": _csv_bytes,
    "table.json": _table_json_bytes,
}


# --------------------------------------------------------------------------------------------- graphs


def loss_graph(rows: Sequence[Mapping]) -> bytes:
    """Figure 18: total loss per iteration, one panel per scale, log axis when it spans > 2 decades."""
    return _bar_graph(
        rows,
        key="total",
        title="Current loss value vs iteration",
        ylabel="Current loss value",
        label=_short_number,
        log_when_wide=True,
    )


def improvement_graph(rows: Sequence[Mapping]) -> bytes:
    """Figure 19: improvement over the previous iteration, in percent, one panel per scale."""
    return _bar_graph(
        rows,
        key="improvement_pct",
        title="Improvement % vs iteration",
        ylabel="Improvement (%)",
        label=lambda v: f"{v:.1f}%",
        log_when_wide=False,
    )


GRAPHS: dict[str, Callable[[Sequence[Mapping]], bytes]] = {
    "loss.png": loss_graph,
    "improvement.png": improvement_graph,
}

_LABEL_BARS_UP_TO = 12  # bars get their value written above them up to this many per panel
_TICK_EVERY_UP_TO = 20  # every iteration gets a tick up to this many per panel


def _bar_graph(
    rows: Sequence[Mapping],
    *,
    key: str,
    title: str,
    ylabel: str,
    label: Callable[[float], str],
    log_when_wide: bool,
) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = _rows_by_scale(rows)
    figure = Figure(figsize=(9.0, 1.2 + 3.0 * max(1, len(panels))), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=14, fontweight="bold")
    if not panels:
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.text(0.5, 0.5, "No iterations were recorded.", ha="center", va="center", fontsize=12)
    colours = ["#3b6ea8", "#d9822b", "#4f9a55", "#b5484b", "#7d5ba6", "#8c6d4f", "#c45c9c", "#6b6b6b"]
    for index, (scale, panel_rows) in enumerate(panels.items()):
        axes = figure.add_subplot(len(panels), 1, index + 1)
        _draw_bars(axes, panel_rows, key, label, log_when_wide, colours[index % len(colours)])
        axes.set_ylabel(ylabel)
        if len(panels) > 1:
            first = panel_rows[0]
            axes.set_title(f"Scale {scale} ({first['width']}\u00d7{first['height']} px)", fontsize=11)
        if index == len(panels) - 1:
            axes.set_xlabel("Iteration")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


_ROSE = "#c0504d"  # improvement bars where the loss rose


def _short_number(value: float) -> str:
    """299M, 19.2M, 4.5k, 0.0123: three significant digits with an SI suffix for bar labels."""
    magnitude = abs(value)
    for power, suffix in ((12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if magnitude >= 10**power:
            return f"{value / 10**power:.3g}{suffix}"
    return f"{value:.3g}"


def _rows_by_scale(rows: Iterable[Mapping]) -> dict[int, list[Mapping]]:
    panels: dict[int, list[Mapping]] = {}
    for row in rows:
        panels.setdefault(row["scale"], []).append(row)
    return panels


def _draw_bars(axes, rows, key, label, log_when_wide, colour) -> None:
    from matplotlib import ticker

    steps = [row["iteration"] for row in rows]
    values = np.array([row[key] for row in rows], dtype=float)
    values[~np.isfinite(values)] = np.nan  # a bar that cannot be drawn is left out, not a crash
    many = len(rows) > 60
    colours = [_ROSE if key == "improvement_pct" and v < 0 else colour for v in values]
    bars = axes.bar(steps, values, width=1.0 if many else 0.75, color=colours, linewidth=0)
    positive = values[np.isfinite(values) & (values > 0)]
    if log_when_wide and positive.size and positive.max() / positive.min() > 100.0:
        axes.set_yscale("log")
        axes.set_ylim(bottom=positive.min() / 2.0, top=positive.max() * 2.0)
    elif key == "total":
        axes.yaxis.set_major_formatter(ticker.EngFormatter())
    if key == "improvement_pct":
        axes.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=100))
        axes.axhline(0.0, color="#444444", linewidth=0.8)
    if len(rows) <= _LABEL_BARS_UP_TO:
        texts = ["" if not np.isfinite(v) else label(v) for v in values]
        axes.bar_label(bars, labels=texts, padding=2, fontsize=8)
        axes.margins(y=0.15)
    if len(rows) <= _TICK_EVERY_UP_TO:
        axes.set_xticks(steps)
    else:
        axes.xaxis.set_major_locator(ticker.MaxNLocator(nbins=12, integer=True))
    axes.set_xlim(min(steps) - 0.75, max(steps) + 0.75)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


# -------------------------------------------------------------------------------------- contact sheet


def contact_sheet(paths: Sequence[Path], captions: Sequence[str]) -> Image.Image:
    """Images in a grid of up to 6 columns, each with its caption under it (the paper's figures 10-17)."""
    tiles = _tiles(paths)
    font = _font(16)
    pad, caption_h = 10, 26
    cell_w = max(max(t.width for t in tiles), max(_text_width(font, c) for c in captions) + 8)
    cell_h = max(t.height for t in tiles) + caption_h
    rows = math.ceil(len(tiles) / 6)
    cols = math.ceil(len(tiles) / rows)
    sheet = Image.new("RGB", (pad + cols * (cell_w + pad), pad + rows * (cell_h + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (tile, caption) in enumerate(zip(tiles, captions)):
        x = pad + (index % cols) * (cell_w + pad)
        y = pad + (index // cols) * (cell_h + pad)
        image_h = cell_h - caption_h
        sheet.paste(tile, (x + (cell_w - tile.width) // 2, y + (image_h - tile.height) // 2))
        centre = (x + cell_w / 2, y + image_h + caption_h / 2)
        draw.text(centre, caption, fill="black", font=font, anchor="mm")
    return sheet


@dataclass(frozen=True)
class GalleryLayout:
    """Where `gallery_sheet` puts things: column x and width, row y and height (column 0 and row 0 hold the
    contents and the styles), the caption lines' height, and the sheet's size."""

    xs: tuple[int, ...]
    widths: tuple[int, ...]
    ys: tuple[int, ...]
    heights: tuple[int, ...]
    top_captions: int  # height of the styles' captions under the top row
    size: tuple[int, int]  # (width, height) of the sheet

    def origin(self, column: int, row: int, size: tuple[int, int]) -> tuple[int, int]:
        """The top-left corner of a picture of `size` in that column and row: centred across the column;
        at the top of its row, except in the top row, where the pictures stand on the captions' line."""
        x = self.xs[column] + (self.widths[column] - size[0]) // 2
        drop = self.heights[0] - self.top_captions - size[1] if row == 0 else 0
        return x, self.ys[row] + drop


def gallery_layout(contents: Sequence[tuple[str, tuple[int, int]]], styles: Sequence[tuple[str, tuple[int, int]]],
                   cells: Mapping[tuple[int, int], tuple[int, int]], tile: int = 192,
                   title: str | None = None) -> GalleryLayout:
    """The layout of a gallery sheet from the captions and the sizes of the pictures as placed (each fitted
    into a `tile` box): a column is as wide as its widest picture or caption and a row as tall as its
    tallest picture (the contents' with their captions), so landscape pictures leave no bands."""
    font, pad = _font(max(12, tile // 12)), 8
    line = _text_height(font) + 2
    captions = lambda named: _CAPTION_GAP + line * max((n.count("\n") + 1 for n, _ in named), default=0)  # noqa: E731
    widths = [max([w for _, (w, _) in contents] + [_text_width(font, n) for n, _ in contents] + [tile // 2])]
    widths += [max([w, _text_width(font, name)] + [c[0] for (_, k), c in cells.items() if k == j])
               for j, (name, (w, _)) in enumerate(styles)]
    heights = [max([h for _, (_, h) in styles] + [0]) + captions(styles)]
    heights += [max([h + captions(contents)] + [c[1] for (k, _), c in cells.items() if k == i])
                for i, (_, (_, h)) in enumerate(contents)]
    top = line + pad if title else 0
    xs = tuple(pad + sum(w + pad for w in widths[:k]) for k in range(len(widths)))
    ys = tuple(pad + top + sum(h + pad for h in heights[:k]) for k in range(len(heights)))
    return GalleryLayout(xs, tuple(widths), ys, tuple(heights), captions(styles),
                         (pad + sum(w + pad for w in widths), pad + top + sum(h + pad for h in heights)))


_CAPTION_GAP = 4  # pixels between a picture and its caption


def gallery_sheet(
    cells: Mapping[tuple[int, int], np.ndarray],
    contents: Sequence[tuple[str, np.ndarray]],
    styles: Sequence[tuple[str, np.ndarray]],
    tile: int = 192,
    title: str | None = None,
) -> np.ndarray:
    """A labelled grid: styles along the top, contents down the left, cell (i, j) = content i × style j.

    Each picture fits a `tile` box and each caption (it may hold "\n") sits right under its picture; see
    `gallery_layout`. `title`: a line above the grid (an interrupted gallery says so there). Missing cells
    stay blank. Returns uint8 RGB.
    """
    fitted = lambda image: _fit(_to_pil(image), tile)  # noqa: E731
    top = [(name, fitted(image)) for name, image in styles]
    left = [(name, fitted(image)) for name, image in contents]
    placed = {key: fitted(image) for key, image in cells.items()}
    layout = gallery_layout([(n, p.size) for n, p in left], [(n, p.size) for n, p in top],
                            {key: p.size for key, p in placed.items()}, tile, title)
    sheet = Image.new("RGB", layout.size, "white")
    draw = ImageDraw.Draw(sheet)
    font = _font(max(12, tile // 12))
    if title:
        draw.text((8, 8), title, fill="#b00020", font=font)

    def place(picture: Image.Image, column: int, row: int, caption: str = "") -> None:
        x, y = layout.origin(column, row, picture.size)
        sheet.paste(picture, (x, y))
        if caption:
            centre = layout.xs[column] + layout.widths[column] / 2
            draw.multiline_text((centre, y + picture.height + _CAPTION_GAP), caption, fill="black", font=font,
                                anchor="ma", align="center", spacing=2)

    for j, (name, picture) in enumerate(top):
        place(picture, j + 1, 0, name)
    for i, (name, picture) in enumerate(left):
        place(picture, 0, i + 1, name)
    for (i, j), picture in placed.items():
        place(picture, j + 1, i + 1)
    return np.asarray(sheet)


def _subsample(items: list, limit: int) -> list:
    """At most `limit` items, evenly spread, always keeping the first and the last."""
    if len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def _tiles(paths: Sequence[Path]) -> list[Image.Image]:
    """The snapshots, each fitted into one square box so the grid is even (smaller scales scaled up).

    The box is the longest side among the snapshots, held between TILE_MIN and TILE_MAX pixels.
    """
    images = []
    for path in paths:
        with Image.open(path) as opened:
            images.append(opened.convert("RGB"))
    box = min(max(max(max(image.size) for image in images), TILE_MIN), TILE_MAX)
    return [_fit(image, box) for image in images]


def _fit(image: Image.Image, box: int) -> Image.Image:
    factor = box / max(image.size)
    if factor == 1:
        return image
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    resample = Image.Resampling.NEAREST if factor >= 4 else Image.Resampling.LANCZOS  # tiny: show pixels
    return image.resize(size, resample)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1, or no FreeType: the small bitmap font
        return ImageFont.load_default()


def _text_width(font, text: str) -> int:
    left, _, right, _ = ImageDraw.Draw(Image.new("RGB", (1, 1))).multiline_textbbox((0, 0), text, font=font)
    return int(right - left)


def _text_height(font) -> int:
    """The height of one line of text in `font`."""
    _, top, _, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), "Ag", font=font)
    return int(bottom - top)


# ----------------------------------------------------------------------------------------------- html

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #fafafa;
       max-width: 1100px; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.summary { color: #555; }
.row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
figure { margin: 0 0 1rem; background: #fff; border: 1px solid #e3e3e3; padding: .5rem;
         width: fit-content; max-width: 100%; box-sizing: border-box; }
figure img { display: block; max-width: 100%; height: auto; }
.row figure { flex: 1 1 240px; max-width: 360px; }
figcaption { font-size: .85rem; color: #555; text-align: center; margin-top: .3rem; }
.note { color: #666; font-style: italic; }
table { border-collapse: collapse; font-size: .85rem; background: #fff; }
th, td { border: 1px solid #e3e3e3; padding: .2rem .55rem; text-align: right;
         font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
td.gap { text-align: center; font-style: italic; color: #666; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .3rem 0; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-word; }
dd dl { font-size: .95em; }
"""


def _html_page(
    result: Result,
    inputs: Mapping[str, np.ndarray],
    rows: list[dict],
    files: Mapping[str, bytes],
    snapshot_note: str,
) -> str:
    embedded = {name: _data_uri(data) for name, data in files.items() if name.endswith(".png")}
    inputs_row = _figure_row(
        [
            (_preview_uri(files[_input_filename(name)], image), _sized(name, image))
            for name, image in inputs.items()
        ]
    )
    sections = [
        f"<h1>painterly report</h1>\n<p class=\"summary\">{_summary(result)}</p>",
        _section("Inputs", inputs_row),
        _section("Result", _figure(embedded["result.png"], _sized("result", result.image))),
    ]
    if has_losses(result):
        if "contact_sheet.png" in embedded:
            iterations = _figure(embedded["contact_sheet.png"], "Generated image at each saved iteration")
        else:
            iterations = f"<p class=\"note\">{html.escape(snapshot_note)}</p>"
        graphs = _figure(embedded["loss.png"], "Current loss value vs iteration") + _figure(
            embedded["improvement.png"], "Improvement % vs iteration"
        )
        sections += [_section("Iterations", iterations), _section("Loss", graphs),
                     _section("Loss table", _html_table(rows))]
    sections.append(_section("Settings and metadata", _definition_list(_jsonable(_metadata(result)))))
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>painterly report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _section(title: str, content: str) -> str:
    return f"<section>\n<h2>{html.escape(title)}</h2>\n{content}\n</section>"


def _summary(result: Result) -> str:
    if not has_losses(result):
        seconds = result.metadata.get("timings", {}).get("paint_s")
        return ("Painted in one pass by the fast method's network"
                + (f" in {seconds:.2f} s" if seconds is not None else "") + " (no loss is minimised)")
    parts = [f"Run {html.escape(str(result.stopped))}", f"{len(result.history)} steps recorded"]
    if result.history:
        best = result.best
        loss = html.escape(_format_loss(best.loss))
        parts.append(f"best image: scale {best.scale}, Itn-{best.step}, loss {loss}")
    return " \u00b7 ".join(parts)


def _sized(name: str, image: np.ndarray) -> str:
    height, width = np.shape(image)[:2]
    return f"{name} ({width}\u00d7{height})"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _preview_uri(png: bytes, image: np.ndarray) -> str:
    """The input as embedded in the page: a smaller copy when it is large, so the page stays light."""
    preview = _to_pil(image)
    if max(preview.size) <= HTML_PREVIEW_MAX:
        return _data_uri(png)
    preview.thumbnail((HTML_PREVIEW_MAX, HTML_PREVIEW_MAX), Image.Resampling.LANCZOS)
    return _data_uri(_png_bytes(preview))


def _figure(uri: str, caption: str) -> str:
    caption = html.escape(caption)
    return f"<figure><img src=\"{uri}\" alt=\"{caption}\"><figcaption>{caption}</figcaption></figure>\n"


def _figure_row(items: Sequence[tuple[str, str]]) -> str:
    return "<div class=\"row\">\n" + "".join(_figure(uri, caption) for uri, caption in items) + "</div>"


def _html_table(rows: list[dict]) -> str:
    """Tables II-III of the paper in one: losses with ~7 significant digits, improvement with 3 decimals."""
    several_scales = len({row["scale"] for row in rows}) > 1
    if not rows:
        return "<p class=\"note\">No iterations were recorded.</p>"
    headers = (["Scale"] if several_scales else []) + [
        "Iteration", "Total loss", *(_TERM_HEADERS.get(t, t.capitalize()) for t in _terms_of(rows)), "Improvement",
        "Elapsed (s)",
    ]
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
    body = []
    shown = rows if len(rows) <= 2 * HTML_ROWS else rows[:HTML_ROWS] + [None] + rows[-HTML_ROWS:]
    for row in shown:
        if row is None:
            omitted = len(rows) - 2 * HTML_ROWS
            body.append(
                f"<tr><td class=\"gap\" colspan=\"{len(headers)}\">\u2026 {omitted} rows not shown; "
                "every row is in <a href=\"table.csv\">table.csv</a> \u2026</td></tr>"
            )
            continue
        cells = ([str(row["scale"])] if several_scales else []) + [
            f"Itn-{row['iteration']}",
            *(_format_loss(row[key]) for key in ("total", *_terms_of(rows))),
            f"{row['improvement_pct']:.3f}%",
            f"{row['elapsed_s']:.2f}",
        ]
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table>\n<thead>{head}</thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


_TERM_HEADERS = {"tv": "TV"}


def _format_loss(value: float) -> str:
    """About 7 significant digits, positional like the paper's tables (298951650, 0.1234568)."""
    value = float(value)
    if value == 0.0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-4:
        return f"{value:.6e}"
    digits = math.floor(math.log10(magnitude)) + 1
    return f"{value:.{max(0, 7 - digits)}f}"


def _definition_list(value: Any) -> str:
    """Nested mappings as nested <dl>, lists joined by commas, every string escaped."""
    if isinstance(value, Mapping):
        if not value:
            return "<span class=\"note\">none</span>"
        items = "".join(
            f"<dt>{html.escape(str(key))}</dt><dd>{_definition_list(item)}</dd>"
            for key, item in value.items()
        )
        return f"<dl>{items}</dl>"
    if isinstance(value, list):
        if any(isinstance(item, (Mapping, list)) for item in value):
            return "".join(_definition_list(item) for item in value)
        return html.escape(", ".join(str(item) for item in value))
    return html.escape("\u2014" if value is None else str(value))
