"""Today's default against the one before issue 22, end to end, in one run: seconds, ratio, FLOPs per step.

    python -m bench.quality [--size 512] [--repeats 1] [--pair CONTENT STYLE] [--out bench/results]
                            [--against relative|gram]

Each run is the CLI (`painterly CONTENT STYLE -o OUT.png --model vgg16-hed --seed 0 --quiet`) in a fresh
process, wall time from start to the saved picture, for the default and for `--preset relative` (the
default before issue 22: relative style errors, content at block5_conv2, 40 L-BFGS steps at 512 px
from the fast picture) or, with `--against gram`, `--style-loss gram` (3 Gram steps above 512 px, the rule
before the w2 loss), alternating so that both see the same load. The machine's load average is kept
beside each time, and the CPU seconds the process used (less sensitive to the load than the wall time)
(two cores shared: a time with a load above 2 is not an idle-core time). FLOPs per
step are counted from the layer shapes (bench/flops.py) at each scale the run optimises at, times the
steps planned there. Results: bench/results/quality-<date>-<size>px.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from painterly import architectures, images, preset

from .flops import step_flops
from .suite import CONTENT, MODEL, STYLE, _children_cpu_s, machine

RESULTS = Path(__file__).resolve().parent / "results"
# name: (the CLI's options, the settings they give); --against picks the one beside the default
SETTINGS = {"default": ([], {}), "relative": (["--preset", "relative"], {"name": "relative"}),
            "gram": (["--style-loss", "gram"], {"style_loss": "gram"})}


def planned_work(name: str, content: Path, size: int, model) -> dict:
    """Scales, steps per scale and FLOPs per step (and in all) the named preset plans for `content`."""
    overrides = dict(SETTINGS[name][1])
    s = preset(overrides.pop("name", "default"), model=MODEL, size=size, **overrides)
    sides = s.scale_sizes(size)
    content_size = images.load_image(content).size
    layers = list(dict.fromkeys(s.content_layers + s.style_layers))
    names = architectures.layer_names("vgg16")
    deepest = max(layers, key=names.index)
    m = architectures.border_margin(layers) if s.border == "mirror" else 0
    scales = []
    for i, side in enumerate(sides):
        width, height = images.fit_size(content_size, side)
        flops = step_flops(model, height + 2 * m, width + 2 * m, deepest=deepest, gram_layers=s.style_layers,
                           gram_crop=m)
        scales.append({"size": [width, height], "steps": s.scale_iterations(i, side), "gflops_per_step": flops / 1e9})
    return {"scales": scales, "gflops": sum(c["steps"] * c["gflops_per_step"] for c in scales)}


def run_cli(content: Path, style: Path, size: int, options: list[str], out: Path) -> dict:
    command = [sys.executable, "-m", "painterly", str(content), str(style), "-o", str(out), "--model", MODEL,
               "--size", str(size), "--seed", "0", "--quiet", *options]
    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), _children_cpu_s()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    seconds, cpu = time.perf_counter() - started, _children_cpu_s() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return {"seconds": round(seconds, 1), "cpu_s": round(cpu, 1), "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--pair", nargs=2, type=Path, default=(CONTENT, STYLE), metavar=("CONTENT", "STYLE"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--against", choices=("relative", "gram"), default="relative",
                        help="beside the default: --preset relative (the default before issue 22) or --style-loss "
                             "gram (the Gram loss at every scale: the rule above 512 px before the w2 loss)")
    args = parser.parse_args(argv)
    names = ("default", args.against)
    import keras

    content, style = args.pair
    vgg16 = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    work = {name: planned_work(name, content, args.size, vgg16) for name in names}
    del vgg16
    runs: dict[str, list] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as folder:
        for r in range(args.repeats):
            for name in names:
                row = run_cli(content, style, args.size, SETTINGS[name][0], Path(folder) / f"{name}_{r}.png")
                runs[name].append(row)
                print(f"{name}: {row['seconds']} s, {row['cpu_s']} s CPU "
                      f"(load average {row['load_average_before']} → "
                      f"{row['load_average_after']})", flush=True)
    best = {name: min(r["seconds"] for r in rows) for name, rows in runs.items()}
    cpu = {name: min(r["cpu_s"] for r in rows) for name, rows in runs.items()}
    result = {
        "machine": machine(), "size": args.size, "model": MODEL, "content": content.name, "style": style.name,
        "runs": runs, "work": work, "best_seconds": best,
        f"ratio_default_to_{args.against}": round(best["default"] / best[args.against], 3),
        "best_cpu_s": cpu, f"cpu_ratio_default_to_{args.against}": round(cpu["default"] / cpu[args.against], 3),
    }
    print(f"default {best['default']} s, {args.against} {best[args.against]} s: ratio "
          f"{result[f'ratio_default_to_{args.against}']}; GFLOPs planned {work['default']['gflops']:.0f} vs "
          f"{work[args.against]['gflops']:.0f}")
    args.out.mkdir(parents=True, exist_ok=True)
    against = "" if args.against == "relative" else f"-vs-{args.against}"
    path = args.out / f"quality-{datetime.date.today().isoformat()}-{args.size}px{against}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
