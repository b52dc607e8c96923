"""A video run's report folder: the flicker and style per frame, in tables, graphs and one page.

    frames.csv, frames.json   per frame: seconds, warping error, reliable share, style loss (measured
                              on every k-th frame), the optimisation's loss terms
    summary.json              the run's metadata with the overall warping error and style loss
    warping_error.png         the warping error per frame
    style_loss.png            the style loss per measured frame
    contact_sheet.png         every k-th frame, labelled
    index.html                all of it on one self-contained page

Nothing the user had is replaced: a folder holding other files than these is refused unless `overwrite`.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from pathlib import Path

import numpy as np

from .. import files
from ..errors import OutputError

FILES = ("frames.csv", "frames.json", "summary.json", "warping_error.png", "style_loss.png", "contact_sheet.png",
         "index.html")
SHEET_FRAMES = 12


def check_report(folder, *, overwrite: bool, inputs=()) -> Path:
    folder = Path(folder)
    resolved = folder.resolve()
    if resolved.is_file():
        raise OutputError(f"report '{folder}' is a file: give a folder name")
    if any(Path(p).resolve() == resolved for p in inputs if p is not None):
        raise OutputError(f"report '{folder}' is one of the inputs or the output: choose another folder")
    if not resolved.parent.is_dir():
        raise OutputError(f"report folder's parent '{resolved.parent}' does not exist: create it first")
    if resolved.is_dir():
        present = [p.name for p in resolved.iterdir() if p.name != files.MARKER]
        if present and not overwrite:
            raise OutputError(f"report folder '{folder}' is not empty: pass --overwrite to replace the report, or "
                              f"choose another folder")
        if present and not files.owned(resolved):  # a report's names, but not painterly's files
            raise OutputError(f"report folder '{folder}' holds {present[0]}{' …' if len(present) > 1 else ''}, "
                              f"which no painterly report wrote and a report never replaces: choose an empty folder")
        foreign = [name for name in present if name not in FILES]
        if foreign:
            raise OutputError(f"report folder '{folder}' holds other files ({foreign[0]} …), which a report never "
                              f"replaces: choose an empty folder")
    elif not os.access(resolved.parent, os.W_OK | os.X_OK):
        raise OutputError(f"report folder '{folder}' cannot be made: '{resolved.parent}' is not writable")
    return resolved


def sheet_every(frames: int, every: int | None) -> int:
    """The contact sheet's k: `every`, or about `SHEET_FRAMES` frames spread over the video."""
    return max(1, every if every else -(-frames // SHEET_FRAMES))


def write_report(folder: Path, run, metadata: dict) -> Path:
    """Write the report of `run` (a `VideoRun` whose frames are in its work folder); its index.html."""
    from ..reports import contact_sheet

    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"report folder '{folder}' could not be made ({error.strerror}): choose another") from None
    files.mark(folder)  # painterly's report: a later --overwrite may replace it
    records = [dict(r) for r in run.records]
    every = sheet_every(len(records), run.job.report_every)
    sampled = list(range(0, len(records), every))
    styles = _style_losses(run, sampled, records)
    for record in records:
        record["style_loss"] = styles.get(record["index"], record.get("terms", {}).get("style"))
    errors = [r["warping_error"] for r in records if r["warping_error"] is not None]
    measured = [r["style_loss"] for r in records if r["style_loss"] is not None]
    summary = {**metadata, "warping_error": float(np.mean(errors)) if errors else None,
               "style_loss": float(np.mean(measured)) if measured else None,
               "style_loss_frames": "every frame's loss term" if not styles else f"every {every}th frame",
               "contact_sheet_every": every}
    _write(folder / "frames.json", json.dumps(records, indent=1).encode())
    _write(folder / "frames.csv", _csv(records))
    _write(folder / "summary.json", json.dumps(summary, indent=1, default=str).encode())
    error_png = _plot([(r["index"], r["warping_error"]) for r in records if r["warping_error"] is not None],
                      "warping error (Lai et al. 2018)", "#c0392b")
    style_png = _plot([(r["index"], r["style_loss"]) for r in records if r["style_loss"] is not None],
                      "style loss (relative Gram error)", "#2c3e50")
    _write(folder / "warping_error.png", error_png)
    _write(folder / "style_loss.png", style_png)
    sheet = contact_sheet([run.frame_path(i) for i in sampled], [f"frame {i}" for i in sampled])
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    _write(folder / "contact_sheet.png", buffer.getvalue())
    page = _page(summary, error_png, style_png, buffer.getvalue())
    _write(folder / "index.html", page.encode())
    return folder / "index.html"


def _style_losses(run, sampled: list[int], records: list[dict]) -> dict[int, float]:
    """Style loss of the sampled frames (the fast method has no loss terms of its own)."""
    if run.job.settings.method != "fast":
        return {}
    from ..backbones import import_tensorflow_quietly
    from .measure import StyleMeter
    from .sink import read_frame

    import_tensorflow_quietly()
    meter = StyleMeter([s.rgb for s in run.styles], run.job.settings, max(run.size), notice=run.notice)
    return {i: meter(read_frame(run.frame_path(i)).astype(np.float32)) for i in sampled}


def _plot(points, label: str, colour: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 3), dpi=100)
    if points:
        xs, ys = zip(*points)
        axes.plot(xs, ys, color=colour, marker="." if len(xs) < 80 else None, linewidth=1.2)
        axes.axhline(float(np.mean(ys)), color=colour, linestyle="--", linewidth=0.8, label=f"mean {np.mean(ys):.3g}")
        axes.legend(frameon=False)
    axes.set_xlabel("frame")
    axes.set_ylabel(label)
    axes.grid(color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def _csv(records: list[dict]) -> bytes:
    terms = sorted({name for r in records for name in r.get("terms", {})})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["frame", "seconds", "warping_error", "reliable", "style_loss", *terms])
    for r in records:
        writer.writerow([r["index"], f"{r['seconds']:.4f}", _number(r["warping_error"]), _number(r["reliable"]),
                         _number(r["style_loss"]), *[_number(r.get("terms", {}).get(t)) for t in terms]])
    return buffer.getvalue().encode()


def _number(value) -> str:
    return "" if value is None else f"{value:.6g}"


def _page(summary: dict, error_png: bytes, style_png: bytes, sheet_png: bytes) -> str:
    def image(png: bytes, alt: str) -> str:
        return f'<img alt="{alt}" style="max-width:100%" src="data:image/png;base64,{base64.b64encode(png).decode()}">'

    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, default=str))}</td></tr>"
                   for k, v in summary.items() if k != "settings")
    return (f"<!doctype html><meta charset='utf-8'><title>painterly video report</title>"
            f"<body style='font-family:sans-serif;max-width:1000px;margin:auto'><h1>painterly video report</h1>"
            f"<p>Warping error {_number(summary['warping_error'])} (mean over frames; Lai et al. 2018, the input's "
            f"DIS flow and Ruder et al.'s mask), style loss {_number(summary['style_loss'])}.</p>"
            f"<h2>Warping error per frame</h2>{image(error_png, 'warping error per frame')}"
            f"<h2>Style loss per frame</h2>{image(style_png, 'style loss per frame')}"
            f"<h2>Frames</h2>{image(sheet_png, 'contact sheet')}"
            f"<h2>Run</h2><table>{rows}</table></body>")


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"report file '{path}' could not be written ({error.strerror}): check the folder") from None
