"""A job in the web app once it is made: its status, its progress as server-sent events, its pictures, result
and report, and cancelling it.

    GET  /api/jobs                      every job, newest first
    GET  /api/jobs/{id}                 one job's status
    GET  /api/jobs/{id}/events          its progress as server-sent events (step records, then state changes)
    GET  /api/jobs/{id}/preview         the latest image (PNG)
    GET  /api/jobs/{id}/photo           a photo job's photo at its result's size (the page's before/after)
    GET  /api/jobs/{id}/result          the result (PNG, or a video job's MP4, as a download)
    GET  /api/jobs/{id}/report          the report page; /report.zip the whole report folder
    POST /api/jobs/{id}/cancel          cancel it

The reports served show file names, not the server's paths.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import platform
import re
import zipfile
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from .. import images
from . import videos
from .jobs import FINISHED, RESULTS, Jobs

JOB_ID = r"^[0-9a-f]{32}$"
POLL_SECONDS = 0.25  # how often an event stream looks for new steps
LIST_LIMIT = 1000  # most jobs one GET /api/jobs returns
# a report page is self-contained: an inline <style> and data: images, no script at all
REPORT_POLICY = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
MEDIA = {"image": "image/png", "video": "video/mp4"}


def add_routes(app: FastAPI, jobs: Jobs) -> None:
    """The routes that read or cancel a job."""

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


def _png(image) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(images.to_uint8(image)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


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
