"""The default at 1024 and 2048 px: what the steps at the scales above 512 px do to the strokes.

    python -m bench.large run CONTENT STYLE --size 1024 --out DIR [--keep 0 1 2 3 5 10] [--set NAME=VALUE ...]
    python -m bench.large crop DIR/a.png DIR/b.png ... --box LEFT TOP [--side 512] -o SHEET.png
    python -m bench.large stack ROW1.png ROW2.png ... -o SHEET.jpg

`run` renders one picture with the default (vgg16-hed, seed 0) and any settings given with --set, and keeps,
from the finest scale, the image after each step listed in --keep (step 0: the coarser scale's picture
resized, before any step there), as DIR/step<N>.png, and the coarser scale's own picture as DIR/coarser.png:
one render shows what fewer steps at the finest scale would give. It writes DIR/run.json with the seconds,
the load average, and colour_ratio, stroke_size and pixel_detail (bench/looks.py) of each kept image.
`crop` puts 512×512 crops at 1:1 (no resampling) of the given pictures side by side, each labelled with
its file's name (one picture: its crop, unlabelled). `stack` puts such rows one under the other.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import ast
import json
import time
from pathlib import Path



def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a word: a choice such as "off" or an image path


def run(args) -> int:
    from painterly import images, preset
    from painterly.methods.optimise import Transfer

    from .looks import colour_ratio, pixel_detail, stroke_size
    from .suite import MODEL

    overrides = dict(item.split("=", 1) for item in args.set)
    settings = preset("default", model=MODEL, size=args.size, seed=0, **{k: _value(v) for k, v in overrides.items()})
    args.out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    transfer = Transfer(args.content, args.style, settings)
    content = images.load_image(args.content).rgb
    style = images.load_image(args.style).rgb
    kept, coarser, finest_steps = {}, None, []
    for record in transfer:
        last = record.scale == record.scales - 1
        if record.scale == record.scales - 2 and (coarser is None or record.loss <= coarser.loss):
            coarser = record
        if last:
            finest_steps.append({"step": record.step, "loss": record.loss, "elapsed_s": round(record.elapsed, 1)})
            if record.step in args.keep:
                kept[f"step{record.step}"] = record.image
        print(f"scale {record.scale + 1}/{record.scales} {record.size} step {record.step}/{record.steps} "
              f"loss {record.loss:.4g} {record.elapsed:.0f} s", flush=True)
    seconds = time.perf_counter() - started
    if coarser is not None:
        kept["coarser"] = coarser.image
    kept["result"] = transfer.result().image
    looks = {}
    for name, image in kept.items():
        images.save_image(args.out / f"{name}.png", image)
        shape = (image.shape[1], image.shape[0])
        looks[name] = {"colour_ratio": round(colour_ratio(image, images.resize(content, shape),
                                                          images.resize(style, shape)), 3),
                       "stroke_px": round(stroke_size(image), 2), "pixel_detail": round(pixel_detail(image), 1)}
        print(name, looks[name], flush=True)
    summary = {"content": str(args.content), "style": str(args.style), "size": args.size, "set": overrides,
               "scales": [list(s) for s in transfer.scales],
               "steps": [settings.scale_iterations(i, max(size)) for i, size in enumerate(transfer.scales)],
               "seconds": round(seconds, 1), "timings": {k: round(v, 1) for k, v in transfer.timings.items()},
               "load_average_before": round(load, 2), "load_average_after": round(os.getloadavg()[0], 2),
               "finest_steps": finest_steps, "looks": looks}
    (args.out / "run.json").write_text(json.dumps(summary, indent=1))
    print(f"{seconds:.0f} s; wrote {args.out}")
    return 0


def crop(args) -> int:
    from PIL import Image, ImageDraw

    left, top = args.box
    tiles = []
    for path in args.pictures:
        picture = Image.open(path).convert("RGB")
        box = (left, top, min(left + args.side, picture.width), min(top + args.side, picture.height))
        tile = picture.crop(box)
        if len(args.pictures) > 1:
            ImageDraw.Draw(tile).text((4, 4), f"{path.parent.name}/{path.stem}", fill=(255, 255, 255))
        tiles.append(tile)
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), max(t.height for t in tiles)))
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width + 4
    sheet.save(args.output, quality=92)  # quality: JPEG only
    print(f"wrote {args.output} ({sheet.width}×{sheet.height})")
    return 0


def stack(args) -> int:
    from PIL import Image

    rows = [Image.open(path).convert("RGB") for path in args.rows]
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + 4 * (len(rows) - 1)))
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height + 4
    sheet.save(args.output, quality=88)  # quality: JPEG only
    print(f"wrote {args.output} ({sheet.width}×{sheet.height})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.large", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("run")
    r.add_argument("content", type=Path)
    r.add_argument("style", type=Path)
    r.add_argument("--size", type=int, default=1024)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--keep", type=int, nargs="+", default=[0, 1, 2, 3, 5, 10])
    r.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    c = commands.add_parser("crop")
    c.add_argument("pictures", type=Path, nargs="+")
    c.add_argument("--box", type=int, nargs=2, required=True, metavar=("LEFT", "TOP"))
    c.add_argument("--side", type=int, default=512)
    c.add_argument("-o", "--output", type=Path, required=True)
    t = commands.add_parser("stack")
    t.add_argument("rows", type=Path, nargs="+")
    t.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    return {"run": run, "crop": crop, "stack": stack}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
