"""painterly batch measured: pictures an hour with --ray off, one actor and two actors, and what Ray adds.

    python bench/batch.py                      # every case below, about 10 minutes on two cores
    python bench/batch.py --cases fast-tiny    # one case

Each configuration runs in a fresh process (`--child`), as a user's command would: `run_batch` on the
same items into an empty folder, timed from the start of the process's batch to its end, so the
start-up (connecting to Ray or starting it, the actors, each worker's network) is inside the numbers.
From the batch's record (`batch.jsonl`) it takes each item's painting time on its worker; the time
Ray adds per item is the rest of the wall time after start-up, shared over the items and workers:
(wall − start-up) × workers / items − the mean painting time.

Writes bench/results/batch-DATE.json and prints the markdown table docs/PERFORMANCE.md quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "images"
CONFIGS = {"off": ("off", None, None), "1 actor × 2 threads": ("local", 1, 2), "2 actors × 1 thread": ("local", 2, 1)}
CASES = {  # name -> (settings, items)
    "optimise-128": ({"method": "optimise", "model": "vgg16-hed", "size": 128, "iterations": 30}, 8),
    "fast-512": ({"method": "fast", "size": 512}, 24),
    "fast-tiny": ({"method": "fast", "size": 32}, 48),  # almost no work: what is left is overhead
}


def child(spec: dict) -> dict:
    """One batch in this process: the summary and the record's per-item numbers."""
    from painterly.batch import pairs, read_record, run_batch
    from painterly.settings import Settings

    contents = sorted((IMAGES / "content").glob("*.jpg"))
    styles = sorted((IMAGES / "style").glob("*.jpg"))
    items = pairs(contents, styles, Settings(**spec["settings"]))[: spec["items"]]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        summary = run_batch(items, folder, ray=spec["ray"], workers=spec["workers"], threads=spec["threads"])
        wall = time.perf_counter() - started
        record = list(read_record(Path(folder)).values())
    painting = [entry["seconds"] for entry in record if entry["state"] == "done"]
    workers = summary.workers if spec["ray"] != "off" else 1
    startup = summary.startup_s
    mean = sum(painting) / len(painting)
    return {
        "items": len(items), "done": len(summary.done), "failed": summary.failed, "wall_s": wall,
        "startup_s": startup, "workers": workers, "mean_item_s": mean, "first_item_s": max(painting),
        "pictures_per_hour": len(summary.done) / wall * 3600,
        "steady_pictures_per_hour": len(summary.done) / (wall - startup) * 3600,
        "overhead_per_item_s": (wall - startup) * workers / len(items) - mean,
        "worker_peak_rss_mb": max(entry.get("peak_rss_bytes", 0) for entry in record) / 1e6,
        "estimated_mb": max(entry.get("estimated_bytes", 0) for entry in record) / 1e6,
        "nodes_pids": sorted({f"{str(e.get('node'))[:8]}/{e.get('pid')}" for e in record}),
    }


def table(results: dict) -> str:
    lines = ["| case | run | pictures an hour | without start-up | start-up s | mean picture s (worker) | "
             "added per item s |", "|---|---|---:|---:|---:|---:|---:|"]
    for case, runs in results.items():
        for name, r in runs.items():
            lines.append(f"| {case} ({r['items']} items) | {name} | {r['pictures_per_hour']:.0f} | "
                         f"{r['steady_pictures_per_hour']:.0f} | {r['startup_s']:.1f} | {r['mean_item_s']:.2f} | "
                         f"{r['overhead_per_item_s']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    results: dict = {}
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    for case in args.cases:
        settings, items = CASES[case]
        for name in args.configs:
            ray, workers, threads = CONFIGS[name]
            spec = {"settings": settings, "items": items, "ray": ray, "workers": workers, "threads": threads}
            done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env, text=True,
                                  capture_output=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            results.setdefault(case, {})[name] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{case} {name}: {results[case][name]}", file=sys.stderr, flush=True)
    out = ROOT / "bench" / "results" / f"batch-{time.strftime('%Y-%m-%d')}.json"
    out.write_text(json.dumps({"cpus": os.cpu_count(), "cases": {c: CASES[c][0] for c in results},
                               "results": results}, indent=1) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
