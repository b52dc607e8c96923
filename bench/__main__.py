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
from .reference import vgg16_hed_dict_model

RESULTS = Path(__file__).resolve().parent / "results"
DOC = suite.ROOT / "docs" / "PERFORMANCE.md"


SECTIONS = {  # in the order they run
    "per_iteration": "per iteration: painterly vs the reference loop",
    "time_to_quality": "time to quality",
    "end_to_end": "end to end (the CLI, a fresh process)",
    "memory": "peak memory (a fresh process per size)",
    "precision": "precision",
    "fast": "the fast method (the CLI, a fresh process)",
    "starts": "the optimisation from the photo and from the fast picture",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds: tiny sizes, two iterations")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), metavar="SECTION",
                        help=f"measure only these ({', '.join(SECTIONS)}), keeping the others from today's JSON")
    parser.add_argument("--memory-sizes", type=int, nargs="+", metavar="PX", help="sides for the memory section")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON (default bench/results)")
    parser.add_argument("--doc", type=Path, default=DOC, help="markdown file whose tables are rewritten")
    args = parser.parse_args(argv)
    if not (suite.CONTENT.is_file() and suite.STYLE.is_file()):
        print(f"the benchmark pictures are not here: {suite.CONTENT}, {suite.STYLE}", file=sys.stderr)
        return 2

    from painterly import backbones

    plan = suite.Plan.quick() if args.quick else suite.Plan()
    if args.memory_sizes:
        plan = dataclasses.replace(plan, memory_sizes=tuple(args.memory_sizes))
    info = suite.machine()
    print(f"painterly benchmarks on {report.describe(info)}", flush=True)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{now[:10]}-{suite.machine_slug(info)}.json"
    results = json.loads(path.read_text()) if args.only and path.is_file() else {}
    results.update({"date": now, "machine": info, "quick": args.quick, "plan": dataclasses.asdict(plan)})
    backbone = backbones.build(suite.MODEL, suite.LAYERS)
    reference_model = vgg16_hed_dict_model()
    picture = None if args.quick else args.doc.parent / "precision_float32_bfloat16.png"
    measures = {
        "per_iteration": lambda: suite.per_iteration(plan, backbone, reference_model),
        "time_to_quality": lambda: suite.time_to_quality(plan, backbone, reference_model),
        "end_to_end": lambda: suite.end_to_end(plan),
        "memory": lambda: suite.memory(plan),
        "precision": lambda: suite.precision(plan, picture),
        "fast": lambda: suite.fast(plan),
        "starts": lambda: suite.starts(plan, backbone),
    }
    for key, title in SECTIONS.items():
        if args.only and key not in args.only:
            continue
        print(f"{title}:", flush=True)
        started = time.perf_counter()
        results[key] = measures[key]()
        results.setdefault("seconds", {})[key] = time.perf_counter() - started
        results.setdefault("load_average", {})[key] = os.getloadavg()  # others' load on the machine meanwhile
        results["targets"] = report.targets(results)
        path.write_text(json.dumps(results, indent=1) + "\n")  # what is done so far is kept, in both files
        report.write_doc(args.doc, report.markdown(results, path, picture))
    print(report.targets_table(results["targets"]))
    print(f"wrote {path} and {args.doc} in {sum(results['seconds'].values()) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
