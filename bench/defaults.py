"""Settings side by side on real pairs: the pictures and the measures that check them (never the goal).

    python -m bench.defaults --size 384 --pair tubingen starry_night \
        --setting old init=content,iterations=100 --setting new "" --images /tmp/looks --sheet sheet.jpg

Each `--setting NAME CHANGES` is `Settings()` (today's defaults, vgg16-hed) with CHANGES on top ("" for
none). Every pair is run with every setting on one backbone. Per result: the seconds of optimisation,
the final loss, the colour ratio (bench/looks.py: below 1 the palette is nearer the painting's), each
style layer's loss relative to the photo's (how much of the painting's texture statistics each layer
reached: 1 is the photo, 0 the painting) and the stroke size (bench/looks.py). Results:
bench/results/defaults-<date>-<size>px.json; with --sheet, one row per pair: photo, painting, each setting.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import dataclasses
import datetime
import json
import time
from pathlib import Path

import numpy as np

from painterly import Settings, backbones, images, losses
from painterly.engine import Transfer

from .looks import colour_ratio, stroke_size
from .suite import MODEL, SHARED, machine

RESULTS = Path(__file__).resolve().parent / "results"


def parse_changes(text: str) -> dict:
    """"init=fast,init_photo=0.25" -> {"init": "fast", "init_photo": 0.25}, typed as Settings' fields."""
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    changes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, value = item.split("=", 1)
        kind = str(types[key])
        changes[key] = (float(value) if "float" in kind and "tuple" not in kind else
                        int(value) if kind.startswith("int") else value)
    return changes


def style_layer_shares(objective, image: np.ndarray, photo: np.ndarray) -> dict[str, float]:
    """Each style layer's relative Gram error on `image` divided by the photo's (1: no nearer the painting)."""
    import tensorflow as tf

    style = objective.term("style")

    def per_layer(x) -> dict[str, float]:
        features = objective.backbone(tf.constant(x[None], objective.dtype))
        out = {}
        for n in style.layers:
            g = losses.gram(features[n])
            out[n] = float(losses.relative_squared_error(g, tf.cast(style.grams[n], g.dtype)))
        return out

    ours, theirs = per_layer(image), per_layer(photo)
    return {n: round(ours[n] / max(theirs[n], 1e-30), 4) for n in ours}


def run_pair(content: Path, style: Path, settings: Settings, backbone, save_to: Path | None, name: str) -> dict:
    run = Transfer(content, style, settings, backbone=backbone)
    began = time.perf_counter()
    for _ in run:
        pass
    seconds = time.perf_counter() - began
    result = run.result()
    photo = images.resize(images.load_image(content).rgb, run.size)
    painting = images.load_image(style).rgb
    if save_to is not None:
        images.save_image(save_to / f"{content.stem}_{style.stem}_{name}.png", result.image)
    objective = run.objective(run.size)
    return {
        "seconds": round(seconds, 1),
        "loss": round(result.best.loss, 4),
        "colour_ratio": round(colour_ratio(result.image, photo, painting), 3),
        "style_layers_vs_photo": style_layer_shares(objective, result.image, photo),
        "stroke_px": round(stroke_size(result.image), 2),
        "photo_stroke_px": round(stroke_size(photo), 2),
    }


def sheet(rows: list[dict], names: list[str], folder: Path, out: Path, cell: int = 300) -> None:
    from PIL import Image, ImageDraw

    from painterly.reports import _font

    font = _font(13)
    columns = ["photo", "painting", *names]
    first = Image.open(folder / f"{rows[0]['photo']}_{rows[0]['painting']}_{names[0]}.png")
    height = round(cell * first.height / first.width)
    canvas = Image.new("RGB", (cell * len(columns), (height + 22) * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        y = r * (height + 22)
        for c, column in enumerate(columns):
            if column == "photo":
                picture, label = images.load_image(SHARED / "content" / row["photo_file"]).rgb, row["photo"]
            elif column == "painting":
                picture, label = images.load_image(SHARED / "style" / row["painting_file"]).rgb, row["painting"]
            else:
                picture = images.load_image(folder / f"{row['photo']}_{row['painting']}_{column}.png").rgb
                m = row[column]
                label = f"{column}: {m['seconds']:.0f} s, colour {m['colour_ratio']:.2f}"
            tile = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
            tile.thumbnail((cell, height))
            canvas.paste(tile, (c * cell + (cell - tile.width) // 2, y + (height - tile.height) // 2))
            draw.text((c * cell + 4, y + height + 3), label, fill="black", font=font)
    canvas.save(out, quality=88)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.defaults", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--pair", nargs=2, action="append", metavar=("PHOTO", "PAINTING"), required=True)
    parser.add_argument("--setting", nargs=2, action="append", metavar=("NAME", "CHANGES"), required=True)
    parser.add_argument("--images", type=Path, help="folder for the pictures")
    parser.add_argument("--sheet", type=Path, help="with --images: the side-by-side sheet")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    backbones.import_tensorflow_quietly()
    base = Settings(model=MODEL, size=args.size, seed=0)
    settings = {name: base.replace(**parse_changes(changes)) for name, changes in args.setting}
    layers = list(dict.fromkeys(base.content_layers + base.style_layers))
    backbone = backbones.build(MODEL, layers)
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
    rows = []
    stamp = datetime.date.today().isoformat()
    out = args.out / f"defaults-{stamp}-{args.size}px.json"
    for photo, painting in args.pair:
        content = next((SHARED / "content").glob(f"{photo}.*"))
        style = next((SHARED / "style").glob(f"{painting}.*"))
        row = {"photo": photo, "painting": painting, "photo_file": content.name, "painting_file": style.name,
               "painting_stroke_px": round(stroke_size(images.load_image(style).rgb), 2)}
        for name, s in settings.items():
            row[name] = run_pair(content, style, s, backbone, args.images, name)
            print(f"{photo} × {painting} {name}: {json.dumps(row[name])}", flush=True)
        rows.append(row)
        args.out.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"machine": machine(), "size": args.size, "model": MODEL,
                                   "settings": {n: c for n, c in args.setting}, "rows": rows}, indent=1))
    if args.sheet and args.images:
        sheet(rows, list(settings), args.images, args.sheet)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
