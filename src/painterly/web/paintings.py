"""The shelf in the web app: the paintings a job may name (style=great_wave) instead of uploading one.

    GET  /api/paintings                 the shelf: name, title, artist, year, thumbnail address
    GET  /api/paintings/{name}/image    one as a thumbnail (JPEG; ?size= its longest side)

`find(name)` is the one lookup (by name, never by path) for these routes and for a job's form.
"""

from __future__ import annotations

import difflib
import functools
import io
from pathlib import Path

from fastapi import FastAPI, Query
from fastapi.responses import Response

from ..errors import InputImageError
from .guard import UNSAFE


class PaintingNotFound(InputImageError):
    """A name that is not on the shelf (HTTP 400 in a form, 404 in a URL)."""


def add_routes(app: FastAPI) -> None:
    """The shelf's routes."""

    @app.get("/api/paintings", summary="The shelf: the paintings a job may name instead of uploading one")
    def shelf():
        return [{"name": p.name, "title": p.title, "artist": p.artist, "year": p.year,
                 "image": f"/api/paintings/{p.name}/image"} for p in _shelf().paintings()]

    @app.get("/api/paintings/{name}/image", summary="A painting on the shelf as a thumbnail (JPEG)",
             response_class=Response)
    def shelf_image(name: str, size: int = Query(256, ge=16, le=1024, description="its longest side (16 to 1024)")):
        path = find(name)[1]
        return Response(_thumbnail(str(path), path.stat().st_mtime_ns, size), media_type="image/jpeg",
                        headers={"Cache-Control": "max-age=3600"})


def _shelf():
    from .. import shelf

    return shelf


def find(name: str) -> tuple[str, Path]:
    """(title, file) of the painting called `name` on the shelf; a 400 (a 404 in a URL) naming the closest."""
    shelf = _shelf()
    painting = shelf.find(name) if len(name) <= 200 else None  # a name only: a path is never looked up
    if painting is None:
        names = [p.name for p in shelf.paintings()]
        close = difflib.get_close_matches(name.strip().lower()[:200], names, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise PaintingNotFound(f"no painting '{UNSAFE.sub('', name)[:80]}' on the shelf: {hint}"
                               f"GET /api/paintings lists them (or upload the painting as a file)")
    return painting.title, painting.path


@functools.lru_cache(maxsize=64)
def _thumbnail(path: str, modified: int, size: int) -> bytes:
    """The image at `path` shrunk to `size` px on its longest side (never enlarged), as JPEG; kept while the
    file is unchanged (`modified`)."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        picture = ImageOps.exif_transpose(image).convert("RGB")
    picture.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
