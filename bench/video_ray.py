"""A long video in chunks: the warping error where chunks meet against inside them, for several warm-ups
(overlaps) and two ways of joining, and frames per second in one process against Ray with two actors.

    python -m bench.video_ray [--clips box.mp4 vtest.avi] [--frames 120] [--size 384] [--chunk-frames 20]
                              [--overlaps 0 2 4 8 16] [--workers 2] [--out FILE]

For each clip of ../shared/videos (the first N frames at the size, the fast method, The Starry Night):

* **one process:** `run_video` as a plain `painterly video` runs it: its warping error and frames/s;
* **chunks, in this process:** the chunks of `chunks.plan` (no scene cut in these clips) painted by the
  actor's own code (`chunked.ChunkPainter`, one thread), warm-up frames included, then joined two ways:
  *warm-up* (what `--ray` does: the warm-up frames thrown away, the chunk's own frames from its start)
  and *cross-fade* (the previous chunk's last K frames faded into this chunk's K warm-up frames,
  w = i/(K+1)). Each frame's warping error (Lai et al. 2018, with the input's DIS flow and mask, the same
  flow for every case) is split into the join frames (warm-up: each chunk's first frame; cross-fade: the
  worst of the K + 1 frames a join touches) and the inside (every other frame); the mean absolute
  difference from the one-process frames says how far chunking moves the pictures;
* **Ray:** `run_video(ray="local", workers=2)` at the default overlap: wall time (Ray's start-up and
  reading the frames in included) and frames/s from the first frame to the last; its frames are
  checked equal to the in-process chunks of the same overlap.

The scene-cut detector's largest difference between consecutive frames of each clip, and at a splice of
the two clips, is measured too. The load average is written beside every number (two cores shared with
other work: the times are upper bounds). Results: bench/results/video-ray-<date>.json; a markdown
summary is printed for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import datetime
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from painterly import Settings
from painterly.images import demo_pair, output_size
from painterly.video import VideoJob, run_video
from painterly.video.chunked import ChunkPainter, decode_frame, encode_frame
from painterly.video.chunks import OVERLAP, CutDetector, plan
from painterly.video.flow import Flow, warp, warping_error
from painterly.video.painters import resized
from painterly.video.sink import read_frame
from painterly.video.source import open_source

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "videos"
RESULTS = ROOT / "bench" / "results"


def inputs_of(clip: Path, frames: int, size: int) -> tuple[list[np.ndarray], list, list[float]]:
    """The frames at the benchmark's size, the flow pair of each (None for the first) and the cut
    detector's differences."""
    source = open_source(clip, max_frames=frames)
    at = output_size(source.info.display_size, size)
    flow, detector = Flow("medium"), CutDetector()
    frames_, pairs, differences = [], [None], []
    for raw in source:
        frame = resized(raw, at)
        difference = detector.add(frame)
        if difference is not None:
            differences.append(difference)
        if frames_:
            pairs.append(flow.pair(frames_[-1], frame))
        frames_.append(frame)
    return frames_, pairs, differences


def errors_of(outputs: list[np.ndarray], pairs: list) -> list[float | None]:
    """Each frame's warping error against the previous output, with the input's flow."""
    found = [None]
    for t in range(1, len(outputs)):
        pair = pairs[t]
        found.append(warping_error(outputs[t], warp(outputs[t - 1], pair.backward), pair.mask))
    return found


