"""The web app: a page and a JSON API over `Jobs`. `create_app(data_dir)` builds it.

    GET  /                              the page (static/index.html; works offline)
    GET  /api/settings                  the form: fields from Settings, presets, limits
    POST /api/jobs                      create a job (multipart: content, style..., or demo=true; preset; settings)
    POST /api/videos                    create a video job (multipart: video, style...; preset; settings; temporal...)
    GET  /api/jobs                      every job, newest first
    GET  /api/jobs/{id}                 one job's status
    GET  /api/jobs/{id}/events          its progress as server-sent events (step records, then state changes)
    GET  /api/jobs/{id}/preview         the latest image (PNG)
    GET  /api/jobs/{id}/result          the result (PNG, or a video job's MP4, as a download)
    GET  /api/jobs/{id}/report          the report page; /report.zip the whole report folder
    POST /api/jobs/{id}/cancel          cancel it
    GET  /api/openapi.json              this API's OpenAPI document
    GET  /api/paintings                 the shelf: paintings a job may name (style=great_wave) instead of uploading
    GET  /api/paintings/{name}/image    one as a thumbnail (JPEG; ?size= its longest side)
    GET  /api/jobs/{id}/photo           a photo job's photo at its result's size (the page's before/after)

Errors are JSON `{"detail": "one line naming the problem and the fix"}`; every bad query value is a 400;
the job records or files the server cannot write (jobs.sqlite held by another program, a full disk) a 503.

Against a hostile page or user: a request whose Host is not one of the names this server serves is
refused (421: DNS rebinding), one from another site's page too (403); request bodies are counted as they
arrive, chunked or not, and cut off at the limit of what the route takes (413: POST /api/videos takes a
clip, every other route images only); every response carries a Content-Security-Policy and the other
security headers; the reports served show file names, not the server's paths.
"""

from __future__ import annotations

import asyncio
import functools
import html
import io
import ipaddress
import json
import platform
import re
import shutil
import tempfile
import zipfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, UploadFile

from .. import images
from ..images import demo_pair
from ..errors import InputImageError, PainterlyError, SettingsError
from . import forms, videos
from .jobs import FINISHED, RESULTS, Jobs, JobStateError, QueueFull
from .store import StoreError, storage_error

