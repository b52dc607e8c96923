"""Flicker, style and speed of painterly video's temporal modes against frame-by-frame stylization.

    python -m bench.video [--frames 60] [--size 384] [--clips box.mp4 vtest.avi]
                          [--optimise-frames 8] [--optimise-size 256] [--optimise-iterations 50]
                          [--optimise-frame-iterations 20] [--no-write]

Every case runs the real pipeline (`painterly.video.run_video`: decoding, DIS flow, painting, the temporal
mode, PNG frames) on the first N frames of each clip of ../shared/videos, with The Starry Night (the demo
painting). For each: the warping error (Lai et al. 2018, mean over frames, with the input's DIS flow and
Ruder et al.'s mask: the same flow for every case), its ratio to frame-by-frame's, the style loss
(`video.measure.StyleMeter`, vgg16-hed, on every 5th frame) and the seconds per frame (flow, painting,
consistency and saving; decoding and the final encoding left out), with the machine's load average
beside them (two cores shared with other work: the seconds are upper bounds). The input video's own
warping error is the floor. Results: bench/results/video-<date>.json and the "video" block of
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import datetime
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from painterly import Settings
from painterly.images import demo_pair, load_image
from painterly.video import VideoJob, run_video
from painterly.video.flow import Flow, warp, warping_error
from painterly.video.run import _resized
from painterly.video.sink import read_frame
from painterly.video.source import open_source

from .report import write_doc

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "videos"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"
FAST_CASES = (("none", None), ("blend", 0.5), ("blend", 0.8), ("flow", 0.5), ("flow", 0.7), ("flow", 0.8),
              ("flow", 0.9))


def input_error(clip: Path, frames: int, size: int) -> float:
    """The input video's own warping error at the benchmark's size: the floor."""
    source = open_source(clip, max_frames=frames)
    from painterly.images import output_size

    at = output_size(source.info.display_size, size)
    flow, previous, errors = Flow("medium"), None, []
    for raw in source:
        frame = _resized(raw, at)
        if previous is not None:
            pair = flow.pair(previous, frame)
            errors.append(warping_error(frame, warp(previous, pair.backward), pair.mask))
        previous = frame
    return float(np.mean(errors))


def run_case(clip: Path, style: Path, settings: Settings, frames: int, temporal: str, weight, meter_for,
             **job) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "frames"
        began = time.perf_counter()
        outcome = run_video(VideoJob(clip, (style,), settings, output=out, frames=frames, temporal=temporal,
                                     temporal_weight=weight, **job))
        wall = time.perf_counter() - began
        seconds = [r["seconds"] for r in outcome.records]
        cpu = [r["cpu_seconds"] for r in outcome.records][1:]
        pngs = sorted(out.glob("*.png"))
        meter = meter_for(outcome.size)
        styles = [meter(read_frame(p).astype(np.float32)) for p in pngs[::5]]
    steady = seconds[1:] if len(seconds) > 1 else seconds  # the first frame loads the network
    return {"temporal": temporal, "weight": outcome.metadata["temporal_weight"], "frames": outcome.frames,
            "size": list(outcome.size), "warping_error": outcome.warping_error,
            "style_loss": float(np.mean(styles)), "seconds_per_frame": float(np.mean(steady)),
            "frames_per_second": 1.0 / float(np.mean(steady)), "cpu_seconds_per_frame": float(np.mean(cpu)),
            "wall_s": wall,
            "first_frame_s": seconds[0], "load_average": os.getloadavg()[0],
            "terms": outcome.records[-1].get("terms", {})}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["box.mp4", "vtest.avi"])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--optimise-clips", nargs="*", default=["box.mp4"])
    parser.add_argument("--optimise-frames", type=int, default=8)
    parser.add_argument("--optimise-size", type=int, default=256)
    parser.add_argument("--optimise-iterations", type=int, default=50)
    parser.add_argument("--optimise-frame-iterations", type=int, nargs="+", default=[20])
    parser.add_argument("--optimise-weights", type=float, nargs="+", default=[100.0])
    parser.add_argument("--optimise-modes", nargs="+", default=["none", "blend", "flow"],
                        choices=["none", "blend", "flow"], help="blend needs none (its frames are blended)")
    parser.add_argument("--optimise-long-term", type=int, nargs="+", metavar="K",
                        help="also the flow case with long-term terms to the outputs K frames back (e.g. 2 4)")
    parser.add_argument("--skip-fast", action="store_true")
    parser.add_argument("--no-write", action="store_true", help=f"do not rewrite {DOC.relative_to(ROOT)}")
    parser.add_argument("--out", type=Path, help="results file (default bench/results/video-<date>.json)")
    parser.add_argument("--modes-sheet", type=Path, metavar="JPG", help="only write the 2×2 sheet of vtest.avi's "
                        "frame 19: the photo, frame by frame, blended, along the flow (docs/video_vtest_modes.jpg)")
    args = parser.parse_args(argv)
    if args.modes_sheet:
        modes_sheet(VIDEOS / "vtest.avi", 20, (384, 288), args.modes_sheet)
        return 0

    from painterly import backbones
    from painterly.video.measure import StyleMeter

    style = demo_pair()[1]
    style_rgb = load_image(style).rgb
    meters = {}

    def meter_for(size):
        if max(size) not in meters:
            meters[max(size)] = StyleMeter([style_rgb], Settings(model="vgg16-hed"), max(size),
                                           backbone=meters.get("backbone"))
            meters["backbone"] = meters[max(size)].backbone
        return meters[max(size)]

    results = {"date": datetime.date.today().isoformat(), "style": style.name, "cpus": os.cpu_count(),
               "clips": {}}
    for name in args.clips if not args.skip_fast else []:
        clip = VIDEOS / name
        entry = results["clips"].setdefault(name, {})
        entry["input_warping_error"] = input_error(clip, args.frames, args.size)
        entry["fast"] = []
        for temporal, weight in FAST_CASES:
            row = run_case(clip, style, Settings(method="fast", size=args.size), args.frames, temporal, weight,
                           meter_for)
            entry["fast"].append(row)
            print(name, "fast", temporal, weight, f"{row['warping_error']:.3g}", f"{row['style_loss']:.3g}",
                  f"{row['frames_per_second']:.1f} frames/s", flush=True)
        _save(results, args.out)
    for name in args.optimise_clips:
        clip = VIDEOS / name
        entry = results["clips"].setdefault(name, {})
        entry["optimise_input_warping_error"] = input_error(clip, args.optimise_frames, args.optimise_size)
        settings = Settings(model="vgg16-hed", size=args.optimise_size, iterations=args.optimise_iterations,
                            init="fast", init_photo=0.25, seed=0)  # said, so the numbers do not move with defaults
        layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
        backbone = backbones.build("vgg16-hed", layers)
        modes = args.optimise_modes
        cases = [("none", None, None, ())] if "none" in modes else []
        cases += [("blend", 0.8, None, ())] if "blend" in modes and "none" in modes else []
        flows = [(weight, iterations) for weight in args.optimise_weights
                 for iterations in args.optimise_frame_iterations]
        cases += [("flow", weight, iterations, ()) for weight, iterations in flows] if "flow" in modes else []
        cases += [("flow", weight, iterations, tuple(args.optimise_long_term)) for weight, iterations in flows] \
            if args.optimise_long_term else []
        entry["optimise"] = []
        for temporal, weight, iterations, long_term in cases:
            if temporal == "blend":  # frame by frame, then blended: the none run's frames are reused
                row = _blend_of(entry["optimise"][0], weight, meter_for)
            else:
                row = _optimise_case(clip, style, settings, args.optimise_frames, temporal, weight, iterations,
                                     backbone, meter_for, long_term)
            entry["optimise"].append(row)
            print(name, "optimise", temporal, weight, iterations, long_term or "", f"{row['warping_error']:.3g}",
                  f"over 4 frames {row.get('warping_error_4', float('nan')):.3g}",
                  f"{row['style_loss']:.3g}", f"{row['seconds_per_frame']:.1f} s/frame", flush=True)
            _save(results, args.out)
    _save(results, args.out)
    if not args.no_write:
        write_doc(DOC, table(results), "video")
    print(table(results))
    return 0


def _optimise_case(clip, style, settings, frames, temporal, weight, iterations, backbone, meter_for,
                   long_term=()) -> dict:
    """An optimisation case, keeping its frames (the blend case is computed from frame-by-frame's)."""
    from painterly.video.run import VideoRun

    label = temporal + "".join(f"-{k}" for k in long_term)
    keep = Path(tempfile.gettempdir()) / f"painterly-bench-video-{os.getpid()}" / f"{clip.stem}-{label}"
    keep.parent.mkdir(parents=True, exist_ok=True)
    for old in keep.glob("*.png") if keep.is_dir() else []:
        old.unlink()
    began = time.perf_counter()
    job = VideoJob(clip, (style,), settings, output=keep, frames=frames, temporal=temporal, temporal_weight=weight,
                   frame_iterations=iterations, overwrite=True, long_term=tuple(long_term))
    outcome = VideoRun(job, backbone=backbone).execute(None)
    wall = time.perf_counter() - began
    seconds = [r["seconds"] for r in outcome.records]
    pngs = sorted(keep.glob("*.png"))
    meter = meter_for(outcome.size)
    styles = [meter(read_frame(p).astype(np.float32)) for p in pngs]
    return {"temporal": temporal, "long_term": list(long_term), "weight": outcome.metadata["temporal_weight"],
            "frames": outcome.frames, "warping_error_4": far_error(clip, pngs, outcome.size, 4),
            "frame_iterations": iterations if temporal == "flow" else settings.iterations,
            "first_frame_iterations": settings.iterations, "size": list(outcome.size),
            "warping_error": outcome.warping_error, "style_loss": float(np.mean(styles)),
            "style_loss_after_first": float(np.mean(styles[1:])),
            "seconds_per_frame": float(np.mean(seconds[1:])), "first_frame_s": seconds[0], "wall_s": wall,
            "cpu_seconds_per_frame": float(np.mean([r["cpu_seconds"] for r in outcome.records][1:])),
            "load_average": os.getloadavg()[0], "folder": str(keep), "clip": str(clip)}


def far_error(clip: Path, pngs: list[Path], size: tuple[int, int], k: int) -> float | None:
    """The warping error between frames k apart (O_t against O_{t−k} warped along the input's direct flow,
    with its mask): what long-term terms aim at; None when the run is shorter than k + 1 frames."""
    source = open_source(clip, max_frames=len(pngs))
    inputs = [_resized(raw, size) for raw in source]
    flow, errors = Flow("medium"), []
    for t in range(k, min(len(inputs), len(pngs))):
        pair = flow.pair(inputs[t - k], inputs[t])
        errors.append(warping_error(read_frame(pngs[t]), warp(read_frame(pngs[t - k]), pair.backward), pair.mask))
    return float(np.mean(errors)) if errors else None


def _blend_of(frame_by_frame: dict, weight: float, meter_for) -> dict:
    """Plain blending of the frame-by-frame optimisation's frames: out = a·prev + (1−a)·new."""
    from painterly.video.temporal import plain_blend

    pngs = sorted(Path(frame_by_frame["folder"]).glob("*.png"))
    combine = plain_blend(weight)
    flow, previous_input, previous, errors, outputs = Flow("medium"), None, None, [], []
    source = open_source(Path(frame_by_frame["clip"]), max_frames=len(pngs))
    size = tuple(frame_by_frame["size"])
    for raw, png in zip(source, pngs):
        frame = _resized(raw, size)
        new = read_frame(png).astype(np.float32)
        out = np.clip(np.rint(combine(new, previous, None)), 0, 255).astype(np.uint8)
        if previous_input is not None:
            pair = flow.pair(previous_input, frame)
            errors.append(warping_error(out, warp(previous, pair.backward), pair.mask))
        outputs.append(out)
        previous_input, previous = frame, out
    meter = meter_for(size)
    styles = [meter(out.astype(np.float32)) for out in outputs]
    return {**frame_by_frame, "temporal": "blend", "weight": weight, "warping_error": float(np.mean(errors)),
            "style_loss": float(np.mean(styles)), "style_loss_after_first": float(np.mean(styles[1:])),
            "folder": None}


def modes_sheet(clip: Path, frames: int, size: tuple[int, int], out: Path) -> None:
    """Frame `frames − 1` of `clip` as the photo, painted frame by frame, blended (a = 0.8) and along the
    flow (a = 0.8), in a 2×2 sheet: what plain blending does to things that move."""
    from PIL import Image

    from painterly import images
    from painterly.video.temporal import TEMPORAL, FastFrames

    style = load_image(demo_pair()[1]).rgb
    modes = {name: TEMPORAL[name](a) for name, a in (("none", 0.0), ("blend", 0.8), ("flow", 0.8))}
    previous = dict.fromkeys(modes)
    flow, painter, previous_input = Flow("medium"), None, None
    for raw in open_source(clip, max_frames=frames):
        frame = _resized(raw, size)
        painter = painter or FastFrames([style], Settings(method="fast"), size, frame)
        pair = flow.pair(previous_input, frame) if previous_input is not None else None
        new = painter.paint(frame)
        for name, combine in modes.items():
            previous[name] = images.to_uint8(combine(new, previous[name], pair))
        previous_input = frame
    width, height = size
    sheet = Image.new("RGB", (2 * width, 2 * height))
    for k, picture in enumerate([previous_input, previous["none"], previous["blend"], previous["flow"]]):
        sheet.paste(Image.fromarray(picture), ((k % 2) * width, (k // 2) * height))
    sheet.save(out, quality=85)


def _save(results: dict, out: Path | None) -> Path:
    path = out or RESULTS / f"video-{results['date']}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    return path


def table(results: dict) -> str:
    lines = ["## Video: flicker against frame by frame (`python -m bench.video`)", "",
             f"Measured {results['date']} on {results['cpus']} cores shared with other work (load average "
             "beside each row; the seconds are upper bounds). Style: The Starry Night. Warping error: Lai et al. "
             "2018 with the input's DIS flow (medium) and Ruder et al.'s mask, the same for every row; ratio: "
             "to frame by frame's. Style loss: mean relative Gram error on vgg16-hed (every 5th frame for the "
             "fast method, every frame for the optimisation). Seconds per frame: flow, painting, consistency "
             "and saving the frame (decoding and the final encode excluded), from the second frame on; CPU s/frame: "
             "the process's CPU time over those (both cores' threads), what the machine's load does not inflate.", ""]
    for name, entry in results["clips"].items():
        if "fast" in entry:
            rows = entry["fast"]
            base = rows[0]["warping_error"]
            w, h = rows[0]["size"]
            lines += [f"### {name}, fast method, {rows[0]['frames']} frames at {w}×{h}", "",
                      f"The input video's own warping error: {entry['input_warping_error']:.2g}.", "",
                      "| mode | a | warping error | ratio | style loss | s/frame | frames/s | CPU s/frame | load |",
                      "|---|---|---|---|---|---|---|---|---|"]
            for r in rows:
                lines.append(f"| {r['temporal']} | {r['weight']:g} | {r['warping_error']:.3g} | "
                             f"{r['warping_error'] / base:.3f} | {r['style_loss']:.3g} | "
                             f"{r['seconds_per_frame']:.3f} | {r['frames_per_second']:.1f} | "
                             f"{r['cpu_seconds_per_frame']:.3f} | {r['load_average']:.1f} |")
            lines.append("")
        if "optimise" in entry:
            rows = entry["optimise"]
            base = rows[0]
            w, h = base["size"]
            lines += [f"### {name}, optimisation, {base['frames']} frames at {w}×{h} (vgg16-hed, L-BFGS)", "",
                      f"The input video's own warping error: {entry['optimise_input_warping_error']:.2g}. Every "
                      f"frame of frame by frame, and the first frame of the others, gets "
                      f"{base['first_frame_iterations']} iterations from `--init fast --init-photo 0.25`; blend is "
                      f"frame by frame's frames blended.", "",
                      "| mode | weight | iterations a frame | warping error | ratio | 4 frames apart | style loss "
                      "| s/frame | load |",
                      "|---|---|---|---|---|---|---|---|---|"]
            for r in rows:
                style = "–" if r["style_loss"] is None else f"{r['style_loss']:.3g}"
                mode = r["temporal"] + (f" + long-term {', '.join(map(str, r['long_term']))}"
                                        if r.get("long_term") else "")
                far = "–" if r.get("warping_error_4") is None else f"{r['warping_error_4']:.3g}"
                lines.append(f"| {mode} | {r['weight']:g} | {r['frame_iterations']} | "
                             f"{r['warping_error']:.3g} | {r['warping_error'] / base['warping_error']:.3f} | {far} | "
                             f"{style} | {r['seconds_per_frame']:.1f} | {r['load_average']:.1f} |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
