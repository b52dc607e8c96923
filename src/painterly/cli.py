"""The `painterly` command: a thin layer over `painterly.methods`.

    painterly CONTENT STYLE [STYLE ...] -o OUT.png [options]
    painterly --demo -o painted.png

`main(argv) -> int` turns every `PainterlyError` into one line on stderr and exit code 2, Ctrl-C into
exit code 130 after saving the best image so far. Flags for the run's settings are generated from
`Settings`, so the CLI cannot drift from the library.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from .version import __version__
from .errors import PainterlyError, SettingsError
from .flags import Parser, add_settings_flags, ignored_flags, settings_from
from .images import demo_pair
from .interrupts import (EXIT_ERROR, exit_code,
                         terminate_as_interrupt)
from .settings import PRESETS, Settings

def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="painterly",
        description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.).",
        epilog="Example: painterly photo.jpg starry_night.jpg -o painted.png --size 512 --report report/\n\n"
               "Other commands (each has its own --help):\n"
               "  painterly gallery CONTENT_DIR STYLE_DIR -o sheet.png   every content × style pair on one sheet\n"
               "  painterly video IN STYLE -o OUT.mp4                    a video, without flicker\n"
               "  painterly batch CONTENT... --styles STYLE... -o DIR    many pictures, on Ray or here\n"
               "  painterly serve [--port N]                             the web app",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="CONTENT STYLE",
                        help="the content photo, then one or more style images")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output image (format by extension)")
    parser.add_argument("--demo", action="store_true", help="use the bundled demo photo and painting")
    parser.add_argument("--preset", default="default", help=f"named settings: {', '.join(PRESETS)}")
    parser.add_argument("--report", metavar="DIR", help="write the paper's report (images, tables, graphs, html)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output or report")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("--preview", metavar="FILE", help="rewrite this image every --preview-every iterations")
    parser.add_argument("--preview-every", type=int, default=10, metavar="N", help="see --preview (default 10)")
    parser.add_argument("--version", action="version", version=f"painterly {__version__}")
    add_settings_flags(parser)
    return parser


def parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Settings, Path, list[Path]]:
    """Arguments -> (namespace, settings, content path, style paths); raises PainterlyError."""
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    if args.demo:
        if args.inputs:
            raise SettingsError("--demo uses the bundled pair: drop the CONTENT and STYLE arguments")
        content, style = demo_pair()
        return args, settings, content, [style]
    if len(args.inputs) < 2:
        raise SettingsError("give a CONTENT image and at least one STYLE image (or --demo)")
    return args, settings, Path(args.inputs[0]), [Path(p) for p in args.inputs[1:]]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # TensorFlow's C++ log to the terminal: level 3 also hides its "error" lines that are only notices
    # (e.g. "oneDNN supports DT_HALF only on platforms with AVX-512" under mixed_float16); Python errors show
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not argv:  # a bare `painterly`: what it can do, not an error about a missing -o
        build_parser().print_help(sys.stderr)
        return EXIT_ERROR
    try:
        with terminate_as_interrupt():
            if argv[:1] == ["gallery"]:
                from .gallery import main as gallery

                return gallery(argv[1:])
            if argv[:1] == ["video"]:
                from .video.cli import main as video

                return video(argv[1:])
            if argv[:1] == ["batch"]:
                from .batch import main as batch

                return batch(argv[1:])
            if argv[:1] == ["serve"]:
                from .web.serve import main as serve

                return serve(argv[1:])
            return _run(argv)
    except PainterlyError as error:
        print(f"painterly: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:
        print("painterly: stopped before the first step: nothing saved", file=sys.stderr)
        return exit_code(stop)


def _run(argv) -> int:
    from .runner import Job, run_job

    args, settings, content, styles = parse(argv)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    job = Job(content, tuple(styles), settings, output=Path(args.output), overwrite=args.overwrite,
              report=Path(args.report) if args.report else None, preview=Path(args.preview) if args.preview else None,
              preview_every=args.preview_every)
    for name in ignored_flags(args, settings):
        say(f"painterly: {name} applies to --method optimise only: ignored with --method {settings.method}")
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())

    def started(run) -> None:
        say(run.describe())
        progress.__enter__()

    try:
        outcome = run_job(job, listen=lambda record, run: progress.update(record), on_start=started,
                          notice=lambda m: say(f"painterly: {m}"), on_tile=progress.tile)
    finally:
        progress.__exit__(None, None, None)
    result, written = outcome.result, outcome.written
    if result is None:
        print("painterly: stopped before the first step: nothing saved", file=sys.stderr)
        return outcome.code
    if outcome.report is not None:
        say(f"painterly: report written to {outcome.report}")
    say(f"painterly: {result.stopped}: wrote {written} ({result.image.shape[1]}×{result.image.shape[0]}, "
        + _summary(result))
    if outcome.failure is not None:
        kept = written == outcome.output and result.stopped != "unchanged"
        print(f"painterly: error: {outcome.failure}" + (" (the best image so far was saved)" if kept else ""),
              file=sys.stderr)
    return outcome.code


def _summary(result) -> str:
    """The end of the final line: what painted it, how long it took and, for an optimisation, the loss."""
    if result.metadata["method"] == "fast":
        return f"fast network) in {result.metadata['timings']['paint_s']:.2f} s"
    best = result.best
    first = next(r for r in result.history if r.scale == best.scale)  # losses are comparable within a scale
    return (f"{result.metadata['backbone']['name']}) in {result.metadata['timings']['optimize_s']:.1f} s; "
            f"loss {first.loss:.4g} → {best.loss:.4g}")


class _Progress:
    """A rich progress bar with iteration, loss, it/s, ETA and, for tiled runs, the tile within the
    iteration; silent when disabled."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = self.task = None
        self.scale = None
        self.started = time.perf_counter()

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[rate]} it/s"),
                TimeRemainingColumn(), TextColumn("{task.fields[tiles]}"), transient=False,
            )
            self.bar.__enter__()
        return self

    def update(self, record) -> None:
        if self.bar is None:
            return
        if record.scale != self.scale:
            self._start(record)
        seconds = time.perf_counter() - self.started
        rate = f"{record.step / seconds:.2f}" if record.step and seconds > 0 else "–"
        self.bar.update(self.task, total=record.steps, completed=record.step, loss=f"{record.loss:.4g}", rate=rate)

    def tile(self, record) -> None:
        """A tile of a tiled evaluation finished (called from the optimiser's thread, which rich allows)."""
        if self.bar is None:
            return
        if record.scale != self.scale:  # the first evaluation of a scale comes before its first step
            self._start(record)
        self.bar.update(self.task, tiles=f"tile {record.done}/{record.total}")

    def _start(self, record) -> None:
        """A new bar for the scale of `record` (an Iterate or a TileProgress)."""
        self.scale = record.scale
        width, height = record.size
        label = f"{width}×{height}" + (f" ({record.scale + 1}/{record.scales})" if record.scales > 1 else "")
        self.task = self.bar.add_task(label, total=getattr(record, "steps", None), loss="", rate="", tiles="")
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
            self.bar = None
        return False


if __name__ == "__main__":
    sys.exit(main())
