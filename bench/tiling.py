"""Tiled against whole-image loss and gradient: time, peak memory and agreement, in one run.

    python bench/tiling.py                              # 1024, 2048, 4096 px; whole only where it fits
    python bench/tiling.py --sizes 256 512 --tile 128   # a quick look
    python bench/tiling.py --halo-errors                # what a halo below the rule would do

Each case runs in a fresh Python process so peaks do not mix: it builds the objective for a square
content and style picture (sailboat × The Starry Night from ../shared/images, resized) with the
default layers, then times one loss-and-gradient evaluation (its first, so one tf.function trace is
included: a few seconds) and reads the process's peak resident memory (VmHWM). The
whole image is run only where painterly.memory estimates that it fits in the memory available now.
At the smallest size one more case compares the two gradients (float32). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

try:
    from . import fresh
except ImportError:  # run as a script: python bench/tiling.py
    import fresh

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "images"
CONTENT, STYLE = IMAGES / "content" / "sailboat.jpg", IMAGES / "style" / "starry_night.jpg"
MODEL = "vgg16-hed"


def child(case: dict) -> dict:
    """One case in this (fresh) process: build, evaluate once, report times and peak memory."""
    import numpy as np

    from painterly import backbones, images, losses, memory, settings, tiling

    side, tile = case["size"], case["tile"]
    s = settings.Settings()
    layers = list(dict.fromkeys(s.content_layers + s.style_layers))
    backbone = backbones.build(MODEL, layers)
    content = images.resize(images.load_image(CONTENT).rgb, (side, side))
    style = images.resize(images.load_image(STYLE).rgb, (side, side))
    x = np.clip(content + np.random.default_rng(0).normal(0, 8, content.shape), 0, 255).astype(np.float32)
    options = dict(content_layers=s.content_layers, style_layers=s.style_layers, content_weight=s.content_weight,
                   style_weight=s.style_weight, tv_weight=s.tv_weight, normalize=s.normalize)

    def build(tile):
        if tile is None:
            return losses.Objective(backbone, content[None], [style[None]], **options)
        return tiling.TiledObjective(backbone, content, [style], tile=tile, **options)

    started = time.perf_counter()
    objective = build(tile if case["mode"] != "compare" else None)
    targets_s = time.perf_counter() - started
    started = time.perf_counter()
    total, terms, grad = objective.value_and_grad(x[None])
    evaluate_s = time.perf_counter() - started
    out = {**case, "targets_s": round(targets_s, 1), "evaluate_s": round(evaluate_s, 1), "loss": float(total),
           "peak_bytes": memory.peak_rss_bytes(), "halo": tiling.required_halo("vgg16", layers)}
    if case["mode"] == "compare":  # the same evaluation tiled, against the whole image's
        grad = np.asarray(grad, np.float64)
        tiled_total, _, tiled_grad = build(tile).value_and_grad(x[None])
        out["loss_error"] = abs(float(tiled_total) - float(total)) / abs(float(total))
        out["grad_error"] = float(np.abs(np.asarray(tiled_grad, np.float64) - grad).max() / np.abs(grad).max())
    return out


def halo_errors() -> str:
    """Gradient error of tiles whose halo is the rule's (64 px) and one grid step less (48 px), against
    the whole image: VGG16 to block5_conv1, random weights, 176 px, 48 px tiles, all three terms.

    The objective refuses a halo below the rule, so the smaller one is set after building it (the
    targets are then exact; only the evaluation sees the short halo)."""
    import keras
    import numpy as np

    from painterly import backbones, losses, tiling

    layers = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
    options = dict(content_layers=["block4_conv1"], style_layers=layers, content_weight=1.0, style_weight=10.0,
                   tv_weight=1.0)
    out = ["| halo | float64 | float32 |", "|---|---|---|"]
    errors = {}
    for dtype in ("float64", "float32"):
        keras.utils.set_random_seed(0)
        backbone = backbones.build("vgg16-random", layers, dtype=dtype)
        rng = np.random.default_rng(0)
        content, x, style = (rng.uniform(0, 255, (1, 176, 176, 3)) for _ in range(3))
        _, _, grad = losses.Objective(backbone, content, [style], **options).value_and_grad(x)
        grad = np.asarray(grad, np.float64)
        tiled = tiling.TiledObjective(backbone, content, [style], tile=48, **options)
        for halo in (64, 48):
            tiled.halo = halo
            tiled_grad = np.asarray(tiled.value_and_grad(x)[2], np.float64)
            errors[halo, dtype] = np.abs(tiled_grad - grad).max() / np.abs(grad).max()
    for halo in (64, 48):
        out.append(f"| {halo} px{' (the rule)' if halo == 64 else ''} | {errors[halo, 'float64']:.1e} | "
                   f"{errors[halo, 'float32']:.1e} |")
    return "\n".join(out)


def fits_whole(side: int) -> bool:
    from painterly import memory, settings

    s = settings.Settings()
    layers = list(dict.fromkeys(s.content_layers + s.style_layers))
    needed = memory.estimate_peak_bytes(side, side, model=MODEL, layers=layers, optimizer="adam",
                                        style_sizes=[(side, side)])
    return needed <= memory.available_bytes()


def measure(case: dict) -> dict:
    """What the case measured in a fresh process, or the case with the reason it failed."""
    try:
        return fresh.run(__file__, case)
    except fresh.CaseFailed as failure:
        return {**case, "failed": failure.reason}


def table(rows: list[dict]) -> str:
    gb = lambda n: f"{n / 1e9:.2f} GB"  # noqa: E731
    out = ["| size | tile (halo) | targets | one evaluation | tiled / whole time | peak RSS |",
           "|---|---|---|---|---|---|"]
    whole = {r["size"]: r for r in rows if r["mode"] == "whole" and "failed" not in r}
    for r in rows:
        if r["mode"] == "compare":
            continue
        label = f"{r['size']}×{r['size']}"
        if "failed" in r:
            out.append(f"| {label} | {r['tile'] or 'whole'} | failed: {r['failed']} | | | |")
            continue
        ratio = (f"{r['evaluate_s'] / whole[r['size']]['evaluate_s']:.2f}"
                 if r["mode"] == "tiled" and r["size"] in whole else "–")
        tile = f"{r['tile']} px ({r['halo']} px)" if r["mode"] == "tiled" else "whole image"
        out.append(f"| {label} | {tile} | {r['targets_s']:.0f} s | {r['evaluate_s']:.0f} s | {ratio} | "
                   f"{gb(r['peak_bytes'])} |")
    for r in rows:
        if r["mode"] == "compare" and "failed" not in r:
            out.append(f"\nTiled against whole at {r['size']}×{r['size']} (float32, tiles of {r['tile']} px): "
                       f"loss relative error {r['loss_error']:.1e}, gradient max relative error {r['grad_error']:.1e}.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--tile", type=int, default=1024, help="core size of the tiles (default 1024)")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument("--halo-errors", action="store_true", help="only: what a too-small halo would do")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.halo_errors:
        print(halo_errors())
        return
    rows = []
    started = time.perf_counter()
    for side in args.sizes:
        tile = min(args.tile, side // 2)  # at least 2×2 tiles
        cases = [{"size": side, "tile": tile, "mode": "tiled"}]
        if fits_whole(side):
            cases.insert(0, {"size": side, "tile": None, "mode": "whole"})
        if side == min(args.sizes):
            cases.append({"size": side, "tile": tile, "mode": "compare"})
        for case in cases:
            rows.append(measure(case))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"{MODEL}, default layers (halo {rows[0].get('halo')} px), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; {time.perf_counter() - started:.0f} s in all\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
