"""Flicker, style and speed of painterly video's temporal modes against frame-by-frame stylization.

    python -m bench.video [--frames 60] [--size 384] [--clips box.mp4 vtest.avi]
                          [--optimise-frames 8] [--optimise-size 256] [--optimise-iterations 50]
                          [--optimise-frame-iterations 20] [--no-write]
    python -m bench.video --temporal-table [--frames 60] [--strips docs/]   # the steady mode's table

`--temporal-table`: each clip of ../shared/videos and two tripod shots made here (`tripod_clip`: a still
photo with a card crossing it, and the same card before a blank wall) painted once frame by frame with
the fast network, then made consistent by each temporal combination (none, blend, the old flow blend,
the steady flow mode) from the same paintings; for each, the honest flicker measures
(`video.measure.Flicker`: the warping error with a flow the painting did not use, the frame-by-frame
baseline, the still-region flicker) and the style loss on every 10th frame. `--strips DIR` also writes
six consecutive frames of blend, old flow and steady for the tripod shots and box.mp4 (docs/video_strip_*.jpg).

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
from painterly.video.measure import Flicker, summarise
from painterly.video.painters import resized
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
        frame = resized(raw, at)
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
            "flicker": outcome.metadata.get("flicker"),
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
    parser.add_argument("--temporal-table", action="store_true", help="only the temporal combinations' table "
                        "(see the module's text), results in bench/results/video-temporal-<date>.json")
    parser.add_argument("--strips", type=Path, metavar="DIR", help="with --temporal-table: write the strips there")
    parser.add_argument("--modes-sheet", type=Path, metavar="JPG", help="only write the 2×2 sheet of vtest.avi's "
                        "frame 19: the photo, frame by frame, blended, along the flow (docs/video_vtest_modes.jpg)")
    args = parser.parse_args(argv)
    if args.modes_sheet:
        modes_sheet(VIDEOS / "vtest.avi", 20, (384, 288), args.modes_sheet)
        return 0
    if args.temporal_table:
        return temporal_main(args)

    from painterly import backbones

    style = demo_pair()[1]
    style_rgb = load_image(style).rgb
    meter_for = style_meters(style_rgb)

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
    from painterly.video.runner import VideoRun

    label = temporal + "".join(f"-{k}" for k in long_term)
    keep = Path(tempfile.gettempdir()) / f"painterly-bench-video-{os.getpid()}" / f"{clip.stem}-{label}"
    keep.parent.mkdir(parents=True, exist_ok=True)
    for old in keep.glob("*.png") if keep.is_dir() else []:
        old.unlink()
    began = time.perf_counter()
    job = VideoJob(clip, (style,), settings, output=keep, frames=frames, temporal=temporal, temporal_weight=weight,
                   frame_iterations=iterations, overwrite=True, long_term=tuple(long_term))
    outcome = VideoRun(job, network=backbone).execute(None)
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
    inputs = [resized(raw, size) for raw in source]
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
        frame = resized(raw, size)
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
        frame = resized(raw, size)
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


def _g(value) -> str:
    return "–" if value is None else f"{value:.2g}"


def tripod_clip(path: Path, frames: int = 60, wall: bool = False, size=(512, 384), fps: int = 25) -> Path:
    """A tripod shot written with PyAV (H.264, crf 18): tubingen.jpg from ../shared/images/content held
    still (or, with `wall`, a blank pale wall with a soft gradient) with a 120×90 crop of golden_gate.jpg
    crossing it left to right on a gentle wave, and a little sensor noise (σ = 1 grey level)."""
    import av
    from PIL import Image

    width, height = size
    if wall:
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        background = np.stack([232 - 0.04 * xs, 228 - 0.05 * ys, 218 - 0.03 * (xs + ys)], -1)
    else:
        photo = Image.open(ROOT.parent / "shared" / "images" / "content" / "tubingen.jpg").convert("RGB")
        crop = int(photo.height * width / height)
        photo = photo.crop(((photo.width - crop) // 2, 0, (photo.width - crop) // 2 + crop, photo.height))
        background = np.asarray(photo.resize(size, Image.LANCZOS), np.float32)
    card = Image.open(ROOT.parent / "shared" / "images" / "content" / "golden_gate.jpg").convert("RGB")
    side = card.width // 4
    card = np.asarray(card.crop((card.width // 3, card.height // 4, card.width // 3 + side,
                                 card.height // 4 + side * 3 // 4)).resize((120, 90), Image.LANCZOS), np.float32)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(frames):
            frame = background.copy()
            x, y = int(round(-60 + t * width / frames)), int(round(150 + 30 * np.sin(t / 8)))
            left, right = max(x, 0), min(x + 120, width)
            if right > left:
                frame[y:y + 90, left:right] = card[:, left - x:right - x]
            frame += rng.normal(0, 1.0, frame.shape)
            picture = av.VideoFrame.from_ndarray(np.clip(np.rint(frame), 0, 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def temporal_combinations() -> dict:
    from painterly.video.temporal import TEMPORAL, flow_blend

    return {"none": TEMPORAL["none"](0.0), "blend": TEMPORAL["blend"](0.8), "old flow": flow_blend(0.8),
            "steady (flow)": TEMPORAL["flow"](0.9)}


def temporal_rows(clip: Path, style_rgb, frames: int, size: int, meter_for, keep=None) -> dict:
    """Each temporal combination on the same frame-by-frame paintings of `clip` (see the module's text);
    `keep`: a dict that receives each combination's uint8 frames."""
    from painterly import images
    from painterly.video.temporal import FastFrames

    source = open_source(clip, max_frames=frames)
    at = images.output_size(source.info.display_size, size)
    raws, inputs, painted, painter = [], [], [], None
    for raw in source:
        frame = resized(raw, at)
        painter = painter or FastFrames([style_rgb], Settings(method="fast"), at, frame)
        raws.append(raw)
        inputs.append(frame)
        painted.append(painter.paint(frame))
    flow = Flow("medium")
    pairs = [None] + [flow.pair(inputs[t - 1], inputs[t]) for t in range(1, len(inputs))]
    rows, meter = {}, meter_for(at)
    for name, combine in temporal_combinations().items():
        flicker, previous, outputs = Flicker("medium"), None, []
        records = []
        for t in range(len(inputs)):
            out = images.to_uint8(combine(painted[t], previous, pairs[t]))
            records.append(flicker.add(raws[t], out, painted[t]))
            outputs.append(out)
            previous = out.astype(np.float32)
        row = summarise(records)
        row["style_loss"] = float(np.mean([meter(o.astype(np.float32)) for o in outputs[5::10]]))
        rows[name] = row
        if keep is not None:
            keep[name] = outputs
        print(clip.name, name, f"still {row['still_flicker']:.3g}",
              f"independent {row['independent_warping_error']:.3g}", f"style {row['style_loss']:.3g}", flush=True)
    return {"size": list(at), "frames": len(inputs), "rows": rows}


def strip(outputs: dict, names, start: int, out: Path, count: int = 6) -> None:
    """`count` consecutive frames from `start`, one row per combination, labelled, as a JPEG."""
    from PIL import Image, ImageDraw

    rows = [np.concatenate(outputs[name][start:start + count], axis=1) for name in names]
    picture = Image.fromarray(np.concatenate(rows, axis=0))
    draw, height = ImageDraw.Draw(picture), rows[0].shape[0]
    for k, name in enumerate(names):
        draw.rectangle((0, k * height, 8 * len(name) + 70, k * height + 16), fill="black")
        draw.text((4, k * height + 3), f"{name}, frames {start}-{start + count - 1}", fill="white")
    picture.save(out, quality=82)



def style_meters(style_rgb):
    """meter_for(size): a `StyleMeter` of the painting at the longest side of `size`, one a size, all on one
    vgg16-hed network."""
    from painterly.video.measure import StyleMeter

    meters = {}

    def meter_for(size):
        if max(size) not in meters:
            meters[max(size)] = StyleMeter([style_rgb], Settings(model="vgg16-hed"), max(size),
                                           backbone=meters.get("backbone"))
            meters["backbone"] = meters[max(size)].backbone
        return meters[max(size)]

    return meter_for


def temporal_main(args) -> int:
    style_rgb = load_image(demo_pair()[1]).rgb
    meter_for = style_meters(style_rgb)

    made = Path(tempfile.mkdtemp(prefix="painterly-bench-tripod-"))
    clips = {"tripod (made here)": tripod_clip(made / "tripod.mp4", args.frames),
             "tripod before a blank wall (made here)": tripod_clip(made / "wall.mp4", args.frames, wall=True),
             **{name: VIDEOS / name for name in ("box.mp4", "vtest.avi", "tree.avi")}}
    starts = {"tripod (made here)": 30, "tripod before a blank wall (made here)": 30, "box.mp4": 50}
    results = {"date": datetime.date.today().isoformat(), "style": demo_pair()[1].name, "clips": {}}
    for label, clip in clips.items():
        keep = {} if args.strips and label in starts else None
        results["clips"][label] = temporal_rows(clip, style_rgb, args.frames, args.size, meter_for, keep)
        if keep:
            name = {"box.mp4": "box"}.get(label, "wall" if "wall" in label else "tripod")
            strip(keep, ("blend", "old flow", "steady (flow)"), starts[label], args.strips / f"video_strip_{name}.jpg")
        path = args.out or RESULTS / f"video-temporal-{results['date']}.json"
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
    print(temporal_table(results))
    return 0


def temporal_table(results: dict) -> str:
    lines = ["| clip | mode | still-region flicker | independent warping error | frame by frame | ratio | "
             "style loss |", "|---|---|---|---|---|---|---|"]
    for label, entry in results["clips"].items():
        for name, r in entry["rows"].items():
            ratio = r["independent_warping_error"] / r["frame_by_frame_warping_error"]
            lines.append(f"| {label} | {name} | {r['still_flicker']:.2g} | {r['independent_warping_error']:.2g} | "
                         f"{r['frame_by_frame_warping_error']:.2g} | 1/{1 / ratio:.1f} | {r['style_loss']:.3g} |")
    return "\n".join(lines)


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
                      f"The input video's own warping error: {entry['input_warping_error']:.2g}. Independent: "
                      f"with a flow the painting did not use (`video.measure.Flicker`); still: the still-region "
                      f"flicker (no flow).", "",
                      "| mode | a | warping error (own flow) | ratio | independent | still | style loss | s/frame | "
                      "frames/s | CPU s/frame | load |",
                      "|---|---|---|---|---|---|---|---|---|---|---|"]
            for r in rows:
                honest = r.get("flicker") or {}
                lines.append(f"| {r['temporal']} | {r['weight']:g} | {r['warping_error']:.3g} | "
                             f"{r['warping_error'] / base:.3f} | {_g(honest.get('independent_warping_error'))} | "
                             f"{_g(honest.get('still_flicker'))} | {r['style_loss']:.3g} | "
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
