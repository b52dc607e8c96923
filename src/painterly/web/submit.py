"""Making jobs in the web app: POST /api/jobs (a photo) and POST /api/videos (a clip), each checked in the order
that costs least first (the queue's room, the settings and the work they ask for, then the uploads, read and
checked in a staging folder) and handed to `Jobs.submit`; and the OpenAPI description of their forms.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.datastructures import UploadFile

from ..errors import PainterlyError, SettingsError
from . import forms, videos
from .jobs import Jobs
from .uploads import check_blend, image_inputs, read_form, style_sizes, video_inputs


def add_routes(app: FastAPI, jobs: Jobs, limits: forms.Limits) -> None:
    """The routes that make a job."""

    @app.post("/api/jobs", status_code=201, summary="Create a job", openapi_extra=_job_form_schema())
    async def create(request: Request):
        form, settings_form = await read_form(request, jobs, limits)
        if any(isinstance(v, UploadFile) for v in form.getlist("video")) or set(settings_form) & set(videos.NAMES):
            raise PainterlyError("a video job is made by POST /api/videos (with a video file): send it there")
        preset_name = str(settings_form.pop("preset", "") or "default")
        settings = forms.parse_settings(preset_name, settings_form, limits)  # bad settings: before any image work
        _check_work(settings, limits)
        forms.check_scaled(settings, [], limits)
        with tempfile.TemporaryDirectory(dir=jobs.folder, prefix=".upload-") as staging:
            content, styles = await image_inputs(form, Path(staging), limits)
            check_blend(settings, styles)
            forms.check_scaled(settings, style_sizes(styles), limits)
            return await asyncio.to_thread(jobs.submit, settings, preset_name, content, styles, limit=limits.queue)

    @app.post("/api/videos", status_code=201, summary="Create a video job", openapi_extra=_video_form_schema())
    async def create_video(request: Request):
        form, settings_form = await read_form(request, jobs, limits)
        options_form = {name: settings_form.pop(name) for name in videos.NAMES if name in settings_form}
        preset_name = str(settings_form.pop("preset", "") or "default")
        if not (settings_form.get("method") or "").strip():
            settings_form["method"] = "fast"  # a video is painted with the fast method unless the form says otherwise
        settings = forms.parse_settings(preset_name, settings_form, limits)  # bad settings: before the clip is read
        options = videos.parse_options(options_form, settings, limits)
        forms.check_scaled(settings, [], limits)
        with tempfile.TemporaryDirectory(dir=jobs.folder, prefix=".upload-") as staging:
            content, styles, clip = await video_inputs(form, Path(staging), limits, options)
            videos.check_work(settings, options, clip, limits)
            check_blend(settings, styles)
            forms.check_scaled(settings, style_sizes(styles), limits)
            return await asyncio.to_thread(jobs.submit, settings, preset_name, content, styles, limit=limits.queue,
                                           video={**options, "clip": clip})


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
