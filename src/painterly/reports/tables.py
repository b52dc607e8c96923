"""The report's data: the loss table (the paper's Tables II-III) and its CSV and JSON, the run's metadata,
and the names of the report's files."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..events import Iterate, Result


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


def has_losses(result: Result) -> bool:
    """Whether the run minimised a loss (the optimisation) rather than painting in one pass (fast)."""
    return not result.history or any(math.isfinite(record.loss) for record in result.history)


_OWN_PNGS = frozenset({"result.png", "loss.png", "improvement.png", "contact_sheet.png"})


def input_filename(name: str) -> str:
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
    return json_bytes({"columns": list(_columns_of(rows)), "rows": rows})


def _columns_of(rows: list[dict]) -> tuple[str, ...]:
    return tuple(rows[0]) if rows else COLUMNS


def terms_of(rows: list[dict]) -> tuple[str, ...]:
    names = _columns_of(rows)
    return names[names.index("total") + 1:names.index("improvement_pct")]


def json_bytes(value: Any) -> bytes:
    return (json.dumps(jsonable(value), indent=2, allow_nan=False) + "\n").encode("utf-8")


def jsonable(value: Any) -> Any:
    """Plain JSON values from numpy scalars and arrays, tuples, sets, paths; NaN and infinities -> null."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def run_metadata(result: Result) -> dict:
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
