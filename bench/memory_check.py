"""Check painterly.memory's estimate against the measured peak memory of real runs.

    python bench/memory_check.py                       # every case below, then rewrite docs/MEMORY.md's table
    python bench/memory_check.py --sizes 256 512 --no-write
    python bench/memory_check.py --measurements /tmp/peaks.json   # keep (and reuse) the measured peaks

Each case runs painterly's engine in a fresh Python process (so peaks do not mix), only a few
iterations (the peak is reached in the first ones; the picture does not matter), and reads the
child's peak resident memory (VmHWM). The parent computes the estimate with
painterly.memory for the same output and style sizes and prints one markdown table. This is a
validation, not a test: it takes several minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

try:
    from . import fresh
except ImportError:  # run as a script: python bench/memory_check.py
    import fresh

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "images"
CONTENT = IMAGES / "content" / "tubingen.jpg"
STYLE = IMAGES / "style" / "starry_night.jpg"
DOC = ROOT / "docs" / "MEMORY.md"
MODEL = "vgg16-hed"
SIZES = (256, 512, 768, 1024, 1536, 2048)
ADAM_SIZES = (512, 1024)
FULL_HISTORY_SIZES = (512, 1024)  # L-BFGS runs long enough to fill its 20 correction pairs
ITERATIONS = 3
FULL_HISTORY_ITERATIONS = 24
LARGEST_BUDGET = 20e9  # run 2048 px only when the estimate says it fits in this
TABLE_START, TABLE_END = "<!-- memory table: start -->", "<!-- memory table: end -->"


def child(case: dict) -> dict:
    """Run one case in this (fresh) process and return its sizes and peak memory."""
    import dataclasses

    from painterly import Settings, backbones
    from painterly.memory import peak_rss_bytes as peak
    from painterly.engine import Transfer

    fields = {f.name for f in dataclasses.fields(Settings)}
    options = dict(model=case["settings_model"], size=case["size"], iterations=case["iterations"],
                   optimizer=case["optimizer"], seed=0)
    if "multiscale" in fields:
        options["multiscale"] = "off"  # one scale: the finest scale is the peak of a multi-scale run anyway
    if case.get("layers"):
        options["style_layers"] = tuple(case["layers"][:-1]) or ("block1_conv1",)
        options["content_layers"] = (case["layers"][-1],)
    settings = Settings(**options)
    phases = {"imports": peak()}
    backbone = None
    if case["model"].endswith("-random"):  # VGG19's layout without a download: random weights cost the same
        layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
        backbone = backbones.build(case["model"], layers)
    started = time.perf_counter()
    run = Transfer(str(CONTENT), str(STYLE), settings, backbone=backbone)
    phases["built"] = peak()
    for record in run:
        phases.setdefault("first_step", peak())
    return {"size": list(run.size), "peak": peak(), "phases": phases,
            "seconds": round(time.perf_counter() - started, 1),
            "layers": list(dict.fromkeys(settings.content_layers + settings.style_layers))}


def measure(case: dict) -> dict:
    """Run `case` in a fresh interpreter and return what `child` reported (raises fresh.CaseFailed)."""
    return fresh.run(__file__, case)


def cases(sizes, adam_sizes, full_sizes, extra: bool) -> list[dict]:
    base = {"model": MODEL, "settings_model": MODEL, "optimizer": "lbfgs", "iterations": ITERATIONS}
    found = [{**base, "size": s} for s in sizes]
    found += [{**base, "size": s, "optimizer": "adam"} for s in adam_sizes]
    found += [{**base, "size": s, "iterations": FULL_HISTORY_ITERATIONS} for s in full_sizes]
    if extra:  # another layout and a shallower network, to check the model's parts separately
        found.append({**base, "size": 1024, "model": "vgg19-random", "settings_model": "vgg19"})
        found.append({**base, "size": 1024, "layers": ["block1_conv1", "block2_conv1", "block3_conv1"]})
    return found


def estimate(case: dict, measured: dict) -> int:
    from painterly import images, memory
    from PIL import Image

    width, height = measured["size"]
    with Image.open(STYLE) as style:
        style_size = images.style_shape(style.size, max(width, height))  # as the run sized it
    return memory.estimate_peak_bytes(width, height, model=case["model"], layers=measured["layers"],
                                      optimizer=case["optimizer"], style_sizes=[style_size],
                                      iterations=case["iterations"])


def fits_in_budget(case: dict) -> bool:
    from painterly import images, memory, settings
    from PIL import Image

    with Image.open(CONTENT) as content:
        width, height = images.fit_size(content.size, case["size"])
    layers = case.get("layers") or list(dict.fromkeys(settings.CONTENT_LAYERS + settings.STYLE_LAYERS))
    return memory.estimate_peak_bytes(width, height, model=case["model"], layers=layers,
                                      optimizer=case["optimizer"], iterations=case["iterations"]) <= LARGEST_BUDGET


def label(case: dict, layers: list[str]) -> str:
    parts = [case["model"], case["optimizer"], f"{case['iterations']} it"]
    if case.get("layers"):
        parts.append(f"layers to {layers[-1] if layers else '?'}")
    return ", ".join(parts)


def table(rows: list[tuple[dict, dict, int]]) -> str:
    from painterly.memory import format_bytes

    lines = ["| run | size | pixels | estimated | measured | error |", "|---|---|---:|---:|---:|---:|"]
    for case, measured, guess in rows:
        width, height = measured["size"]
        error = 100.0 * (guess - measured["peak"]) / measured["peak"]
        lines.append(f"| {label(case, measured['layers'])} | {width}×{height} | {width * height:,} | "
                     f"{format_bytes(guess)} | {format_bytes(measured['peak'])} | {error:+.1f} % |")
    return "\n".join(lines)


def machine() -> str:
    cores = os.cpu_count()
    try:
        total = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) * 1024
    except (OSError, AttributeError):
        total = 0
    return f"{platform.machine()} Linux, {cores} cores, {total / 1e9:.0f} GB RAM, Python {platform.python_version()}"


def write_doc(text: str) -> None:
    """Put the table between the markers in docs/MEMORY.md (the prose around it is kept)."""
    block = f"{TABLE_START}\n{text}\n{TABLE_END}"
    if DOC.is_file() and TABLE_START in DOC.read_text():
        old = DOC.read_text()
        new = re.sub(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), lambda _: block, old, flags=re.S)
    else:
        new = f"# Memory\n\n{block}\n"
    DOC.write_text(new)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="L-BFGS sizes (longest side)")
    parser.add_argument("--adam-sizes", type=int, nargs="*", default=list(ADAM_SIZES))
    parser.add_argument("--full-history-sizes", type=int, nargs="*", default=list(FULL_HISTORY_SIZES))
    parser.add_argument("--no-extra", action="store_true", help="skip the VGG19 and shallow-layer cases")
    parser.add_argument("--measurements", type=Path, help="JSON file of measured peaks: read, extended, written")
    parser.add_argument("--no-write", action="store_true", help=f"do not rewrite {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    saved = json.loads(args.measurements.read_text()) if args.measurements and args.measurements.is_file() else {}
    rows = []
    for case in cases(args.sizes, args.adam_sizes, args.full_history_sizes, not args.no_extra):
        key = json.dumps(case, sort_keys=True)
        if key not in saved:
            if case["size"] > 1536 and not fits_in_budget(case):
                print(f"skipping {case['size']} px: the estimate is above {LARGEST_BUDGET / 1e9:.0f} GB", flush=True)
                continue
            saved[key] = measure(case)
            if args.measurements:
                args.measurements.write_text(json.dumps(saved, indent=1))
        measured = saved[key]
        rows.append((case, measured, estimate(case, measured)))
        print(table(rows[-1:]).splitlines()[-1], f"({measured['seconds']} s, phases {measured['phases']})",
              flush=True)
    text = (f"{table(rows)}\n\nMeasured on {machine()}, TensorFlow CPU; "
            f"regenerate with `python bench/memory_check.py` (about 15 minutes).")
    print(text)
    if not args.no_write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