STATIC = Path(__file__).resolve().parent / "static"
JOB_ID = r"^[0-9a-f]{32}$"
POLL_SECONDS = 0.25  # how often an event stream looks for new steps
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
LIST_LIMIT = 1000  # most jobs one GET /api/jobs returns
# the page's own files only (static/: no inline script or style, no eval); nothing framed, nothing framing it
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# a report page is self-contained: an inline <style> and data: images, no script at all
REPORT_POLICY = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = (("content-security-policy", PAGE_POLICY), ("x-frame-options", "DENY"),
                    ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"))
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
UPLOADS = ("content", "style", "demo", "video")  # the form's file fields (and the demo switch), not settings
MEDIA = {"image": "image/png", "video": "video/mp4"}
TAIL = "painterly.tail"  # in a request's scope: the last bytes of its body, as _Guard counted them


class TooLarge(InputImageError):
    """An upload over the size limit (HTTP 413)."""


class PaintingNotFound(InputImageError):
    """A name that is not on the shelf (HTTP 400 in a form, 404 in a URL)."""


def create_app(data_dir: str | Path, *, workers: int = 1, limits: forms.Limits = forms.Limits(),
               allowed_hosts: Iterable[str] | None = None) -> FastAPI:
    """The app, keeping its jobs in `data_dir` (created if missing); workers start with the app.

    allowed_hosts: the names (or addresses) in the Host header this server answers; any other gets a 421
    (DNS rebinding). A wildcard address ("0.0.0.0", "::") in it admits every IP address as well, never a
    name. None: any Host, for in-process use (tests); `painterly serve` always passes its names."""
    jobs = Jobs(data_dir, workers=workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        jobs.start()
        yield
        await asyncio.to_thread(jobs.close)

    app = FastAPI(title="painterly", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Neural style transfer jobs: upload a photo and paintings, watch it paint, "
                              "download the result.")
    app.state.jobs = jobs
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(PainterlyError)
    async def refused(request: Request, error: PainterlyError):
        if isinstance(error, PaintingNotFound) and request.url.path.startswith("/api/paintings/"):
            return JSONResponse({"detail": str(error)}, status_code=404)
        status = (409 if isinstance(error, JobStateError) else 413 if isinstance(error, TooLarge)
                  else 503 if isinstance(error, (QueueFull, StoreError)) else 400)
        return JSONResponse({"detail": str(error)}, status_code=status)

    @app.exception_handler(OSError)
    async def unstored(request: Request, error: OSError):  # a full disk, a read-only folder: no server path shown
        return JSONResponse({"detail": str(storage_error(error))}, status_code=503)

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception):  # a bug: logged by the server, one line for the client
        return JSONResponse({"detail": "internal error: the server's log has the details"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        return JSONResponse({"detail": _validation_line(error)}, status_code=400)

    app.add_middleware(_Guard, limits=limits, hosts=allowed_hosts)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/settings", summary="The form: settings fields, presets, video options and this server's limits")
    def settings():
        return {"fields": forms.fields(), "presets": forms.presets(), "video": list(videos.OPTIONS),
                "trim": list(videos.TRIM), "limits": _limits(limits)}

    @app.post("/api/jobs", status_code=201, summary="Create a job", openapi_extra=_job_form_schema())
    async def create(request: Request):
        form, settings_form = await _form(request, jobs, limits)
        if any(isinstance(v, UploadFile) for v in form.getlist("video")) or set(settings_form) & set(videos.NAMES):
            raise PainterlyError("a video job is made by POST /api/videos (with a video file): send it there")
        preset_name = str(settings_form.pop("preset", "") or "default")
        settings = forms.parse_settings(preset_name, settings_form, limits)  # bad settings: before any image work
        _check_work(settings, limits)
        forms.check_scaled(settings, [], limits)
        with tempfile.TemporaryDirectory(dir=jobs.folder, prefix=".upload-") as staging:
            content, styles = await _inputs(form, Path(staging), limits)
            _check_blend(settings, styles)
            forms.check_scaled(settings, _sides(styles), limits)
            return await asyncio.to_thread(jobs.submit, settings, preset_name, content, styles, limit=limits.queue)

    @app.post("/api/videos", status_code=201, summary="Create a video job", openapi_extra=_video_form_schema())
    async def create_video(request: Request):
        form, settings_form = await _form(request, jobs, limits)
        options_form = {name: settings_form.pop(name) for name in videos.NAMES if name in settings_form}
        preset_name = str(settings_form.pop("preset", "") or "default")
        if not (settings_form.get("method") or "").strip():
            settings_form["method"] = "fast"  # a video is painted with the fast method unless the form says otherwise
        settings = forms.parse_settings(preset_name, settings_form, limits)  # bad settings: before the clip is read
        options = videos.parse_options(options_form, settings, limits)
        forms.check_scaled(settings, [], limits)
        with tempfile.TemporaryDirectory(dir=jobs.folder, prefix=".upload-") as staging:
            content, styles, clip = await _video_inputs(form, Path(staging), limits, options)
            videos.check_work(settings, options, clip, limits)
            _check_blend(settings, styles)
            forms.check_scaled(settings, _sides(styles), limits)
            return await asyncio.to_thread(jobs.submit, settings, preset_name, content, styles, limit=limits.queue,
                                           video={**options, "clip": clip})

    @app.get("/api/paintings", summary="The shelf: the paintings a job may name instead of uploading one")
    def shelf():
        return [{"name": p.name, "title": p.title, "artist": p.artist, "year": p.year,
                 "image": f"/api/paintings/{p.name}/image"} for p in _shelf().paintings()]

    @app.get("/api/paintings/{name}/image", summary="A painting on the shelf as a thumbnail (JPEG)",
             response_class=Response)
    def shelf_image(name: str, size: int = Query(256, ge=16, le=1024, description="its longest side (16 to 1024)")):
        path = _painting(name)[1]
        return Response(_thumbnail(str(path), path.stat().st_mtime_ns, size), media_type="image/jpeg",
                        headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/jobs/{job_id}/photo", summary="A photo job's photo at its result's size (PNG)",
             response_class=Response)
    def photo(job_id: str):
        job = _status(jobs, job_id)
        if job["kind"] != "image":
            raise HTTPException(404, "a video job has no photo: its clip is painted frame by frame")
        path = _file(jobs, job_id, "content", "no photo: the job's folder has lost it")
        result = jobs.job_folder(job_id) / "result.png"
        return Response(_photo(path, result, job["settings"]["size"]), media_type="image/png",
                        headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs", summary="Every job, newest first")
    def listing(limit: int = Query(100, ge=1, le=LIST_LIMIT, description=f"at most this many (1 to {LIST_LIMIT})")):
        return jobs.list(limit)

    @app.get("/api/jobs/{job_id}", summary="A job's status")
    def status(job_id: str):
        return _status(jobs, job_id)

    @app.post("/api/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
    def cancel(job_id: str):
        _status(jobs, job_id)
        return jobs.cancel(job_id)

    @app.get("/api/jobs/{job_id}/events", summary="Progress as server-sent events",
             response_class=StreamingResponse,
             description="`progress` events carry one step each (id: its index, so a reconnect resumes); "
                         "`state` events carry the job's status whenever it changes. The stream ends when "
                         "the job has finished.")
    async def events(job_id: str, request: Request,
                     since: int = Query(0, ge=0, le=10**9, description="the first step to send (0 to 10^9)")):
        _status(jobs, job_id)
        last = request.headers.get("last-event-id", "")
        start = int(last) if last.isdigit() and len(last) <= 9 else since
        return StreamingResponse(_stream(jobs, job_id, start, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/jobs/{job_id}/preview", summary="The latest image (PNG)", response_class=Response)
    def preview(job_id: str):
        _status(jobs, job_id)
        job = _status(jobs, job_id)
        image = jobs.latest_image(job_id)
        if image is not None:
            return Response(_png(image), media_type="image/png", headers={"Cache-Control": "no-store"})
        kept = videos.PREVIEW if job["kind"] == "video" else "result.png"  # a video's: its latest frame
        return FileResponse(_file(jobs, job_id, kept, "no image yet: the job has not made its first step"),
                            media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/result", summary="The result (PNG, or a video job's MP4; a download)",
             response_class=FileResponse)
    def result(job_id: str):
        kind = _status(jobs, job_id)["kind"]
        missing = ("no result yet: the job has not made its first step" if kind == "image" else
                   "no video yet: it is written when the job ends, with the frames done")
        path = _file(jobs, job_id, RESULTS[kind], missing)
        return FileResponse(path, media_type=MEDIA[kind], filename=f"painterly-{job_id[:8]}{Path(path).suffix}")

    @app.get("/api/jobs/{job_id}/report", summary="The report page (self-contained HTML)", response_class=FileResponse)
    def report(job_id: str):
        page = _file(jobs, job_id, "report/index.html", "no report: the job has not finished")
        return Response(_scrubbed(page.read_bytes(), jobs), media_type="text/html",
                        headers={"Content-Security-Policy": REPORT_POLICY})

    @app.get("/api/jobs/{job_id}/report.zip", summary="The report folder as a zip", response_class=Response)
    def report_zip(job_id: str):
        folder = _file(jobs, job_id, "report/index.html", "no report: the job has not finished").parent
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    name = str(Path(f"painterly-{job_id[:8]}") / path.relative_to(folder))
                    if path.suffix in (".html", ".json", ".csv"):
                        archive.writestr(name, _scrubbed(path.read_bytes(), jobs))
                    else:
                        archive.write(path, name)
        return Response(buffer.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="painterly-{job_id[:8]}-report.zip"'})

    return app


async def _form(request: Request, jobs: Jobs, limits: forms.Limits):
    """The multipart form of a new job, and its text fields (settings, preset, options) by name."""
    if jobs.waiting() >= limits.queue:  # early, before the upload; submit checks again, atomically
        raise QueueFull(f"{limits.queue} jobs are already waiting: try again when one has finished")
    # generous file count: past it Starlette refuses first; up to it, _inputs names the limit
    form = await request.form(max_files=limits.styles + 16, max_fields=200, max_part_size=2**16)
    _check_closed(request)
    return form, {k: v for k, v in form.multi_items() if k not in UPLOADS and isinstance(v, str)}


def _sides(styles: list[tuple[str, Path]]) -> list[tuple[str, tuple[int, int]]]:
    """Each checked style image's display name and (width, height), from its header."""
    from PIL import Image

    sizes = []
    for name, path in styles:
        with Image.open(path) as image:
            sizes.append((name, image.size))
    return sizes


def _check_closed(request: Request) -> None:
    """Refuse a multipart body that ended before its closing boundary: its last part may be cut short, and
    the parser drops it without a word (python-multipart keeps no part it did not see end)."""
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    closed = request.scope.get(TAIL, b"").rstrip().endswith(b"--" + boundary + b"--")
    if kind == b"multipart/form-data" and not closed:
        raise PainterlyError("the upload ended before its closing boundary (the connection was cut?): send it again")


def _check_blend(settings, styles: list) -> None:
    if settings.style_blend is not None and len(settings.style_blend) != len(styles):
        raise PainterlyError(f"{len(settings.style_blend)} style weights for {len(styles)} style images: "
                             f"give one per style image")


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


async def _video_inputs(form, staging: Path, limits: forms.Limits, options: dict):
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


async def _inputs(form, staging: Path, limits: forms.Limits):
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


async def _style(style: UploadFile | str, path: Path, limits: forms.Limits) -> tuple[str, Path]:
    """A style image: an upload saved and checked, or a painting on the shelf (by name, never by path) copied."""
    if isinstance(style, str):
        title, source = _painting(style)
        return _copy(source, path, title)
    return await _save(style, path, "style image", limits)


def _shelf():
    from .. import shelf

    return shelf


def _painting(name: str) -> tuple[str, Path]:
    """(title, file) of the painting called `name` on the shelf; a 400 (a 404 in a URL) naming the closest."""
    import difflib

    shelf = _shelf()
    painting = shelf.find(name) if len(name) <= 200 else None  # a name only: a path is never looked up
    if painting is None:
        names = [p.name for p in shelf.paintings()]
        close = difflib.get_close_matches(name.strip().lower()[:200], names, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise PaintingNotFound(f"no painting '{_UNSAFE.sub('', name)[:80]}' on the shelf: {hint}"
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


def _photo(path: Path, result: Path, size) -> bytes:
    """A job's photo as the run saw it: at its result's size when there is one, else `size` on the longest side."""
    from PIL import Image

    picture = images.load_image(path, role="content photo")
    if result.is_file():
        with Image.open(result) as done:
            shape = done.size
    else:
        shape = images.fit_size((picture.rgb.shape[1], picture.rgb.shape[0]), int(size) if str(size).isdigit() else 512)
    return _png(images.resize(picture.rgb, shape))


async def _save(upload: UploadFile, path: Path, role: str, limits: forms.Limits) -> tuple[str, Path]:
    """Write an image upload to `path` (our name, not the user's) and check it as the CLI checks its inputs."""
    name = await _store(upload, path, role, limits.upload_bytes, "downscale it or choose a smaller file")
    return _checked(path, name, role, limits)


async def _store(upload: UploadFile, path: Path, role: str, most: int, fix: str, limit: str = "upload limit") -> str:
    """Write an upload of at most `most` bytes to `path`; the user's name for it, for display."""
    name = _display_name(upload.filename)
    size = upload.size if upload.size is not None else 0
    if size > most:
        raise TooLarge(f"{role} '{name}' is {_mb(size)}, over the {limit} of {_mb(most)}: {fix}")
    await upload.seek(0)
    with open(path, "wb") as file:
        await asyncio.to_thread(shutil.copyfileobj, upload.file, file)
    return name


def _copy(source: Path, path: Path, name: str) -> tuple[str, Path]:
    shutil.copyfile(source, path)
    return name, path


def _checked(path: Path, name: str, role: str, limits: forms.Limits) -> tuple[str, Path]:
    images.load_image(path, role=role, max_pixels=limits.pixels, shown_as=name)  # the user knows their name, not ours
    return name, path


def _display_name(filename: str | None) -> str:
    """The user's file name, for messages and the job list only: last path part, no control characters."""
    name = _UNSAFE.sub("", re.split(r"[\\/]", filename or "")[-1]).strip()
    return (name[:80] + "…" if len(name) > 80 else name) or "upload"


def _status(jobs: Jobs, job_id: str) -> dict:
    if not re.fullmatch(JOB_ID, job_id):
        raise HTTPException(404, f"no job '{job_id[:40]}': job ids are 32 hex digits, as POST /api/jobs returns")
    try:
        return jobs.status(job_id)
    except KeyError:
        raise HTTPException(404, f"no job {job_id}: see GET /api/jobs for the jobs this server has") from None


def _file(jobs: Jobs, job_id: str, name: str, missing: str) -> Path:
    _status(jobs, job_id)
    path = jobs.job_folder(job_id) / name
    if not path.is_file():
        raise HTTPException(404, missing)
    return path


async def _stream(jobs: Jobs, job_id: str, sent: int, request: Request):
    """Server-sent events: every step from index `sent` on, and the status when it changes, until done."""
    shown = None
    while True:
        for record in jobs.records(job_id, sent):
            sent += 1
            yield f"id: {sent}\nevent: progress\ndata: {json.dumps(record)}\n\n"
        status = jobs.status(job_id)
        if status != shown:
            shown = status
            yield f"event: state\ndata: {json.dumps(status)}\n\n"
        if status["state"] in FINISHED and not jobs.records(job_id, sent):
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


def _png(image) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(images.to_uint8(image)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} KB"


def _limits(limits: forms.Limits) -> dict:
    return {"upload_bytes": limits.upload_bytes, "pixels": limits.pixels, "size": limits.size,
            "iterations": limits.iterations, "styles": limits.styles, "queue": limits.queue, "work": limits.work,
            "video_bytes": limits.video_bytes, "video_seconds": limits.video_seconds,
            "video_frames": limits.video_frames, "video_pixels": limits.video_pixels}


def _check_work(settings, limits: forms.Limits) -> None:
    """Refuse a job whose total work (pixels × iterations, summed over its scales) is over the limit.
    Each scale counts as a square of its longest side: an upper bound, known before any image is read."""
    sides = settings.scale_sizes(settings.size)
    work = forms.work_of(settings)
    if work > limits.work:
        scales = f"{len(sides)} scales ({', '.join(map(str, sides))} px)" if len(sides) > 1 else f"{sides[0]} px"
        raise SettingsError(f"this job is {work:,} pixel-iterations over {scales}, over this server's limit of "
                            f"{limits.work:,} pixel-iterations per job: lower size, iterations or fine iterations, "
                            f"or raise min size")


def _validation_line(error: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: which value, what is wrong with it."""
    parts = []
    for problem in error.errors()[:3]:
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "path", "header", "body"))
        given = problem.get("input")
        shown = f" '{_UNSAFE.sub('', str(given))[:40]}'" if isinstance(given, (str, int, float)) else ""
        parts.append(f"{where or 'the request'}{shown}: {_UNSAFE.sub(' ', str(problem.get('msg', 'invalid')))}")
    return "; ".join(parts) + ": see /api/openapi.json for the values each takes"


def _scrubbed(data: bytes, jobs: Jobs) -> bytes:
    """A report file as served: no server paths (the data folder's, this machine's home) nor platform string.
    Reports written by this version hold none already (jobs.py writes file names only); older ones may."""
    text = data.decode("utf-8", "replace")
    folders = {str(jobs.folder.resolve()), str(jobs.folder.absolute()), str(Path.home())} - {"", "/"}
    for folder in sorted(folders, key=len, reverse=True):
        for shown in {folder, html.escape(folder)}:  # a path in it is shown as its last part, the file name
            text = re.sub(re.escape(shown) + r"(?:/[^\s\"'<>,;]*)?", lambda m: m.group(0).rsplit("/", 1)[-1], text)
    if platform.platform():
        text = text.replace(platform.platform(), "")
    return text.encode("utf-8")


class _Guard:
    """Every HTTP request: the Host checked (DNS rebinding), other sites' pages refused, the body counted as it
    arrives (chunked uploads too) and cut off at the limit; every response gets the security headers."""

    def __init__(self, app, *, limits: forms.Limits, hosts: Iterable[str] | None):
        self.app = app
        self.most = limits.upload_bytes * (limits.styles + 1) + 2**20
        self.most_video = limits.video_bytes + limits.upload_bytes * limits.styles + 2**20  # POST /api/videos
        self.per_image, self.per_video = limits.upload_bytes, limits.video_bytes
        self.hosts = None if hosts is None else {host_name(h) for h in hosts}
        self.any_address = bool(self.hosts and self.hosts & {"0.0.0.0", "::"})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def secured(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS
                            if name.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            return await JSONResponse({"detail": refusal[1]}, status_code=refusal[0])(scope, receive, secured)
        received, most = 0, self._most(scope)
        tail = scope[TAIL] = bytearray()  # enough to hold a closing boundary (at most 70 characters + 6)

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                tail[:] = (tail + body)[-256:]
                if received > most:
                    raise TooLarge(self._too_large(scope, f"over {_mb(most)} ({_mb(received)} so far)"))
            return message

        try:
            await self.app(scope, counted, secured)
        except TooLarge as error:  # raised where no handler turned it into the answer
            if started:
                raise
            await JSONResponse({"detail": str(error)}, status_code=413)(scope, receive, secured)

    def _most(self, scope) -> int:
        return self.most_video if scope.get("path") == "/api/videos" else self.most

    def _too_large(self, scope, size: str) -> str:
        video = f"{_mb(self.per_video)} per video and " if scope.get("path") == "/api/videos" else ""
        return f"the upload is {size}, over the upload limit of {video}{_mb(self.per_image)} per image: choose " \
               f"smaller files"

    def _refusal(self, scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.hosts is not None:
            name = host_name(host)
            if not name:
                return 400, "no Host header: send the server's name, as a browser does"
            if name not in self.hosts and not (self.any_address and _is_address(name)):
                shown = _UNSAFE.sub("", name)[:80]
                return 421, (f"host '{shown}' is not served here: open this server by its own name, or start it "
                             f"with --allowed-host {shown} if that is one of its names")
        origin = headers.get("origin")
        if scope["method"] not in ("GET", "HEAD") and origin and urlsplit(origin).netloc != host:
            return 403, f"a request from the page of {_UNSAFE.sub('', origin)[:80]} was refused: use painterly's own " \
                        f"page or a script"
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._most(scope):
            return 413, self._too_large(scope, _mb(int(declared)))
        return None


def host_name(host: str) -> str:
    """The name in a Host header (or a --host value), lower case, without port, brackets or final dot;
    "" when it is not a well-formed host[:port]."""
    host = host.strip().lower()
    name, port = host, ""
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return ""
        port = port[1:]
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
    elif ":" in host:  # a bare IPv6 address (a --host value)
        return host if _is_address(host) else ""
    if port and not port.isdigit():
        return ""
    return name.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _job_form_schema() -> dict:
    """The multipart body of POST /api/jobs for the OpenAPI document, from the same fields as the form."""
    properties = {
        "content": {"type": "string", "format": "binary", "description": "the photo to repaint"},
        "style": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "one or more style images (repeat the field); a painting's name on the shelf "
                                 "(GET /api/paintings) in place of a file"},
        "demo": {"type": "boolean", "description": "use the bundled demo pair instead of uploads"},
        "preset": {"type": "string", "default": "default", "description": "named settings"},
    }
    for field in forms.fields():
        kind = {"int": "string", "float": "string", "bool": "boolean"}.get(field["type"], "string")
        properties[field["name"]] = {"type": kind, "description": f"{field['help']} (as {field['flag']})",
                                     **({"enum": field["choices"]} if field["choices"] else {})}
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": {"type": "object", "properties": properties}}}}}


def _video_form_schema() -> dict:
    """The multipart body of POST /api/videos: the clip, the paintings, the settings and the video options."""
    schema = _job_form_schema()
    properties = schema["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    del properties["content"], properties["demo"]
    properties["video"] = {"type": "string", "format": "binary",
                           "description": "the clip to paint (within the server's limits: GET /api/settings)"}
    properties["method"]["default"] = "fast"
    for option in videos.OPTIONS + videos.TRIM:
        properties[option["name"]] = {"type": "string", "description": f"{option['help']} (as {option['flag']})",
                                      **({"enum": option["choices"]} if option["choices"] else {})}
    return schema


def _version() -> str:
    from ..version import __version__

    return __version__
