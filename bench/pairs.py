"""Named pairs rendered with a preset, and two such renderings compared pair by pair (sheet and table).

    python -m bench.pairs run --preset relative --out /tmp/old [--size 512] [--pairs reference|held_out]
                              [--set style_loss=sliced ...]
    python -m bench.pairs compare /tmp/old /tmp/new --sheet docs/quality/held_out.jpg [--pairs held_out]
    python -m bench.pairs reference /tmp/old /tmp/new --sheet docs/quality/reference_sheet.jpg

`run` renders each pair with the preset (vgg16-hed, seed 0; one backbone for all), a PNG per pair named
CONTENT_STYLE[_sSCALE].png, and the seconds each took in times.json. `compare` measures both folders'
pictures with bench/looks.py (colour ratio: below 1 the palette is nearer the painting's; stroke size in
pixels) and prints a markdown table; with --sheet, one row per pair: photo, painting, old, new.
`reference` writes the sheet of the three published pairs: photo | painting | old | new | jcjohnson.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import json
import time
from pathlib import Path

import numpy as np

from painterly import images

from .looks import colour_ratio, stroke_size
from .suite import MODEL

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "reference"
# (content, painting, style scale, the published output) of ../shared/reference (SOURCES.md): tuned on
PAIRS_REFERENCE = [
    ("tubingen", "composition_vii", 1.0, "jcjohnson_tubingen_composition_vii.png"),
    ("golden_gate", "starry_night", 0.5, "jcjohnson_golden_gate_starry_scale05.png"),
    ("golden_gate", "starry_night", 2.0, "jcjohnson_golden_gate_starry_scale2.png"),
]
# twelve pairs nobody tuned on: every content twice, Brushstrokes and blue skies under The Starry Night among them
PAIRS_HELD_OUT = [
    ("chicago", "brushstrokes"), ("sailboat", "starry_night"), ("cornell", "the_scream"),
    ("hoover_tower_night", "great_wave"), ("tubingen", "woman_with_hat"), ("golden_gate", "seaport"),
    ("chicago", "mosaic"), ("sailboat", "candy"), ("cornell", "shipwreck"), ("hoover_tower_night", "asheville"),
    ("golden_gate", "brushstrokes"), ("tubingen", "starry_night"),
]


def find(stem: str, kind: str) -> Path:
    folders = [SHARED / "images" / "content"] if kind == "content" else [SHARED / "images" / "style",
                                                                         SHARED / "paintings"]
    for folder in folders:
        for path in sorted(folder.glob(f"{stem}.*")):
            return path
    raise FileNotFoundError(f"no {kind} image named {stem} in {', '.join(map(str, folders))}")


def pairs(which: str) -> list[tuple[str, str, float]]:
    if which == "reference":
        return [(c, s, scale) for c, s, scale, _ in PAIRS_REFERENCE]
    return [(c, s, 1.0) for c, s in PAIRS_HELD_OUT]


def name(content: str, style: str, scale: float) -> str:
    return f"{content}_{style}" + ("" if scale == 1 else f"_s{scale:g}")


def run(args) -> int:
    from painterly import backbones
    from painterly.engine import Transfer
    from painterly.flags import settings_from_text

    args.out.mkdir(parents=True, exist_ok=True)
    given = dict(item.split("=", 1) for item in args.set)  # e.g. style_loss=sliced, parsed as its flag is
    base = settings_from_text(given, args.preset).replace(model=MODEL, size=args.size, seed=0)
    backbone = backbones.build(MODEL, list(dict.fromkeys(base.content_layers + base.style_layers)))
    times_file = args.out / "times.json"
    todo = pairs(args.pairs)
    for content, style, scale in reversed(todo) if args.reverse else todo:  # two processes can share a list
        out = args.out / f"{name(content, style, scale)}.png"
        if out.is_file():
            continue
        started = time.perf_counter()
        transfer = Transfer(find(content, "content"), find(style, "style"), base.replace(style_scale=scale),
                            backbone=backbone)
        for _ in transfer:
            pass
        images.save_image(out, transfer.result().image)
        times = json.loads(times_file.read_text()) if times_file.is_file() else {}
        times[out.stem] = {"seconds": round(time.perf_counter() - started, 1),
                           "load_average": round(os.getloadavg()[0], 2)}
        times_file.write_text(json.dumps(times, indent=1))
        print(f"{out.stem}: {times[out.stem]['seconds']} s", flush=True)
    return 0


def _tile(picture: np.ndarray, width: int, height: int):
    from PIL import Image

    tile = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
    tile.thumbnail((width, height))
    return tile


def write_sheet(rows: list[list[tuple[np.ndarray, str]]], out: Path, cell: int = 300) -> None:
    from PIL import Image, ImageDraw

    from painterly.reports import _font

    font = _font(13)
    height = max(round(cell * p.shape[0] / p.shape[1]) for row in rows for p, _ in row[:1])
    columns = max(len(row) for row in rows)
    canvas = Image.new("RGB", (cell * columns, (height + 20) * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        y = r * (height + 20)
        for c, (picture, label) in enumerate(row):
            tile = _tile(picture, cell - 4, height)
            canvas.paste(tile, (c * cell + (cell - tile.width) // 2, y + (height - tile.height) // 2))
            draw.text((c * cell + 4, y + height + 2), label, fill="black", font=font)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, quality=90)


def compare(args) -> int:
    rows, measures = [], []
    print("| pair | colour ratio old | new | stroke px old | new | painting |")
    print("|---|---|---|---|---|---|")
    for content, style, scale in pairs(args.pairs):
        photo_file, painting_file = find(content, "content"), find(style, "style")
        files = [folder / f"{name(content, style, scale)}.png" for folder in args.folders]
        if not all(f.is_file() for f in files):
            print(f"| {content} × {style} | not rendered in both folders | | | | |")
            continue
        pictures = [images.load_image(f).rgb for f in files]
        photo = images.resize(images.load_image(photo_file).rgb, (pictures[0].shape[1], pictures[0].shape[0]))
        painting = images.load_image(painting_file).rgb
        row = [colour_ratio(p, photo, painting) for p in pictures] + [stroke_size(p) for p in pictures]
        measures.append(row)
        painting_stroke = stroke_size(images.resize(painting, images.fit_size(
            (painting.shape[1], painting.shape[0]), max(pictures[0].shape[:2]))))
        pair = name(content, style, scale).replace("_" + style, " × " + style)
        print(f"| {pair} | {row[0]:.2f} | {row[1]:.2f} | {row[2]:.1f} | {row[3]:.1f} | {painting_stroke:.1f} |")
        rows.append([(photo, content), (painting, style),
                     (pictures[0], f"{args.names[0]}: colour {row[0]:.2f}, stroke {row[2]:.1f} px"),
                     (pictures[1], f"{args.names[1]}: colour {row[1]:.2f}, stroke {row[3]:.1f} px")])
    median = np.median(np.array(measures), axis=0)
    print(f"| median of {len(measures)} | {median[0]:.2f} | {median[1]:.2f} | {median[2]:.1f} | {median[3]:.1f} | |")
    if args.sheet:
        write_sheet(rows, args.sheet)
    return 0


def reference(args) -> int:
    rows = []
    names = " | ".join(args.names)
    print(f"| pair | colour ratio {names} | jcjohnson | stroke px {names} | jcjohnson |")
    print("|---|---|---|---|---|---|---|")
    for content, style, scale, published in PAIRS_REFERENCE:
        photo = images.load_image(find(content, "content")).rgb
        painting = images.load_image(find(style, "style")).rgb
        label = name(content, style, scale)
        pictures = [images.load_image(folder / f"{label}.png").rgb for folder in args.folders]
        pictures.append(images.load_image(REFERENCE / published).rgb)
        shown = [images.resize(photo, (p.shape[1], p.shape[0])) for p in pictures]
        colour = [colour_ratio(p, s, painting) for p, s in zip(pictures, shown)]
        stroke = [stroke_size(p) for p in pictures]
        print(f"| {label} | " + " | ".join(f"{c:.2f}" for c in colour) + " | "
              + " | ".join(f"{x:.1f}" for x in stroke) + " |")
        rows.append([(photo, content), (painting, f"{style}" + ("" if scale == 1 else f", style scale {scale:g}")),
                     *[(p, f"{n}: colour {c:.2f}, stroke {x:.1f} px")
                       for p, n, c, x in zip(pictures, [*args.names, "jcjohnson/neural-style"], colour, stroke)]])
    write_sheet(rows, args.sheet)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pairs", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--preset", default="default")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--pairs", choices=("reference", "held_out"), default="held_out")
    p.add_argument("--reverse", action="store_true", help="the pairs in reverse order")
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                   help="settings over the preset, as a manifest or the web form gives them (style_loss=sliced)")
    for command in ("compare", "reference"):
        p = sub.add_parser(command)
        p.add_argument("folders", nargs=2, type=Path)
        p.add_argument("--names", nargs=2, default=("old default", "new default"))
        p.add_argument("--sheet", type=Path, required=command == "reference")
        p.add_argument("--pairs", choices=("reference", "held_out"), default="held_out")
    args = parser.parse_args(argv)
    return {"run": run, "compare": compare, "reference": reference}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