def one_process(clip: Path, style: Path, settings: Settings, frames: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "frames"
        stamps = []
        began = time.perf_counter()
        outcome = run_video(VideoJob(clip, (style,), settings, output=out, frames=frames),
                            listen=lambda frame: stamps.append(time.perf_counter()))
        wall = time.perf_counter() - began
        pictures = [read_frame(p) for p in sorted(out.glob("*.png"))]
    return {"frames": outcome.frames, "wall_s": wall, "frames_per_second": (len(stamps) - 1) / (stamps[-1] - stamps[0]),
            "warping_error": outcome.warping_error, "load_average": os.getloadavg()[0], "pictures": pictures}


def paint_chunks(chunks, inputs: list[np.ndarray], spec: dict, painter: ChunkPainter) -> dict[int, dict]:
    """Every frame each chunk paints, warm-up included: {chunk index: {frame index: picture}}."""
    pngs = [encode_frame(frame) for frame in inputs]
    painted = {}
    for chunk in chunks:
        answer = painter.paint(spec, chunk.first, chunk.first, None, *pngs[chunk.first:chunk.stop])
        assert answer["state"] == "done", answer
        painted[chunk.index] = {f["index"]: decode_frame(f["png"]) for f in answer["frames"]}
    return painted


def warm_up_join(chunks, painted) -> tuple[list[np.ndarray], list[list[int]]]:
    """Each chunk's own frames from its start (the warm-up thrown away); the frames each join touches."""
    outputs = [painted[c.index][i] for c in chunks for i in range(c.start, c.stop)]
    return outputs, [[c.start] for c in chunks if c.start > 0]


def cross_fade_join(chunks, painted) -> tuple[list[np.ndarray], list[list[int]]]:
    """The previous chunk's last K frames faded into this chunk's K warm-up frames, then this chunk's own."""
    outputs = [painted[c.index][i].astype(np.float32) for c in chunks for i in range(c.start, c.stop)]
    touched = []
    for c in chunks:
        if c.start == 0:
            continue
        for step, i in enumerate(range(c.first, c.start), 1):
            w = step / (c.lead + 1)
            outputs[i] = (1 - w) * outputs[i] + w * painted[c.index][i].astype(np.float32)
        touched.append(list(range(c.first, c.start + 1)))
    return [np.clip(np.rint(o), 0, 255).astype(np.uint8) for o in outputs], touched


def split(errors: list, touched: list[list[int]]) -> dict:
    at_joins = {i for frames in touched for i in frames}
    worst = [max(errors[i] for i in frames if errors[i] is not None) for frames in touched]
    inside = [e for i, e in enumerate(errors) if e is not None and i not in at_joins]
    return {"join_error": float(np.mean(worst)) if worst else None, "joins": worst, "inside": float(np.mean(inside)),
            "ratio": float(np.mean(worst) / np.mean(inside)) if worst else None,
            "mean": float(np.mean([e for e in errors if e is not None]))}


def on_ray(clip: Path, style: Path, settings: Settings, frames: int, chunk_frames: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out, work = Path(folder) / "frames", Path(folder) / "work"
        stamps = []
        began = time.perf_counter()
        outcome = run_video(VideoJob(clip, (style,), settings, output=out, frames=frames, ray="local",
                                     chunk_frames=chunk_frames, workers=workers, work=work),
                            listen=lambda frame: stamps.append(time.perf_counter()))
        wall = time.perf_counter() - began
        pictures = [read_frame(p) for p in sorted(out.glob("*.png"))]
    ray = outcome.metadata["ray"]
    return {"frames": outcome.frames, "wall_s": wall, "first_frame_after_s": stamps[0] - began,
            "frames_per_second": (len(stamps) - 1) / (stamps[-1] - stamps[0]), "workers": ray["workers"],
            "chunks": ray["chunks"], "overlap": ray["overlap"], "warping_error": outcome.warping_error,
            "join_warping_error": ray["join_warping_error"], "inside_warping_error": ray["inside_warping_error"],
            "load_average": os.getloadavg()[0], "pictures": pictures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["box.mp4", "vtest.avi"])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--chunk-frames", type=int, default=20)
    parser.add_argument("--overlaps", type=int, nargs="+", default=[0, 2, 4, 8, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    style = demo_pair()[1]
    settings = Settings(method="fast", size=args.size)
    results = {"date": datetime.date.today().isoformat(), "cpus": os.cpu_count(), "frames": args.frames,
               "size": args.size, "chunk_frames": args.chunk_frames, "style": style.name, "clips": {}}
    painter = ChunkPainter(1)
    splice = []
    for name in args.clips:
        clip = VIDEOS / name
        inputs, pairs, differences = inputs_of(clip, args.frames, args.size)
        splice.append(inputs)
        single = one_process(clip, style, settings, args.frames)
        entry = results["clips"][name] = {
            "size": [inputs[0].shape[1], inputs[0].shape[0]], "cut_detector_max_difference": max(differences),
            "one_process": {k: v for k, v in single.items() if k != "pictures"}, "chunks": []}
        print(name, "one process", f"{single['warping_error']:.3g}", f"{single['frames_per_second']:.1f} frames/s",
              f"load {single['load_average']:.1f}", flush=True)
        spec = {"key": name, "job": VideoJob(clip, (style,), settings), "size": entry["size"],
                "styles": [(style.name, style.read_bytes())], "anchor": encode_frame(inputs[0])}
        by_overlap = {}
        for overlap in args.overlaps:
            chunks = plan(len(inputs), args.chunk_frames, overlap)
            began = time.perf_counter()
            painted = paint_chunks(chunks, inputs, spec, painter)
            seconds = time.perf_counter() - began
            for join, combine in (("warm-up", warm_up_join), ("cross-fade", cross_fade_join)):
                if join == "cross-fade" and overlap == 0:
                    continue
                outputs, touched = combine(chunks, painted)
                row = {"overlap": overlap, "join": join, "chunks": len(chunks),
                       **split(errors_of(outputs, pairs), touched),
                       "difference_from_one_process": float(np.mean([np.abs(a.astype(np.int16) - b).mean()
                                                                     for a, b in zip(outputs, single["pictures"])])),
                       "paint_s": seconds, "load_average": os.getloadavg()[0]}
                entry["chunks"].append(row)
                if join == "warm-up":
                    by_overlap[overlap] = outputs
                print(name, f"K={overlap}", join, f"join {row['join_error']:.3g} inside {row['inside']:.3g} "
                      f"ratio {row['ratio']:.2f} differs {row['difference_from_one_process']:.2f}/255", flush=True)
            _save(results, args.out)
        ray = on_ray(clip, style, settings, args.frames, args.chunk_frames, args.workers)
        same = OVERLAP in by_overlap and all(np.array_equal(a, b) for a, b in zip(ray["pictures"], by_overlap[OVERLAP]))
        entry["ray"] = {**{k: v for k, v in ray.items() if k != "pictures"}, "same_frames_as_in_process": same}
        print(name, "ray", f"{ray['frames_per_second']:.1f} frames/s, wall {ray['wall_s']:.1f} s, same frames {same}, "
              f"load {ray['load_average']:.1f}", flush=True)
        _save(results, args.out)
    if len(splice) == 2:
        detector = CutDetector()
        detector.add(splice[0][-1])
        results["cut_detector_at_splice"] = detector.add(resized(splice[1][0], entry["size"]))
    _save(results, args.out)
    print(table(results))
    return 0


def _save(results: dict, out: Path | None) -> None:
    path = out or RESULTS / f"video-ray-{results['date']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))


def table(results: dict) -> str:
    lines = []
    for name, entry in results["clips"].items():
        one, ray = entry["one_process"], entry.get("ray", {})
        lines += [f"### {name}, {results['frames']} frames at {entry['size'][0]}×{entry['size'][1]}, chunks of "
                  f"{results['chunk_frames']}", "",
                  f"One process: warping error {one['warping_error']:.3g}, {one['frames_per_second']:.1f} frames/s "
                  f"(load {one['load_average']:.1f}). Scene-cut detector's largest difference: "
                  f"{entry['cut_detector_max_difference']:.1f}.", "",
                  "| overlap K | join | warping error at joins | inside | ratio | differs from one process (/255) "
                  "| load |", "|---|---|---|---|---|---|---|"]
        for row in entry["chunks"]:
            lines.append(f"| {row['overlap']} | {row['join']} | {row['join_error']:.3g} | {row['inside']:.3g} | "
                         f"{row['ratio']:.2f} | {row['difference_from_one_process']:.2f} | {row['load_average']:.1f} |")
        if ray:
            lines += ["", f"Ray, {ray['workers']} actors, K = {ray['overlap']}: {ray['frames_per_second']:.1f} "
                      f"frames/s "
                      f"from the first frame to the last, {ray['wall_s']:.1f} s in all (first frame after "
                      f"{ray['first_frame_after_s']:.1f} s), joins {ray['join_warping_error']:.3g} against inside "
                      f"{ray['inside_warping_error']:.3g}, frames the same as in process: "
                      f"{ray['same_frames_as_in_process']} "
                      f"(load {ray['load_average']:.1f})."]
        lines.append("")
    if "cut_detector_at_splice" in results:
        lines.append(f"Scene-cut detector at the splice of the two clips: {results['cut_detector_at_splice']:.1f}.")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
