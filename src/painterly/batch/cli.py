"""`painterly batch`: the command line — its flags and its output; the bar over the items is `progress.ITEMS`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Sequence

from ..errors import SettingsError
from ..progress import ITEMS, Progress
from ..settings import Settings
from .items import FORMATS, pairs, read_manifest, row_settings
from .records import RECORD
from .run import run_batch


def build_parser() -> argparse.ArgumentParser:
    from ..flags import Parser, add_settings_flags
    from ..settings import PRESETS

    parser = Parser(prog="painterly batch", formatter_class=argparse.RawDescriptionHelpFormatter,
                    description="Paint many pictures: every CONTENT with every --styles image, or the rows of "
                                "a --manifest, into one output folder, on Ray or in this process.",
                    epilog="Examples:\n"
                           "  painterly batch photos/ --styles starry.jpg 'styles/*.jpg' -o painted/ --method fast\n"
                           "  painterly batch --manifest jobs.csv -o painted/ --ray 10.0.0.5:6379\n\n"
                           "A manifest (CSV with a header, or JSONL) has a row per picture: content, style (several "
                           "separated by ';'), optionally output (a file name) and preset, and any setting by "
                           "name (size, style_weight, method, ...). Running the same command again skips what "
                           "is done and retries what failed; OUT_DIR/batch.jsonl records each item.")
    parser.add_argument("contents", nargs="*", metavar="CONTENT", help="content photos: files, folders or globs")
    parser.add_argument("--styles", nargs="+", default=[], metavar="STYLE", help="style images: files, folders, globs")
    parser.add_argument("--manifest", metavar="FILE", help="a CSV or JSONL file of items instead of CONTENT × STYLE")
    parser.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="folder for the pictures")
    parser.add_argument("--format", default="png", choices=FORMATS, help="the pictures' file format (png)")
    parser.add_argument("--ray", default="off", metavar="off|local|ADDRESS",
                        help="off (the default): one by one here; local: Ray on this machine (worth it for many "
                             "optimised pictures on many cores: it takes seconds to start); ADDRESS: join that "
                             "cluster (`ray start --head` prints it)")
    parser.add_argument("--ray-timeout", type=float, metavar="S", help="seconds a cluster's ADDRESS has to answer "
                        "before the batch gives up (default: PAINTERLY_RAY_TIMEOUT, else 30)")
    parser.add_argument("--workers", type=int, metavar="N", help="Ray actors (default: the CPUs over --threads)")
    parser.add_argument("--threads", type=int, metavar="N", help="threads per actor (default 1)")
    parser.add_argument("--preset", default="default", help=f"named settings: {', '.join(PRESETS)}")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace pictures in OUT_DIR that this batch did not paint from these inputs")
    parser.add_argument("--report", metavar="DIR", help="each item's report (as painterly's --report for one "
                        "picture) in a folder of its own: DIR/<picture name>/index.html")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_settings_flags(parser)
    return parser


def main(argv: Sequence[str]) -> int:
    from ..flags import ignored_flags, settings_from

    args = build_parser().parse_args(list(argv))
    settings = settings_from(args)
    for value, flag in ((args.workers, "--workers"), (args.threads, "--threads")):
        if value is not None and value < 1:
            raise SettingsError(f"{flag} {value} must be at least 1")
    if args.manifest:
        if args.contents or args.styles:
            raise SettingsError("give either --manifest or CONTENT and --styles, not both")
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if hasattr(args, f.name)}
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
        items = read_manifest(args.manifest, row_settings(preset_name=args.preset, given=given), format=args.format)
    else:
        if not args.contents or not args.styles:
            raise SettingsError("give CONTENT photos and --styles images (files, folders or globs), or --manifest")
        items = pairs(args.contents, args.styles, settings, format=args.format)
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    for name in ignored_flags(args, settings):
        say(f"painterly: {name} applies to --method optimise only: ignored with --method {settings.method}")
    where = args.ray
    if where != "off":
        from ..cluster import check_address, require_ray

        require_ray(where)  # before anything imports Ray: a loopback address must stay loopback
        check_address(where, args.ray_timeout)  # Ray itself would retry an address where nothing answers
        say("painterly: starting Ray on this machine (--ray local)" if where == "local" else
            f"painterly: joining the Ray cluster at {where}")
    progress = Progress(ITEMS, enabled=not args.quiet and sys.stderr.isatty(), say=say, total=len(items))
    with progress:
        summary = run_batch(items, args.output, ray=where, workers=args.workers, threads=args.threads,
                            overwrite=args.overwrite, report=args.report, listen=progress.update,
                            notice=lambda m: progress.say(f"painterly: {m}"), ray_timeout=args.ray_timeout)
    for name, reason in summary.failed.items():
        print(f"painterly: failed: {name}: {reason}", file=sys.stderr)
    if summary.error is not None:
        print(f"painterly: error: {summary.error}", file=sys.stderr)
        return summary.code
    rate = len(summary.done) / summary.seconds * 3600 if summary.seconds and summary.done else 0
    say(f"painterly: batch {'stopped' if summary.code else 'finished'} in {summary.seconds:.1f} s: "
        f"{len(summary.done)} painted, {len(summary.skipped)} skipped (done before), {len(summary.failed)} failed"
        + (f"; {rate:.0f} pictures an hour" if rate else "") + f"; record in {Path(args.output) / RECORD}")
    if summary.code:
        return summary.code
    return 2 if summary.failed else 0
