"""The shelf: public-domain paintings shipped with painterly, picked by name wherever a style image goes.

    painterly photo.jpg great_wave -o out.png          # a name on the shelf, or a path to any image
    painterly styles                                   # what is on the shelf
    PAINTERLY_SHELF=~/paintings painterly photo.jpg my_painting   # your own folder extends the shelf

`paintings()` lists the shelf; `resolve(argument)` turns a style argument into a file: a path that exists
wins, then a name on the shelf, else one line with the closest names (an `InputImageError`, exit code 2).
Names are the files' stems; they match ignoring case, with "-" or a space read as "_".

The bundled paintings and their sources are in `painterly/data/paintings/` (`paintings.json`,
`SOURCES.md`). `PAINTERLY_SHELF` names one folder, or several separated by the system's path separator
(":" on Linux and macOS); each image file in it is a painting named by its stem, and one with the name of a
bundled painting takes its place. Nothing is read at import time.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputImageError

SHELF_ENV = "PAINTERLY_SHELF"
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


@dataclass(frozen=True)
class Painting:
    """One painting on the shelf."""

    name: str  # what to type: the file's stem
    title: str
    artist: str  # "" for a painting of the user's own folder
    year: str  # as the source gives it ("1889", "c. 1831"); "" when unknown
    source: str  # where the file came from (repository:path), or the user's folder
    path: Path

    def to_dict(self) -> dict:
        """name, title, artist, year, source and path (a string), e.g. for the web app's list."""
        return {"name": self.name, "title": self.title, "artist": self.artist, "year": self.year,
                "source": self.source, "path": str(self.path)}


def bundled_folder() -> Path:
    """The package's folder of paintings."""
    from importlib.resources import files

    return Path(str(files("painterly") / "data" / "paintings"))


def paintings() -> list[Painting]:
    """The shelf: the bundled paintings, then those of the folders in $PAINTERLY_SHELF (which replace a
    bundled painting of the same name). Raises InputImageError for a $PAINTERLY_SHELF folder that is missing."""
    folder = bundled_folder()
    shelf = {}
    for entry in json.loads((folder / "paintings.json").read_text(encoding="utf-8")):
        shelf[entry["name"]] = Painting(path=folder / f"{entry['name']}.jpg", **entry)
    for painting in _own_paintings():
        shelf[painting.name] = painting
    return list(shelf.values())


def listing() -> list[dict]:
    """The shelf as plain dicts (name, title, artist, year, source, path), in shelf order."""
    return [painting.to_dict() for painting in paintings()]


def names() -> list[str]:
    return [painting.name for painting in paintings()]


def find(name: str) -> Painting | None:
    """The painting called `name` (case, "-" and spaces aside), or None. For names from untrusted callers
    (the web form) use this, never `resolve`, which takes any file that exists."""
    key = _key(name)
    return next((p for p in paintings() if _key(p.name) == key), None)


def resolve(style, *, role: str = "style image", strict: bool = True) -> Path:
    """The file a style argument names: `style` itself when it exists, else the shelf's painting of that
    name; InputImageError (one line with the closest names) when it is neither. strict=False: a missing
    path (one with an extension or a folder in it) comes back as it is, for the caller's loader to refuse
    (a batch fails that file's items only); a bare word that names nothing is still refused."""
    path = Path(style)
    if path.exists():  # a file wins over a name; a folder or an unreadable file is the loader's to explain
        return path
    text = str(style)
    painting = find(text)
    if painting is not None:
        return painting.path
    close = difflib.get_close_matches(_key(path.stem if path.suffix else text), [_key(n) for n in names()],
                                      n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    if path.suffix or os.sep in text or "/" in text:  # meant as a file
        if not strict:
            return path
        raise InputImageError(f"{role} '{text}' does not exist: check the path ({hint}"
                              f"`painterly styles` lists the paintings you can name instead)")
    raise InputImageError(f"{role} '{text}' is neither a file nor a painting on the shelf: {hint}"
                          f"`painterly styles` lists them")


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _own_paintings() -> list[Painting]:
    """The image files of the folders in $PAINTERLY_SHELF, by name."""
    found = []
    for text in filter(None, os.environ.get(SHELF_ENV, "").split(os.pathsep)):
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise InputImageError(f"{SHELF_ENV} folder '{text}' does not exist: fix or unset {SHELF_ENV}")
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in EXTENSIONS and path.is_file() and not path.name.startswith("."):
                found.append(Painting(name=path.stem, title=path.stem.replace("_", " "), artist="", year="",
                                      source=str(folder), path=path))
    return found
