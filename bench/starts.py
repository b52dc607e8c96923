"""The optimisation started from the photo against started from the fast method's picture (--init fast).

    python -m bench.starts [--size 512] [--iterations 100] [--pairs N] [--images DIR]

For each pair of ../shared/images, both runs (default settings, vgg16-hed, the same backbone) advance
in turns, one step each, so machine load hits both alike; each run's own seconds are summed. Written:
the loss after 10, 20, 30, 50 and 100 iterations, the iterations and seconds each start needs to reach
the photo start's last loss, the colour ratio (bench/looks.py) of each result, and with --images the
pictures at those points, for looking at. Results: bench/results/starts-<date>.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import datetime
import json
import time
from pathlib import Path

from painterly import Settings, backbones, images
from painterly.engine import Transfer

from .looks import colour_ratio
from .suite import LAYERS, MODEL, SHARED, machine

PAIRS = (
    ("tubingen", "starry_night"), ("golden_gate", "the_scream"), ("chicago", "woman_with_hat"),
    ("sailboat", "brushstrokes"), ("cornell", "shipwreck"), ("hoover_tower_night", "candy"),
)
CHECKPOINTS = (0, 10, 20, 30, 40, 50, 100)
RESULTS = Path(__file__).resolve().parent / "results"


def compare(content: Path, style: Path, settings: Settings, backbone, save_to: Path | None) -> dict:
    """Both starts on one pair, stepped in turns; their losses, own seconds and colour ratios."""
    runs = {start: Transfer(content, style, settings.replace(init=start), backbone=backbone)
            for start in ("content", "fast")}
    streams = {start: iter(run) for start, run in runs.items()}
    curves = {start: [] for start in runs}  # (loss, own seconds) per step
    spent = dict.fromkeys(runs, 0.0)
    last = {}
    live = dict(streams)
    while live:
        for start, stream in list(live.items()):
            began = time.perf_counter()
            record = next(stream, None)
            spent[start] += time.perf_counter() - began
            if record is None:
                del live[start]
                continue
            curves[start].append((record.loss, spent[start]))
            last[start] = record
            if save_to is not None and record.step in CHECKPOINTS:
                images.save_image(save_to / f"{content.stem}_{style.stem}_{start}_{record.step:03d}.png", record.image)
    target = curves["content"][-1][0]
    photo = images.resize(images.load_image(content).rgb, runs["content"].size)
    painting = images.load_image(style).rgb
    row = {"photo": content.stem, "painting": style.stem, "size": list(runs["content"].size), "target": target}
    for start, curve in curves.items():
        reached = next((step for step, (loss, _) in enumerate(curve) if loss <= target), None)
        row[start] = {
            "loss": {str(step): curve[step][0] for step in CHECKPOINTS if step < len(curve)},
            "seconds_at": {str(step): round(curve[step][1], 2) for step in CHECKPOINTS if step < len(curve)},
            "iterations_to_target": reached,
            "seconds_to_target": None if reached is None else round(curve[reached][1], 2),
            "seconds": round(curve[-1][1], 2),
            "colour_ratio": round(colour_ratio(runs[start].result().image, photo, painting), 3),
        }
    row["fast_picture_colour_ratio"] = None
    if save_to is not None:
        first = save_to / f"{content.stem}_{style.stem}_fast_000.png"
        row["fast_picture_colour_ratio"] = round(colour_ratio(images.load_image(first).rgb, photo, painting), 3)
    return row


SHEET_COLUMNS = (("content", 0, "photo"), ("fast", 0, "fast method"), ("content", 100, "optimised from the photo"),
                 ("fast", 30, "from the fast picture, 30 it"), ("fast", 100, "from the fast picture, 100 it"))


def sheet(rows: list[dict], folder: Path, out: Path, cell: int = 320) -> None:
    """One row per pair: the photo, the fast picture, and the optimisation from each start, with times."""
    from PIL import Image, ImageDraw

    from painterly.reports import _font

    font = _font(14)
    first = Image.open(folder / f"{rows[0]['photo']}_{rows[0]['painting']}_content_000.png")
    height = round(cell * first.height / first.width)
    canvas = Image.new("RGB", (cell * len(SHEET_COLUMNS), (height + 24) * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        for c, (start, step, label) in enumerate(SHEET_COLUMNS):
            path = folder / f"{row['photo']}_{row['painting']}_{start}_{step:03d}.png"
            if not path.is_file():
                continue
            image = Image.open(path).convert("RGB").resize((cell, height), Image.Resampling.LANCZOS)
            canvas.paste(image, (c * cell, r * (height + 24) + 24))
            timing = row[start].get("seconds_at", {}).get(str(step))
            if timing is None and step == 100:
                timing = row[start]["seconds"]
            if label == "fast method":  # its own time, measured here with the network loaded
                timing = _fast_seconds(row)
            caption = f"{row['photo']} × {row['painting']}" if c == 0 else label
            if timing is not None and c:
                caption += f" ({timing:.1f} s)" if timing >= 1 else f" ({timing:.2f} s)"
            draw.text((c * cell + 4, r * (height + 24) + 4), caption, fill="black", font=font)
    canvas.save(out, quality=88)


def _fast_seconds(row: dict) -> float:
    from painterly.methods.fast import FastRun

    run = FastRun(SHARED / "content" / f"{row['photo']}.jpg", SHARED / "style" / f"{row['painting']}.jpg",
                  Settings(method="fast", size=max(row["size"])))
    run.network  # loaded before timing
    list(run)
    return run.timings["paint_s"]


def table(results: dict, json_name: str) -> str:
    """The markdown of one run of this script: per pair, the loss at each checkpoint from both starts."""
    rows = results["pairs"]
    size = rows[0]["size"]
    steps = [s for s in CHECKPOINTS if str(s) in rows[0]["content"]["loss"]]
    out = [f"{len(rows)} pairs at {size[0]}×{size[1]} (4:3; other shapes at the same long side), default settings "
           f"with vgg16-hed and seed 0, both starts stepped in turns in one process (`python -m bench.starts`, raw "
           f"numbers in `{json_name}`). *reaches* is the first iteration whose loss is at most the photo start's "
           f"loss after {steps[-1]} iterations, with the seconds that start's own steps took to get there "
           f"(the fast start's seconds include painting the fast picture). Colour ratio: bench/looks.py.", "",
           "| pair | start | " + " | ".join(f"{s} it" for s in steps) + " | reaches | seconds | colour ratio |",
           "|---|---|" + "---:|" * (len(steps) + 3)]
    for row in rows:
        for start in ("content", "fast"):
            r = row[start]
            reached = ("–" if r["iterations_to_target"] is None
                       else f"{r['iterations_to_target']} it, {r['seconds_to_target']:.0f} s")
            losses = " | ".join(f"{r['loss'][str(s)]:.3f}" for s in steps)
            pair = f"{row['photo']} × {row['painting']}" if start == "content" else ""
            out.append(f"| {pair} | {'photo' if start == 'content' else 'fast picture'} | {losses} | {reached} | "
                       f"{r['seconds']:.0f} | {r['colour_ratio']:.2f} |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.starts", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--images", type=Path, help="folder for the pictures at each checkpoint")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--sheet", type=Path, help="with --images: write the side-by-side sheet here")
    parser.add_argument("--doc", type=Path, help="markdown file to put the table in (between 'starts NNNpx' markers)")
    parser.add_argument("--from-json", type=Path, help="measure nothing: make the sheet and the table from this file")
    parser.add_argument("--pair", nargs=2, action="append", metavar=("PHOTO", "PAINTING"),
                        help="a pair of ../shared/images by stem (repeatable; default: the six of PAIRS)")
    args = parser.parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        _outputs(args, results, args.from_json.name)
        return 0
    settings = Settings(model=MODEL, size=args.size, iterations=args.iterations, seed=0)
    backbone = backbones.build(MODEL, LAYERS)
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
    rows = []
    day = datetime.date.today().isoformat()
    out = args.out / f"starts-{day}-{args.size}px.json"
    for content, style in (args.pair or PAIRS[:args.pairs]):
        row = compare(SHARED / "content" / f"{content}.jpg", SHARED / "style" / f"{style}.jpg", settings, backbone,
                      args.images)
        rows.append(row)
        print(json.dumps(row), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"machine": machine(), "settings": settings.to_dict(), "pairs": rows}, indent=1))
    _outputs(args, {"pairs": rows}, out.name)
    return 0


def _outputs(args, results: dict, json_name: str) -> None:
    from .report import write_doc

    if args.sheet and args.images:
        sheet(results["pairs"], args.images, args.sheet)
    if args.doc:
        write_doc(args.doc, table(results, json_name), f"starts {max(results['pairs'][0]['size'])}px")


if __name__ == "__main__":
    raise SystemExit(main())
