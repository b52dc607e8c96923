"""The web app's video jobs: a clip checked against the server's limits, the video options parsed, and one
job run over `painterly.video.run_video`, each finished frame handed to the job's live view.

    clip = probe(path, "holiday.mp4", limits)    # before any work: one line naming the limit it is over
    options = parse_options(form, settings, limits)   # temporal mode, its weight, frame iterations
    check_work(settings, options, clip, limits)
    state, message = run(folder, settings, options, live, shown="holiday.mp4", ...)   # in a worker of `jobs`

A video job's folder holds the clip as `content` (our name, not the user's), `style-1`, ..., `result.mp4`
(H.264, the clip's audio copied) and `preview.png` (the latest frame, rewritten every few seconds). The
frames done wait in `work/` while it runs; that folder is removed when the job ends, the video holds them.
After a crash the next server writes the frames found there into the video (`salvage`): they are kept.
No FastAPI here: `app` and its route modules are the HTTP side, `jobs` the queue.
"""

from __future__ import annotations

import json
import shutil
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable, Mapping

from .. import methods
from ..errors import PainterlyError, SettingsError
from ..settings import METHODS, OPTIMISE, Settings, check_video_options
from ..video.optimise import FRAME_ITERATIONS  # neither pulls in OpenCV, PyAV or TensorFlow
from ..video.run import MODES
from .forms import Limits, work_of

RESULT = "result.mp4"
PREVIEW = "preview.png"
WORK = "work"


def _flags(words: dict) -> tuple[dict, ...]:
    """`painterly video`'s flags named in `words` (field name -> the page's label, the methods it applies to) as
    the form describes them: flag, type, choices, default and help read from the command's own parser, so the
    page, the API and the command line cannot drift apart."""
    from ..video.cli import build_parser  # argparse and the video's numbers: no OpenCV, PyAV or TensorFlow

    actions = {action.dest: action for action in build_parser()._actions}
    described = []
    for name, (label, applies_to) in words.items():
        action = actions[name]
        described.append({"name": name, "label": label, "flag": max(action.option_strings, key=len),
                          "type": {int: "int", float: "float"}.get(action.type, "str"),
                          "choices": list(action.choices) if action.choices else None, "default": action.default,
                          "methods": list(applies_to), "help": action.help})
    return tuple(described)


OPTIONS = _flags({  # the video's own fields (GET /api/settings: "video")
    "temporal": ("Temporal mode", METHODS), "temporal_weight": ("Temporal weight", METHODS),
    "frame_iterations": ("Frame iterations", OPTIMISE)})
TRIM = _flags({"start": ("Start (s)", METHODS), "duration": ("Duration (s)", METHODS)})  # the part of the clip
NAMES = tuple(option["name"] for option in OPTIONS + TRIM)


class VideoRefused(PainterlyError):
    """An uploaded clip over one of the server's limits, or one FFmpeg cannot read."""


# -- before the job is queued


def parse_options(form: Mapping[str, str], settings: Settings, limits: Limits) -> dict:
    """The video options from the form's non-empty values; SettingsError naming the field."""
    options = {option["name"]: option["default"] for option in OPTIONS + TRIM}
    for option in OPTIONS + TRIM:
        text = (form.get(option["name"]) or "").strip()
        if text:
            options[option["name"]] = _value(option, text)
    if options["temporal"] not in MODES:
        raise SettingsError(f"temporal mode '{options['temporal'][:40]}' is not one of {', '.join(MODES)}: choose one")
    check_video_options(settings, options["temporal"], options["temporal_weight"], options["frame_iterations"],
                        most_iterations=limits.iterations)
    if options["start"] < 0:
        raise SettingsError(f"start {options['start']:g} s is before the clip: give 0 or more seconds")
    if options["duration"] is not None and options["duration"] <= 0:
        raise SettingsError(f"duration {options['duration']:g} s is empty: give more than 0 seconds, or leave it "
                            f"empty for the rest of the clip")
    return options


def _value(option: dict, text: str):
    kind = {"int": int, "float": float}.get(option["type"])
    if kind is None:
        return text
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"setting {option['flag']}: '{text[:40]}' is not {'a whole' if kind is int else 'a'} "
                            f"number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingsError(f"setting {option['flag']}: '{text[:40]}' is not a finite number")
    return value


