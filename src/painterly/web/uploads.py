"""A new job's form and files, read in the web app: the multipart body's text fields by name, each upload written
under our name (never the user's) into a staging folder and checked as the CLI checks its inputs, paintings on
the shelf copied in by name.

    form, fields = await read_form(request, jobs, limits)          # the queue's room checked before the upload
    content, styles = await image_inputs(form, staging, limits)    # (display name, file) pairs
    clip, styles, numbers = await video_inputs(form, staging, limits, options)
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile

from .. import files, images
from ..errors import OutputError, PainterlyError
from ..images import demo_pair
from . import forms, videos
from .guard import TAIL, UNSAFE, TooLarge, shown_size
from .jobs import Jobs, QueueFull
from .paintings import find

UPLOADS = ("content", "style", "demo", "video")  # the form's file fields (and the demo switch), not settings


async def read_form(request: Request, jobs: Jobs, limits: forms.Limits):
    """The multipart form of a new job, and its text fields (settings, preset, options) by name."""
    if jobs.waiting() >= limits.queue:  # early, before the upload; submit checks again, atomically
        raise QueueFull(f"{limits.queue} jobs are already waiting: try again when one has finished")
    # generous file count: past it Starlette refuses first; up to it, image_inputs names the limit
    form = await request.form(max_files=limits.styles + 16, max_fields=200, max_part_size=2**16)
    _check_closed(request)
    return form, {k: v for k, v in form.multi_items() if k not in UPLOADS and isinstance(v, str)}


def _check_closed(request: Request) -> None:
    """Refuse a multipart body that ended before its closing boundary: its last part may be cut short, and
    the parser drops it without a word (python-multipart keeps no part it did not see end)."""
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    closed = request.scope.get(TAIL, b"").rstrip().endswith(b"--" + boundary + b"--")
    if kind == b"multipart/form-data" and not closed:
        raise PainterlyError("the upload ended before its closing boundary (the connection was cut?): send it again")


def style_sizes(styles: list[tuple[str, Path]]) -> list[tuple[str, tuple[int, int]]]:
    """Each checked style image's display name and (width, height), from its header."""
    from PIL import Image

    sizes = []
    for name, path in styles:
        with Image.open(path) as image:
            sizes.append((name, image.size))
    return sizes


def check_blend(settings, styles: list) -> None:
    if settings.style_blend is not None and len(settings.style_blend) != len(styles):
        raise PainterlyError(f"{len(settings.style_blend)} style weights for {len(styles)} style images: "
                             f"give one per style image")


async def image_inputs(form, staging: Path, limits: forms.Limits):
    """(content, styles) from the form; every image saved under our name and checked."""
    uploads_content = _files(form, "content")
    uploads_styles = _files(form, "style")
    demo = str(form.get("demo") or "").strip().lower() in ("true", "on", "1")
    if demo:
        if uploads_content or uploads_styles:
            raise PainterlyError("the demo uses the bundled pair: remove the uploaded images or untick the demo")
        content_path, style_path = demo_pair()
        content = _copy(content_path, staging / "content", "demo photo (coffee)")
        return content, [_copy(style_path, staging / "style-1", "demo painting (The Starry Night)")]
    if not uploads_content:
        raise PainterlyError("no content photo: pick the photo to repaint (or use the demo pair)")
    if len(uploads_content) > 1:
        raise PainterlyError("several content photos: pick one photo to repaint")
    uploads_styles = _style_uploads(form, limits)
    content = await _save(uploads_content[0], staging / "content", "content photo", limits)
    styles = [await _style(u, staging / f"style-{i}", limits) for i, u in enumerate(uploads_styles, 1)]
    return content, styles


async def video_inputs(form, staging: Path, limits: forms.Limits, options: dict):
    """(clip, styles, the clip's numbers) from a video job's form; the clip probed against the video limits."""
    clips = _files(form, "video")
    if str(form.get("demo") or "").strip().lower() in ("true", "on", "1") or _files(form, "content"):
        raise PainterlyError("a video job paints a video: send the clip as 'video' and no photo or demo")
    if not clips:
        raise PainterlyError("no video: pick the clip to paint")
    if len(clips) > 1:
        raise PainterlyError("several videos: pick one clip to paint")
    styles = _style_uploads(form, limits, hint="")
    path = staging / "content"
    name = await _store(clips[0], path, "video", limits.video_bytes, "cut it shorter or downscale it",
                        limit="video upload limit")
    clip = await asyncio.to_thread(videos.probe, path, name, limits, start=options["start"],
                                   duration=options["duration"])
    saved = [await _style(u, staging / f"style-{i}", limits) for i, u in enumerate(styles, 1)]
    return (name, path), saved, clip


def _files(form, field: str) -> list[UploadFile]:
    return [v for v in form.getlist(field) if isinstance(v, UploadFile) and v.filename]


def _style_uploads(form, limits: forms.Limits, hint: str = " (or use the demo pair)") -> list[UploadFile | str]:
    """The form's paintings in order: uploaded files, and names of paintings on the shelf."""
    uploads = [v for v in form.getlist("style") if (isinstance(v, UploadFile) and v.filename)
               or (isinstance(v, str) and v.strip())]
    if not uploads:
        raise PainterlyError(f"no style image: pick at least one painting{hint}")
    if len(uploads) > limits.styles:
        raise PainterlyError(f"{len(uploads)} style images: choose at most {limits.styles}")
    return uploads


async def _style(style: UploadFile | str, path: Path, limits: forms.Limits) -> tuple[str, Path]:
    """A style image: an upload saved and checked, or a painting on the shelf (by name, never by path) copied."""
    if isinstance(style, str):
        title, source = find(style)
        return _copy(source, path, title)
    return await _save(style, path, "style image", limits)


async def _save(upload: UploadFile, path: Path, role: str, limits: forms.Limits) -> tuple[str, Path]:
    """Write an image upload to `path` (our name, not the user's) and check it as the CLI checks its inputs."""
    name = await _store(upload, path, role, limits.upload_bytes, "downscale it or choose a smaller file")
    return _checked(path, name, role, limits)


async def _store(upload: UploadFile, path: Path, role: str, most: int, fix: str, limit: str = "upload limit") -> str:
    """Write an upload of at most `most` bytes to `path`; the user's name for it, for display."""
    name = _display_name(upload.filename)
    size = upload.size if upload.size is not None else 0
    if size > most:
        raise TooLarge(f"{role} '{name}' is {shown_size(size)}, over the {limit} of {shown_size(most)}: {fix}")
    await upload.seek(0)
    await asyncio.to_thread(_write, path, upload.file)
    return name


def _copy(source: Path, path: Path, name: str) -> tuple[str, Path]:
    with open(source, "rb") as readable:
        _write(path, readable)
    return name, path


def _write(path: Path, readable) -> None:
    """`files.write_stream`, its failure given back as the OSError it was: the server's storage error (503)."""
    try:
        files.write_stream(path, readable)
    except OutputError as refused:
        raise (refused.__cause__ if isinstance(refused.__cause__, OSError) else refused) from None


def _checked(path: Path, name: str, role: str, limits: forms.Limits) -> tuple[str, Path]:
    images.load_image(path, role=role, max_pixels=limits.pixels, shown_as=name)  # the user knows their name, not ours
    return name, path


def _display_name(filename: str | None) -> str:
    """The user's file name, for messages and the job list only: last path part, no control characters."""
    name = UNSAFE.sub("", re.split(r"[\\/]", filename or "")[-1]).strip()
    return (name[:80] + "…" if len(name) > 80 else name) or "upload"
