"""A batch's items: what to paint, named — contents × styles (`pairs`), or the rows of a manifest (`read_manifest`).

Names are predictable: ``{content}__{style}[+{style}...].{format}`` from the file names, and, only
where two items of the batch would get the same name, ``-{8 hex digits of the item's inputs and
settings}`` after it; a manifest row may name its own output.
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import InputImageError, PainterlyError, SettingsError
from ..settings import Settings
from .records import read_record

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
FORMATS = ("png", "jpg", "webp", "tif")
MANIFEST_COLUMNS = ("content", "style", "styles", "output", "preset")


@dataclass(frozen=True)
class Item:
    """One picture of a batch: what to paint, with which settings, under which file name."""

    name: str  # the output's file name inside the batch folder
    content: Path
    styles: tuple[Path, ...]
    settings: Settings
    problem: str | None = None  # why this item cannot run (a bad manifest row): it fails with this reason



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
            from ..shelf import resolve

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
    from ..flags import settings_from_text

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
    from ..shelf import find

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