def probe(path: Path, shown: str, limits: Limits, *, start: float = 0.0, duration: float | None = None) -> dict:
    """Check the part of the clip at `path` (shown to the user as `shown`) from `start` for `duration` seconds
    against the limits, and that it decodes: its numbers (frames, seconds, size, fps, audio), or VideoRefused in
    one line naming the limit."""
    from ..video.source import InputVideoError, open_source

    part = f" from {start:g} s" if start else ""
    try:
        source = open_source(path, start=start, duration=duration)
        info = source.info
        if _is_still(path):
            raise VideoRefused(f"'{shown}' is a still image, not a video: paint it as a photo instead")
        width, height = info.size
        if width * height > limits.video_pixels:
            raise VideoRefused(f"video '{shown}' has {width}×{height} frames ({width * height:,} pixels), over this "
                               f"server's limit of {limits.video_pixels:,} pixels per frame: downscale it "
                               f"before uploading, or paint it with `painterly video`, which has no such limit")
        frames = info.frames if info.frames is not None else _count_frames(path, limits.video_frames + 1)
        seconds = frames / float(info.fps)
        if seconds > limits.video_seconds + 0.5 / float(info.fps):  # within half a frame: 10 s at 29.97/s is 300
            raise VideoRefused(f"video '{shown}'{part} is {seconds:.1f} s long, over this server's limit of "
                               f"{limits.video_seconds:g} s per video: cut it shorter with a duration of at most "
                               f"{limits.video_seconds:g} s (and a start, to skip the beginning); no other tool "
                               f"needed")
        if frames > limits.video_frames:
            raise VideoRefused(f"video '{shown}'{part} has {frames} frames, over this server's limit of "
                               f"{limits.video_frames} frames per video: paint a part of it, with a shorter "
                               f"duration")
        decoded = iter(source)  # the first frame now: a clip with none is refused before it waits in the queue
        first = next(decoded)  # (a later frame of another size ends the run: video.source)
        decoded.close()
        if first.shape[0] * first.shape[1] > limits.video_pixels:
            raise VideoRefused(f"video '{shown}' decodes to {first.shape[1]}×{first.shape[0]} frames, over this "
                               f"server's limit of {limits.video_pixels:,} pixels per frame: downscale it "
                               f"before uploading, or paint it with `painterly video`, which has no such limit")
    except InputVideoError as error:
        message = str(error).replace(f"'{path}'", f"'{shown}'").replace(" or a folder of frames", "")
        message = message.replace("--start", "start").replace("--duration", "duration")
        raise VideoRefused(message) from None
    return {"frames": frames, "seconds": round(seconds, 3), "size": [width, height], "fps": float(info.fps),
            "audio": info.audio}


def _is_still(path: Path) -> bool:
    """Whether FFmpeg reads `path` as a single picture (its image demuxers: png_pipe, jpeg_pipe, image2 ...)."""
    import av

    with av.open(str(path)) as container:
        return container.format.name == "image2" or container.format.name.endswith("_pipe")


def _count_frames(path: Path, most: int) -> int:
    """Video packets in `path` (its container did not say how many frames it holds), counting to `most`."""
    import av

    count = 0
    try:
        with av.open(str(path)) as container:
            for packet in container.demux(container.streams.video[0]):
                count += bool(packet.size)
                if count >= most:
                    break
    except av.error.FFmpegError:
        pass  # a damaged stream: what was counted stands, and decoding it tells the rest
    return count


def check_work(settings: Settings, options: dict, clip: dict, limits: Limits) -> None:
    """Refuse an optimised video whose work (the first frame's pixel-iterations, then each later frame's) is
    over the per-job limit; the fast method paints a frame in one pass."""
    if not methods.get(settings.method).iterative:
        return
    # along the flow each later frame takes the frame iterations; frame by frame or blended, every frame is a still
    steps = (options["frame_iterations"] or FRAME_ITERATIONS) if options["temporal"] == "flow" else settings.iterations
    later = (min(clip["frames"], limits.video_frames) - 1) * settings.size ** 2 * steps
    work = work_of(settings) + later
    if work > limits.work:
        raise SettingsError(f"this video is {work:,} pixel-iterations ({clip['frames']} frames, {steps} steps a "
                            f"frame after the first, at {settings.size} px), over this server's limit of "
                            f"{limits.work:,} per job: use the fast method, or lower size or frame iterations")


# -- the job, in a worker thread


