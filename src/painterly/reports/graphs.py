"""The report's graphs (the paper's figures 18-19): bars per iteration, one panel per scale, as PNG bytes.

Drawn with matplotlib's object API — a `Figure` on its own Agg canvas, never pyplot's global state — so
threads (the web server's workers) may draw at once; matplotlib is imported inside the functions, never at
import."""

from __future__ import annotations

import io
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np


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
