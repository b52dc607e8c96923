"""The web app: a page and a JSON API over `Jobs`. `create_app(data_dir)` builds it.

    GET  /                              the page (static/index.html; works offline)
    GET  /api/settings                  the form: fields from Settings, presets, limits
    POST /api/jobs                      create a job (multipart: content, style..., or demo=true; preset; settings)
    GET  /api/jobs                      every job, newest first
    GET  /api/jobs/{id}                 one job's status
    GET  /api/jobs/{id}/events          its progress as server-sent events (step records, then state changes)
    GET  /api/jobs/{id}/preview         the latest image (PNG)
    GET  /api/jobs/{id}/result          the result (PNG, as a download)
    GET  /api/jobs/{id}/report          the report page; /report.zip the whole report folder
    POST /api/jobs/{id}/cancel          cancel it
    GET  /api/openapi.json              this API's OpenAPI document

Errors are JSON `{"detail": "one line naming the problem and the fix"}`.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import tempfile
import zipfile
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from .. import images
from ..cli import demo_pair
from ..errors import InputImageError, PainterlyError
from . import forms
from .jobs import FINISHED, Jobs, JobStateError

STATIC = Path(__file__).resolve().parent / "static"
JOB_ID = r"^[0-9a-f]{32}$"
POLL_SECONDS = 0.25  # how often an event stream looks for new steps
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class TooLarge(InputImageError):
    """An upload over the size limit (HTTP 413)."""


def create_app(data_dir: str | Path, *, workers: int = 1, limits: forms.Limits = forms.Limits()) -> FastAPI:
    """The app, keeping its jobs in `data_dir` (created if missing); workers start with the app."""
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
        status = 409 if isinstance(error, JobStateError) else 413 if isinstance(error, TooLarge) else 400
        return JSONResponse({"detail": str(error)}, status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD") and origin and urlsplit(origin).netloc != request.headers.get("host"):
            return JSONResponse({"detail": f"a request from the page of {origin[:80]} was refused: use painterly's "
                                           f"own page or a script"}, status_code=403)
        declared = request.headers.get("content-length")
        most = limits.upload_bytes * (limits.styles + 1) + 2**20
        if declared and declared.isdigit() and int(declared) > most:
            return JSONResponse({"detail": f"the upload is {_mb(int(declared))}, over the upload limit of "
                                           f"{_mb(limits.upload_bytes)} per image: choose smaller files"},
                                status_code=413)
        return await call_next(request)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/settings", summary="The form: settings fields, presets and this server's limits")
    def settings():
        return {"fields": forms.fields(), "presets": forms.presets(), "limits": _limits(limits)}

    @app.post("/api/jobs", status_code=201, summary="Create a job", openapi_extra=_job_form_schema())
    async def create(request: Request):
        if jobs.waiting() >= limits.queue:
            raise HTTPException(503, f"{limits.queue} jobs are already waiting: try again when one has finished")
        # generous file count: past it Starlette refuses first; up to it, _inputs names the limit
        form = await request.form(max_files=limits.styles + 16, max_fields=200, max_part_size=2**16)
        with tempfile.TemporaryDirectory(dir=jobs.folder, prefix=".upload-") as staging:
            content, styles, settings_form = await _inputs(form, Path(staging), limits)
            preset_name = str(settings_form.pop("preset", "") or "default")
            settings = forms.parse_settings(preset_name, settings_form, limits)
            if settings.style_blend is not None and len(settings.style_blend) != len(styles):
                raise PainterlyError(f"{len(settings.style_blend)} style weights for {len(styles)} style images: "
                                     f"give one per style image")
            return await asyncio.to_thread(jobs.submit, settings, preset_name, content, styles)

    @app.get("/api/jobs", summary="Every job, newest first")
    def listing(limit: int = 100):
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
    async def events(job_id: str, request: Request, since: int = 0):
        _status(jobs, job_id)
        last = request.headers.get("last-event-id", "")
        start = int(last) if last.isdigit() else max(0, since)
        return StreamingResponse(_stream(jobs, job_id, start, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/jobs/{job_id}/preview", summary="The latest image (PNG)", response_class=Response)
    def preview(job_id: str):
        _status(jobs, job_id)
        image = jobs.latest_image(job_id)
        if image is not None:
            return Response(_png(image), media_type="image/png", headers={"Cache-Control": "no-store"})
        return FileResponse(_file(jobs, job_id, "result.png", "no image yet: the job has not made its first step"),
                            media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/result", summary="The result (PNG download)", response_class=FileResponse)
    def result(job_id: str):
        path = _file(jobs, job_id, "result.png", "no result yet: the job has not made its first step")
        return FileResponse(path, media_type="image/png", filename=f"painterly-{job_id[:8]}.png")

    @app.get("/api/jobs/{job_id}/report", summary="The report page (self-contained HTML)", response_class=FileResponse)
    def report(job_id: str):
        return FileResponse(_file(jobs, job_id, "report/index.html", "no report: the job has not finished"),
                            media_type="text/html")

    @app.get("/api/jobs/{job_id}/report.zip", summary="The report folder as a zip", response_class=Response)
    def report_zip(job_id: str):
        folder = _file(jobs, job_id, "report/index.html", "no report: the job has not finished").parent
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    archive.write(path, Path(f"painterly-{job_id[:8]}") / path.relative_to(folder))
        return Response(buffer.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="painterly-{job_id[:8]}-report.zip"'})

    return app


async def _inputs(form, staging: Path, limits: forms.Limits):
    """(content, styles, the other fields) from the form; every image saved under our name and checked."""
    uploads_content = [v for v in form.getlist("content") if isinstance(v, UploadFile)]
    uploads_styles = [v for v in form.getlist("style") if isinstance(v, UploadFile) and v.filename]
    others = {k: v for k, v in form.multi_items() if k not in ("content", "style", "demo") and isinstance(v, str)}
    demo = str(form.get("demo") or "").strip().lower() in ("true", "on", "1")
    uploads_content = [u for u in uploads_content if u.filename]
    if demo:
        if uploads_content or uploads_styles:
            raise PainterlyError("the demo uses the bundled pair: remove the uploaded images or untick the demo")
        content_path, style_path = demo_pair()
        content = _copy(content_path, staging / "content", "demo photo (coffee)")
        return content, [_copy(style_path, staging / "style-1", "demo painting (The Starry Night)")], others
    if not uploads_content:
        raise PainterlyError("no content photo: pick the photo to repaint (or use the demo pair)")
    if len(uploads_content) > 1:
        raise PainterlyError("several content photos: pick one photo to repaint")
    if not uploads_styles:
        raise PainterlyError("no style image: pick at least one painting (or use the demo pair)")
    if len(uploads_styles) > limits.styles:
        raise PainterlyError(f"{len(uploads_styles)} style images: choose at most {limits.styles}")
    content = await _save(uploads_content[0], staging / "content", "content photo", limits)
    styles = [await _save(u, staging / f"style-{i}", "style image", limits) for i, u in enumerate(uploads_styles, 1)]
    return content, styles, others


async def _save(upload: UploadFile, path: Path, role: str, limits: forms.Limits) -> tuple[str, Path]:
    """Write an upload to `path` (our name, not the user's) and check it as the CLI checks its inputs."""
    name = _display_name(upload.filename)
    size = upload.size if upload.size is not None else 0
    if size > limits.upload_bytes:
        raise TooLarge(f"{role} '{name}' is {_mb(size)}, over the upload limit of {_mb(limits.upload_bytes)}: "
                             f"downscale it or choose a smaller file")
    await upload.seek(0)
    with open(path, "wb") as file:
        await asyncio.to_thread(shutil.copyfileobj, upload.file, file)
    return _checked(path, name, role, limits)


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
            "iterations": limits.iterations, "styles": limits.styles, "queue": limits.queue}


def _job_form_schema() -> dict:
    """The multipart body of POST /api/jobs for the OpenAPI document, from the same fields as the form."""
    properties = {
        "content": {"type": "string", "format": "binary", "description": "the photo to repaint"},
        "style": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "one or more style images (repeat the field)"},
        "demo": {"type": "boolean", "description": "use the bundled demo pair instead of uploads"},
        "preset": {"type": "string", "default": "default", "description": "named settings"},
    }
    for field in forms.fields():
        kind = {"int": "string", "float": "string", "bool": "boolean"}.get(field["type"], "string")
        properties[field["name"]] = {"type": kind, "description": f"{field['help']} (as {field['flag']})",
                                     **({"enum": field["choices"]} if field["choices"] else {})}
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": {"type": "object", "properties": properties}}}}}


def _version() -> str:
    from .. import __version__

    return __version__