def run(folder: Path, settings: Settings, options: dict, live, *, shown: str, most_frames: int,
        save_seconds: float, update: Callable[..., None], network=None, on_start=None) -> tuple[str, str | None]:
    """Paint the clip in `folder` into `folder/result.mp4`; (state, message) for the job's record.
    live: the job's `_Live` (records, latest image, stop); update(**fields): the job's record; network: the
    optimisation's feature network to reuse (`networks.Networks`), None: the run builds its own."""
    from .. import images
    from ..video import VideoJob, run_video

    styles = sorted(folder.glob("style-*"), key=lambda p: int(p.name.split("-")[1]))
    job = VideoJob(folder / "content", tuple(styles), settings, output=folder / RESULT, work=folder / WORK,
                   frames=most_frames, start=options.get("start") or 0.0, duration=options.get("duration"),
                   temporal=options["temporal"], temporal_weight=options["temporal_weight"],
                   frame_iterations=options["frame_iterations"])
    errors: list[float] = []
    saved = [0.0]
    notices: list[str] = []

    def listen(frame) -> bool:
        if frame.warping_error is not None:
            errors.append(frame.warping_error)
        live.records.append(frame_progress(frame, errors))
        live.image = frame.image
        if time.monotonic() - saved[0] >= save_seconds:
            images.save_image(folder / PREVIEW, frame.image)
            update(progress=json.dumps(live.records[-1]))
            saved[0] = time.monotonic()
        return not live.stop.is_set()

    try:
        outcome = run_video(job, listen=listen, notice=notices.append, network=network, on_start=on_start,
                            stop=live.stop.is_set)
    except PainterlyError as error:  # refused before the first frame: bad settings for this clip, no frames
        return "failed", shown_message(str(error), folder, shown)
    finally:
        shutil.rmtree(folder / WORK, ignore_errors=True)  # no resume from the web: the video holds the frames
    if live.image is not None:
        images.save_image(folder / PREVIEW, live.image)
        live.image = None  # from now on the preview is the saved last frame
    if live.records:
        update(progress=json.dumps(live.records[-1]))
    return _ending(outcome, live, folder, shown, notices)


def salvage(folder: Path) -> str:
    """After a crash (the server killed while the job in `folder` ran): the frames it had painted, found in its
    work folder, written as its video, audio included, and its preview; the work folder then removed. What was
    kept, as the end of the job's message (": the 5 frames done are kept in the video"); "" when nothing was."""
    from .. import images
    from ..video import sink as sinks

    work = folder / WORK
    try:
        meta = json.loads((work / "job.json").read_text())
        source, size = meta["source"], tuple(meta["key"]["size"])
    except (OSError, ValueError, KeyError, TypeError):  # no frame painted yet, or not a work folder of ours
        return ""
    frames = []
    while (work / "frames" / f"{len(frames):06d}.png").is_file():  # each written whole (write, then rename)
        frames.append(work / "frames" / f"{len(frames):06d}.png")
    if not frames:
        shutil.rmtree(work, ignore_errors=True)
        return ""
    fps = Fraction(source["fps_fraction"])
    audio = sinks.AudioSource(folder / "content", source["start_time"], source["start_time"] + len(frames) / fps,
                              lead=source["first"] == 0) if source.get("audio") else None
    done = f"the {len(frames)} frames done" if len(frames) != 1 else "the 1 frame done"
    try:
        with sinks.open_sink(folder / RESULT, size=size, fps=fps, audio=audio) as out:
            for path in frames:
                out.write(sinks.read_frame(path))
        images.save_image(folder / PREVIEW, sinks.read_frame(frames[-1]))
    except (OSError, PainterlyError) as error:
        why = shown_message(str(error), folder, "the clip")
        return f": {done} are kept in its work folder (the video could not be written: {why})"
    shutil.rmtree(work, ignore_errors=True)
    return f": {done} are kept in the video"


def _ending(outcome, live, folder: Path, shown: str, notices: list[str]) -> tuple[str, str | None]:
    """The job's state and message from the run's outcome."""
    kept = outcome.output is not None
    done = ((f"the {outcome.frames} frames done are kept" if outcome.frames != 1 else "the 1 frame done is kept")
            + " in the video") if kept else "no frame was finished"
    if outcome.failure is not None:
        return "failed", shown_message(str(outcome.failure), folder, shown) + (f" ({done})" if kept else "")
    if outcome.stopped == "completed":
        return "completed", "; ".join(shown_message(n, folder, shown) for n in notices) or None
    state = live.stop_as if outcome.stopped == "cancelled" else "interrupted"
    return state, ("cancelled" if state == "cancelled" else "the server stopped") + f": {done}"


def frame_progress(frame, errors: list[float]) -> dict:
    """The numbers of one finished frame the page shows (`FrameDone` without its image)."""
    done = frame.index + 1
    rate = done / frame.elapsed if frame.elapsed > 0 else None
    eta = (frame.total - done) * frame.elapsed / done if frame.total and frame.elapsed > 0 else None
    height, width = frame.image.shape[:2]
    return {"frame": frame.index, "frames": frame.total, "size": [width, height],
            "seconds": round(frame.seconds, 3), "elapsed": round(frame.elapsed, 3),
            "fps": round(rate, 2) if rate else None, "eta": round(eta, 1) if eta is not None else None,
            "warping_error": frame.warping_error, "mean_warping_error": sum(errors) / len(errors) if errors else None,
            "reliable": frame.reliable, "terms": dict(frame.terms)}


def shown_message(message: str, folder: Path, shown: str) -> str:
    """A message as the user may see it: the job's input by its user name, no server paths."""
    message = message.replace(str(folder / "content"), shown)
    return message.replace(str(folder) + "/", "").replace(str(folder), "the job's folder")
