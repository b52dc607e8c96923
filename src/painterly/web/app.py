"""The web app: a page and a JSON API over `Jobs`. `create_app(data_dir)` builds it from the rooms beside this one:
`guard` (every request checked), `submit` (making jobs, with `uploads`), `results` (reading and cancelling them),
`paintings` (the shelf); `jobs` runs them.

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
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from ..errors import PainterlyError
from . import forms, paintings, results, submit, videos
from .guard import UNSAFE, Guard, TooLarge
from .jobs import Jobs, JobStateError, QueueFull
from .paintings import PaintingNotFound
from .store import StoreError, storage_error

STATIC = Path(__file__).resolve().parent / "static"


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

    app.add_middleware(Guard, limits=limits, hosts=allowed_hosts)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/settings", summary="The form: settings fields, presets, video options and this server's limits")
    def settings():
        return {"fields": forms.fields(), "presets": forms.presets(), "video": list(videos.OPTIONS),
                "trim": list(videos.TRIM), "limits": _limits(limits)}

    submit.add_routes(app, jobs, limits)
    paintings.add_routes(app)
    results.add_routes(app, jobs)
    return app



def _limits(limits: forms.Limits) -> dict:
    return {"upload_bytes": limits.upload_bytes, "pixels": limits.pixels, "size": limits.size,
            "iterations": limits.iterations, "styles": limits.styles, "queue": limits.queue, "work": limits.work,
            "video_bytes": limits.video_bytes, "video_seconds": limits.video_seconds,
            "video_frames": limits.video_frames, "video_pixels": limits.video_pixels}


def _validation_line(error: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: which value, what is wrong with it."""
    parts = []
    for problem in error.errors()[:3]:
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "path", "header", "body"))
        given = problem.get("input")
        shown = f" '{UNSAFE.sub('', str(given))[:40]}'" if isinstance(given, (str, int, float)) else ""
        parts.append(f"{where or 'the request'}{shown}: {UNSAFE.sub(' ', str(problem.get('msg', 'invalid')))}")
    return "; ".join(parts) + ": see /api/openapi.json for the values each takes"


def _version() -> str:
    from ..version import __version__

    return __version__
