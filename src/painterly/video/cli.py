"""`painterly video IN STYLE [STYLE ...] -o OUT [options]`: a thin layer over `video.run`.

Every still-image setting applies (the same flags, made from `Settings`); the video's own flags pick the
range, the temporal mode and the work folder. `main(argv) -> int`: a `PainterlyError` is one line and exit
code 2, Ctrl-C 130 and SIGTERM 143, each after the frames done are encoded into a playable video.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ..errors import SettingsError
from ..flags import Parser, add_settings_flags, ignored_flags, settings_from
from ..progress import FRAMES, Progress
from ..settings import PRESETS, check_video_options
from .chunks import CHUNK_FRAMES, OVERLAP
from .flow import PRESETS as FLOW_PRESETS
from .measure import headline, pace
from .run import MODES, VideoJob, run_video


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="painterly video",
        description="Paint a video in the style of one or more paintings, without flicker: each frame is made "
                    "consistent with the previous one along the input's optical flow. The audio is copied through. "
                    "Here --method fast is the default (a frame in a fraction of a second); --method optimise "
                    "takes seconds to minutes a frame.",
        epilog="Example: painterly video clip.mp4 starry_night.jpg -o painted.mp4 --method fast --size 384\n"
               "Ctrl-C keeps a playable video of the frames done; --resume continues the run.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="IN STYLE", help="the video (or a folder of frames), then one "
                        "or more style images")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output video (.mp4: H.264; .mov, "
                        ".mkv, .webm) or a folder for PNG frames")
    group = parser.add_argument_group("video")
    group.add_argument("--start", type=float, default=0.0, metavar="S", help="start this many seconds in (default 0)")
    group.add_argument("--duration", type=float, metavar="S", help="paint this many seconds (default: to the end)")
    group.add_argument("--frames", type=int, metavar="N", help="paint at most N frames")
    group.add_argument("--fps", type=float, metavar="F", help="frame rate of a folder of frames (default 25)")
    group.add_argument("--temporal", choices=MODES, default="flow",
                       help="flow: the previous output held where the input did not change and warped along the "
                            "optical flow elsewhere, blended in as far as it can be trusted (optimisation: also its "
                            "start and a temporal loss term; docs/VIDEO.md); blend: plain "
                            "blending with the previous output; none: frame by frame (default: flow)")
    group.add_argument("--temporal-weight", type=float, metavar="W",
                       help="fast: the previous output's share a, 0..1 (default 0.9 along the flow, 0.8 blended); "
                            "optimise: the temporal term's weight (default 100)")
    group.add_argument("--frame-iterations", type=int, metavar="N",
                       help="optimise: steps for each frame after the first (default 10); the first gets --iterations")
    group.add_argument("--long-term", type=int, nargs="+", metavar="K",
                       help="optimise along the flow: also hold each frame to the outputs K frames back, each "
                            "only where the nearer ones cannot vouch for a pixel (Ruder et al.'s long-term "
                            "consistency; e.g. 2 4; default: t−1 only)")
    group.add_argument("--flow", choices=FLOW_PRESETS, default="medium",
                       help="DIS optical flow preset (default medium)")
    group.add_argument("--work", metavar="DIR", help="work folder for the frames done (default: OUT.work)")
    group.add_argument("--resume", action="store_true", help="continue an interrupted run from its work folder")
    group.add_argument("--keep-work", action="store_true", help="keep the work folder's frames after the run")
    ray = parser.add_argument_group("a long video on Ray (chunks painted at once; without --ray: this process)")
    ray.add_argument("--ray", metavar="off|local|ADDRESS", help="local: Ray on this machine, on 127.0.0.1 only; "
                     "ADDRESS: join that cluster (`ray start --head` prints it); off (the default): this process")
    ray.add_argument("--chunk-frames", type=int, metavar="N", help=f"frames each chunk keeps (default "
                     f"{CHUNK_FRAMES}); a scene cut also starts a chunk")
    ray.add_argument("--chunk-overlap", type=int, metavar="K", help=f"warm-up frames each chunk paints along the "
                     f"flow before its own and throws away, so the joins stay consistent (default {OVERLAP})")
    ray.add_argument("--no-scene-cuts", action="store_true", help="do not start chunks at scene cuts")
    ray.add_argument("--workers", type=int, metavar="N", help="Ray actors (default: one per CPU, at most one "
                     "per chunk)")
    parser.add_argument("--preset", default="default", help=f"named settings: {', '.join(PRESETS)}")
    parser.add_argument("--report", metavar="DIR", help="report: warping error and style loss per frame, graphs, "
                        "contact sheet, html")
    parser.add_argument("--report-every", type=int, metavar="K", help="contact sheet of every K-th frame")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output, report or work folder")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_settings_flags(parser, method="fast")
    return parser


def _still_photo(path: Path) -> bool:
    """Whether `path` is an image file of one frame (a photo; an animated GIF or a video is not)."""
    from PIL import Image

    if not path.is_file():
        return False
    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1) == 1
    except Exception:  # not an image Pillow knows: a video, or the video reader's to refuse
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if len(args.inputs) < 2:
        raise SettingsError("give the video IN and at least one STYLE image (painterly video IN STYLE -o OUT)")
    if _still_photo(Path(args.inputs[0])):
        raise SettingsError(f"'{args.inputs[0]}' is a photo, not a video: paint it with "
                            f"painterly {args.inputs[0]} STYLE -o OUT.png")
    if not hasattr(args, "method"):  # a video is painted with the fast method unless --method says otherwise
        args.method = "fast"
    settings = settings_from(args)
    check_video_options(settings, args.temporal, args.temporal_weight, args.frame_iterations)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    for name in ignored_flags(args, settings):
        say(f"painterly: {name} applies to --method optimise only: ignored with --method {settings.method}")
    from ..shelf import resolve  # a painting's name on the shelf works as its file

    styles = tuple(resolve(p) for p in args.inputs[1:])
    job = VideoJob(Path(args.inputs[0]), styles, settings, output=Path(args.output),
                   start=args.start, duration=args.duration, frames=args.frames, fps=args.fps,
                   temporal=args.temporal, temporal_weight=args.temporal_weight, flow_preset=args.flow,
                   work=Path(args.work) if args.work else None, resume=args.resume, overwrite=args.overwrite,
                   keep_work=args.keep_work, report=Path(args.report) if args.report else None,
                   report_every=args.report_every, frame_iterations=args.frame_iterations,
                   long_term=tuple(args.long_term or ()),
                   ray=args.ray, chunk_frames=args.chunk_frames, chunk_overlap=args.chunk_overlap,
                   scene_cuts=not args.no_scene_cuts, workers=args.workers)
    if not job.chunked:
        for value, flag in ((args.chunk_frames, "--chunk-frames"), (args.chunk_overlap, "--chunk-overlap"),
                            (args.workers, "--workers"), (args.no_scene_cuts or None, "--no-scene-cuts")):
            if value is not None:
                say(f"painterly: {flag} applies to --ray local or ADDRESS only: ignored")
    if job.chunked:
        say("painterly: starting Ray on this machine (--ray local)" if job.ray == "local" else
            f"painterly: joining the Ray cluster at {job.ray}")
    progress = Progress(FRAMES, enabled=not args.quiet and sys.stderr.isatty(), say=say)

    def started(run) -> None:
        say(run.description)
        if run.frames_kept:
            say(f"painterly: resuming after {run.frames_kept} frames done in {run.work}")
        progress.open(run, total=run.info.frames, completed=run.frames_kept)

    try:
        outcome = run_video(job, listen=progress.update, on_start=started, notice=lambda m: say(f"painterly: {m}"))
    finally:
        progress.close()
    if outcome.frames == 0:
        if outcome.work is not None:  # chunks on Ray: frames painted, none of the first ones yet
            print(f"painterly: {outcome.stopped} before the first frames were done: the frames painted are kept in "
                  f"{outcome.work}: add --resume to the same command to continue", file=sys.stderr)
        else:
            print("painterly: stopped before the first frame: nothing saved", file=sys.stderr)
        return outcome.code
    if outcome.report is not None:
        say(f"painterly: report written to {outcome.report}")
    flicker = headline(outcome.metadata.get("flicker") or {}, outcome.warping_error)
    error = f", {flicker}" if flicker else ""
    seconds = outcome.metadata.get("seconds_per_frame")
    rate = f", {pace(seconds)}" if seconds else ""
    if outcome.output is not None:
        duration = outcome.metadata.get("seconds") or outcome.frames / float(outcome.fps)  # a variable rate's own
        say(f"painterly: {outcome.stopped}: wrote {outcome.output} ({outcome.frames} frames, {duration:.2f} s, "
            f"{outcome.size[0]}×{outcome.size[1]}{error}{rate})")
    chunks = outcome.metadata.get("ray")
    if chunks and chunks["chunks"]:
        joins, inside = chunks["join_warping_error"], chunks["inside_warping_error"]
        measured = f"; warping error at the joins {joins:.3g}, inside the chunks {inside:.3g}" \
            if joins is not None and inside is not None else ""
        cuts = f", {len(chunks['scene_cuts'])} at scene cuts" if chunks["scene_cuts"] else ""
        say(f"painterly: {chunks['chunks']} chunks of up to {chunks['chunk_frames']} frames{cuts} (warm-up "
            f"{chunks['overlap']}) on {chunks['workers']} Ray workers{measured}")
    if outcome.stopped in ("interrupted", "terminated", "cancelled", "broken", "failed") and outcome.work is not None:
        say(f"painterly: the frames done are kept in {outcome.work}: add --resume to the same command to continue")
    if outcome.failure is not None:
        print(f"painterly: error: {outcome.failure}", file=sys.stderr)
    return outcome.code
