"""python -m bench [--quick] [--out DIR] [--doc FILE]: measure painterly, write the JSON and the tables.

The full run takes about 25 minutes on two cores; --quick (tiny sizes, two iterations) takes seconds
and checks that the suite still runs. Results go to bench/results/<date>-<machine>.json and between
the markers in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import dataclasses
import datetime
import json
import sys
import time
from pathlib import Path

from . import report, suite

RESULTS = Path(__file__).resolve().parent / "results"
DOC = suite.ROOT / "docs" / "PERFORMANCE.md"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds: tiny sizes, two iterations")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON (default bench/results)")
    parser.add_argument("--doc", type=Path, default=DOC, help="markdown file whose tables are rewritten")
    args = parser.parse_args(argv)
    if not (suite.CONTENT.is_file() and suite.STYLE.is_file()):
        print(f"the benchmark pictures are not here: {suite.CONTENT}, {suite.STYLE}", file=sys.stderr)
        return 2

    from painterly import backbones

    plan = suite.Plan.quick() if args.quick else suite.Plan()
    started = time.perf_counter()
    info = suite.machine()
    print(f"painterly benchmarks on {report.describe(info)}", flush=True)
    backbone = backbones.build(suite.MODEL, suite.LAYERS)
    reference_model = suite.vgg16_hed_dict_model()
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": info, "quick": args.quick, "plan": dataclasses.asdict(plan)}
    picture = None if args.quick else args.doc.parent / "precision_float32_bfloat16.png"
    sections = [
        ("per_iteration", "per iteration: painterly vs the reference loop",
         lambda: suite.per_iteration(plan, backbone, reference_model)),
        ("time_to_quality", "time to quality", lambda: suite.time_to_quality(plan, backbone, reference_model)),
        ("end_to_end", "end to end (the CLI, a fresh process)", lambda: suite.end_to_end(plan)),
        ("precision", "precision", lambda: suite.precision(plan, picture)),
        ("memory", "peak memory (a fresh process per size)", lambda: suite.memory(plan)),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{results['date'][:10]}-{suite.machine_slug(info)}.json"
    for key, title, measure in sections:
        print(f"{title}:", flush=True)
        results[key] = measure()
        path.write_text(json.dumps(results, indent=1) + "\n")  # what is done so far survives a crash
    results["targets"] = report.targets(results)
    results["total_s"] = time.perf_counter() - started
    path.write_text(json.dumps(results, indent=1) + "\n")
    report.write_doc(args.doc, report.markdown(results, path, picture))
    print(report.targets_table(results["targets"]))
    print(f"wrote {path} and {args.doc} in {results['total_s'] / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
