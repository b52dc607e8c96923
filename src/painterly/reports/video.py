"""A video run's report folder: the flicker and style per frame, in tables, graphs and one page.

    frames.csv, frames.json   per frame: seconds, warping error (the painting's own flow), reliable share,
                              the honest flicker measures (`measure.Flicker`), style loss (measured on
                              every k-th frame), the optimisation's loss terms
    summary.json              the run's metadata with the overall measures
    warping_error.png         per frame: the warping error with an independent flow, the frame-by-frame
                              baseline beside it, and the one measured with the painting's own flow
    still_flicker.png         per frame: the output's change where the input did not change (no flow)
    reliable.png              per frame: the share of pixels where each flow is reliable
    style_loss.png            the style loss per measured frame
    strip.png                 consecutive frames around the most flickering one (flicker is between
                              neighbours: a sheet of every k-th frame cannot show it)
    contact_sheet.png         every k-th frame, labelled
    index.html                all of it on one self-contained page

The graphs are drawn with matplotlib's object API (a `Figure` on its own Agg canvas), never pyplot's
global state, so reports can be written from several threads at once (the web server's workers).

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

FILES = ("frames.csv", "frames.json", "summary.json", "warping_error.png", "still_flicker.png", "reliable.png",
         "style_loss.png", "strip.png", "contact_sheet.png", "index.html")
SHEET_FRAMES = 12
STRIP_FRAMES = 6
MEASURES = ("independent_warping_error", "frame_by_frame_warping_error", "still_flicker", "independent_reliable",
            "still_share")


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
        present = [p.name for p in resolved.iterdir()]
        if present and not overwrite:
            raise OutputError(f"report folder '{folder}' is not empty: pass --overwrite to replace the report, or "
                              f"choose another folder")
        if present and not files.written_by_painterly(resolved / "summary.json"):  # a report's names, not ours
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


def strip_frames(records: list[dict], count: int = STRIP_FRAMES) -> list[int]:
    """`count` consecutive frame indices around the frame with the highest independent warping error
    (the start when nothing was measured)."""
    errors = [(r.get("independent_warping_error") or 0.0, r["index"]) for r in records]
    worst = max(errors)[1] if errors and max(errors)[0] > 0 else 0
    first = max(0, min(worst - count // 2, len(records) - count))
    return [records[i]["index"] for i in range(first, min(first + count, len(records)))]


def write_report(folder: Path, run, metadata: dict) -> Path:
    """Write the report of `run` (a `VideoRun` whose frames are in its work folder); its index.html."""
    from .sheets import contact_sheet
    from ..video.measure import summarise

    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"report folder '{folder}' could not be made ({error.strerror}): choose another") from None
    records = [dict(r) for r in run.records]
    every = sheet_every(len(records), run.job.report_every)
    sampled = list(range(0, len(records), every))
    styles = _style_losses(run, sampled, records)
    for record in records:
        record["style_loss"] = styles.get(record["index"], record.get("terms", {}).get("style"))
    errors = [r["warping_error"] for r in records if r["warping_error"] is not None]
    measured = [r["style_loss"] for r in records if r["style_loss"] is not None]
    summary = {**metadata, "warping_error": float(np.mean(errors)) if errors else None,
               "flicker": summarise(records),
               "style_loss": float(np.mean(measured)) if measured else None,
               "style_loss_frames": "every frame's loss term" if not styles else f"every {every}th frame",
               "style_loss_kind": "the optimisation's own style term (weighted)" if not styles else
               "relative Gram error on the style meter's network (video.measure.StyleMeter)",
               "contact_sheet_every": every}
    _write(folder / "frames.json", json.dumps(records, indent=1).encode())
    _write(folder / "frames.csv", _csv(records))
    _write(folder / "summary.json", json.dumps(summary, indent=1, default=str).encode())

    def series(name):
        return [(r["index"], r[name]) for r in records if r.get(name) is not None]

    pngs = {
        "warping_error.png": _plot([("independent flow (honest)", series("independent_warping_error"), "#c0392b"),
                                    ("frame by frame (baseline)", series("frame_by_frame_warping_error"),
                                     "#7f8c8d"),
                                    ("the painting's own flow", series("warping_error"), "#e67e22")],
                                   "warping error (Lai et al. 2018)"),
        "still_flicker.png": _plot([("where the input is still", series("still_flicker"), "#8e44ad")],
                                   "still-region flicker (no flow)"),
        "reliable.png": _plot([("independent flow", series("independent_reliable"), "#27ae60"),
                               ("the painting's flow", series("reliable"), "#e67e22"),
                               ("still input", series("still_share"), "#2980b9")], "share of pixels",
                              limits=(0.0, 1.0)),
        "style_loss.png": _plot([("style loss", series("style_loss"), "#2c3e50")], summary["style_loss_kind"]
                                if not styles else "style loss (relative Gram error)"),
    }
    for name, png in pngs.items():
        _write(folder / name, png)
    strip = strip_frames(records)
    sheets = {}
    for name, indices in (("strip.png", strip), ("contact_sheet.png", sampled)):
        picture = contact_sheet([run.frame_path(i) for i in indices], [f"frame {i}" for i in indices])
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        sheets[name] = buffer.getvalue()
        _write(folder / name, sheets[name])
    page = _page(summary, pngs, sheets, strip)
    _write(folder / "index.html", page.encode())
    return folder / "index.html"


def _style_losses(run, sampled: list[int], records: list[dict]) -> dict[int, float]:
    """Style loss of the sampled frames, for a method that does not step (it has no loss terms of its own)."""
    from .. import methods

    if methods.get(run.job.settings.method).iterative:
        return {}
    from ..backbones import import_tensorflow_quietly
    from ..video.measure import StyleMeter
    from ..video.sink import read_frame

    import_tensorflow_quietly()
    meter = StyleMeter([s.rgb for s in run.styles], run.job.settings, max(run.size), notice=run.notice)
    return {i: meter(read_frame(run.frame_path(i)).astype(np.float32)) for i in sampled}


def _plot(lines, label: str, colour: str | None = None, *, limits=None) -> bytes:
    """A graph per frame as PNG bytes: `lines` is a list of (name, [(frame, value)], colour), or one
    list of points with `colour`. Drawn on its own Figure and Agg canvas (no pyplot: thread-safe)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if colour is not None:
        lines = [(None, lines, colour)]
    figure = Figure(figsize=(8, 3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    named = False
    for name, points, line_colour in lines:
        if not points:
            continue
        xs, ys = zip(*points)
        mean = float(np.mean(ys))
        axes.plot(xs, ys, color=line_colour, marker="." if len(xs) < 80 else None, linewidth=1.2,
                  label=f"{name + ': ' if name else ''}mean {mean:.3g}")
        axes.axhline(mean, color=line_colour, linestyle="--", linewidth=0.8)
        named = True
    if named:
        axes.legend(frameon=False, fontsize=8)
    if limits is not None:
        axes.set_ylim(*limits)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("frame")
    axes.set_ylabel(label)
    axes.grid(color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _csv(records: list[dict]) -> bytes:
    terms = sorted({name for r in records for name in r.get("terms", {})})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["frame", "seconds", "warping_error", "reliable", *MEASURES, "style_loss", *terms])
    for r in records:
        writer.writerow([r["index"], f"{r['seconds']:.4f}", _number(r["warping_error"]), _number(r["reliable"]),
                         *[_number(r.get(name)) for name in MEASURES], _number(r["style_loss"]),
                         *[_number(r.get("terms", {}).get(t)) for t in terms]])
    return buffer.getvalue().encode()


def _number(value) -> str:
    return "" if value is None else f"{value:.6g}"


def _page(summary: dict, pngs: dict[str, bytes], sheets: dict[str, bytes], strip: list[int]) -> str:
    def image(png: bytes, alt: str) -> str:
        return f'<img alt="{alt}" style="max-width:100%" src="data:image/png;base64,{base64.b64encode(png).decode()}">'

    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, default=str))}</td></tr>"
                   for k, v in summary.items() if k != "settings")
    from ..video.measure import headline

    flicker = headline(summary.get("flicker") or {}, summary["warping_error"]) or "not measured"
    style = _number(summary["style_loss"]) or "not measured"
    return (f"<!doctype html><meta charset='utf-8'><title>painterly video report</title>"
            f"<body style='font-family:sans-serif;max-width:1000px;margin:auto'><h1>painterly video report</h1>"
            f"<p>Flicker: {html.escape(flicker)}. Style loss {style} ({html.escape(summary['style_loss_kind'])}, "
            f"{html.escape(summary['style_loss_frames'])}).</p>"
            f"<p>The warping error is Lai et al. 2018's, measured with a DIS flow and Ruder et al.'s mask that "
            f"the painting did not use (the input resized with Lanczos, another DIS preset); the number with the "
            f"painting's own flow flatters the flow mode, which followed that very flow. Still-region flicker: "
            f"the output's mean squared change between frames where the input did not change, no flow at all. "
            f"All three on RGB in 0..1.</p>"
            f"<h2>Warping error per frame</h2>{image(pngs['warping_error.png'], 'warping error per frame')}"
            f"<h2>Still-region flicker per frame</h2>{image(pngs['still_flicker.png'], 'still-region flicker')}"
            f"<h2>Reliable share per frame</h2>{image(pngs['reliable.png'], 'reliable share per frame')}"
            f"<h2>Style loss per frame</h2>{image(pngs['style_loss.png'], 'style loss per frame')}"
            f"<h2>Consecutive frames {strip[0]}–{strip[-1]}</h2><p>Around the frame with the highest warping "
            f"error: flicker shows between neighbours.</p>{image(sheets['strip.png'], 'consecutive frames')}"
            f"<h2>Every {summary['contact_sheet_every']}th frame</h2>"
            f"{image(sheets['contact_sheet.png'], 'contact sheet')}"
            f"<h2>Run</h2><table>{rows}</table></body>")


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"report file '{path}' could not be written ({error.strerror}): check the folder") from None
