"""The report's one self-contained page, ``index.html``: the pictures (embedded), the summary, the loss table,
the graphs, the contact sheet and the metadata."""

from __future__ import annotations

import base64
import html
import math
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image

from ..events import Result
from .sheets import png_bytes, to_pil
from .tables import has_losses, input_filename, jsonable, run_metadata, terms_of


HTML_ROWS = 100  # html table: rows shown at each end when a run has more than 2 * HTML_ROWS


HTML_PREVIEW_MAX = 1024  # html: input images larger than this are embedded as a smaller preview


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


def html_page(
    result: Result,
    inputs: Mapping[str, np.ndarray],
    rows: list[dict],
    files: Mapping[str, bytes],
    snapshot_note: str,
) -> str:
    embedded = {name: _data_uri(data) for name, data in files.items() if name.endswith(".png")}
    inputs_row = _figure_row(
        [
            (_preview_uri(files[input_filename(name)], image), _sized(name, image))
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
    sections.append(_section("Settings and metadata", _definition_list(jsonable(run_metadata(result)))))
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
    preview = to_pil(image)
    if max(preview.size) <= HTML_PREVIEW_MAX:
        return _data_uri(png)
    preview.thumbnail((HTML_PREVIEW_MAX, HTML_PREVIEW_MAX), Image.Resampling.LANCZOS)
    return _data_uri(png_bytes(preview))


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
        "Iteration", "Total loss", *(_TERM_HEADERS.get(t, t.capitalize()) for t in terms_of(rows)), "Improvement",
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
            *(_format_loss(row[key]) for key in ("total", *terms_of(rows))),
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
