"""The `painterly` command: a thin layer over `painterly.methods`.

    painterly CONTENT STYLE [STYLE ...] [-o OUT.png] [options]   # STYLE: an image file or a shelf name
    painterly --demo -o painted.png
    painterly styles [PHOTO]                                       # the shelf; a photo in every painting

`main(argv) -> int` turns every `PainterlyError` into one line on stderr and exit code 2, Ctrl-C into
exit code 130 after saving the best image so far. Flags for the run's settings are generated from
`Settings`, so the CLI cannot drift from the library. Without -o the output is named after the content
and the style (`photo_great_wave.png`, then `photo_great_wave_2.png`, ...): an existing file is never replaced.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from . import methods
from .version import __version__
from .errors import PainterlyError, SettingsError
from .flags import Parser, add_settings_flags, ignored_flags, settings_from
from .images import demo_pair
from .interrupts import (EXIT_ERROR, exit_code,
                         terminate_as_interrupt)
from .settings import PRESETS, Settings
from .shelf import SHELF_ENV

COMMANDS = ("gallery", "video", "batch", "serve", "styles")  # `painterly COMMAND ...`, each in its own module
FAST_HINT_AFTER_S = 60  # an optimisation estimated longer than this gets a line about --method fast

def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="painterly",
        description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.).",
        epilog="Example: painterly photo.jpg great_wave -o painted.png --size 512 --report report/\n"
               "STYLE is an image file or the name of a painting on the shelf (painterly styles lists them;\n"
               f"{SHELF_ENV}=DIR adds a folder of your own paintings, named by their file names).\n\n"
               "Other commands (each has its own --help):\n"
               "  painterly styles [PHOTO]                               the shelf; PHOTO in each painting\n"
               "  painterly gallery CONTENT_DIR STYLE_DIR -o sheet.png   every content × style pair on one sheet\n"
               "  painterly video IN STYLE -o OUT.mp4                    a video, without flicker\n"
               "  painterly batch CONTENT... --styles STYLE... -o DIR    many pictures, on Ray or here\n"
               "  painterly serve [--port N]                             the web app",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="CONTENT STYLE",
                        help="the content photo, then one or more style images: files, or names of paintings on "
                             "the shelf (great_wave, starry_night, ...: painterly styles)")
    parser.add_argument("-o", "--output", metavar="OUT", help="output image, format by extension (default: "
                        "CONTENT_STYLE.png in the current folder, with _2, _3, ... rather than replacing a file)")
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
    from .shelf import resolve

    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    if args.demo:
        if args.inputs:
            raise SettingsError("--demo uses the bundled pair: drop the CONTENT and STYLE arguments")
        content, style = demo_pair()
        styles = [style]
    elif len(args.inputs) < 2:
        raise SettingsError("give a CONTENT image and at least one STYLE image: a file or a painting's name "
                            "(painterly styles lists them), or --demo")
    else:
        many = len(args.inputs) > 2
        content = Path(args.inputs[0])
        styles = [resolve(p, role=f"style image {i + 1}" if many else "style image", strict=False)
                  for i, p in enumerate(args.inputs[1:])]  # a missing file is refused when it is loaded
    if args.output is None:
        args.output = str(default_output(content, styles))
    return args, settings, content, styles


def default_output(content: Path, styles: Sequence[Path], folder: Path | None = None, suffix: str = ".png") -> Path:
    """CONTENT_STYLE.png (styles joined by _) in `folder` (default: the current one); with _2, _3, ... when
    a file of that name exists, so a default name never replaces anything."""
    folder = Path.cwd() if folder is None else folder
    stem = "_".join([Path(content).stem, *(Path(s).stem for s in styles)])
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}{suffix}"
    return path


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
            command = _command(argv[0])
            if command is not None:
                import importlib

                return importlib.import_module(command, __package__).main(argv[1:])
            return _run(argv)
    except PainterlyError as error:
        print(f"painterly: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:
        print("painterly: stopped before the first step: nothing saved", file=sys.stderr)
        return exit_code(stop)


def _command(word: str) -> str | None:
    """The module of the subcommand `word` names; None for a path (the still CLI's CONTENT). A word that is
    neither a file nor a command but close to one (`vidoe`) is refused with the command it resembles."""
    modules = {"gallery": ".gallery", "video": ".video.cli", "batch": ".batch", "serve": ".web.serve",
               "styles": ".styles"}
    if word in modules:
        return modules[word]
    if not word.startswith("-") and not Path(word).suffix and not Path(word).exists():
        close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.6)
        if close:
            raise SettingsError(f"unknown command '{word}': did you mean painterly {close[0]}? "
                                f"(see painterly --help)")
    return None


def _run(argv) -> int:
    from .runner import Job, run_job

    args, settings, content, styles = parse(argv)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    job = Job(content, tuple(styles), settings, output=Path(args.output), overwrite=args.overwrite,
              report=Path(args.report) if args.report else None, preview=Path(args.preview) if args.preview else None,
              preview_every=args.preview_every)
    for name in ignored_flags(args, settings):
        say(f"painterly: {name} applies to --method optimise only: ignored with --method {settings.method}")
    for line in _unused_with_init(args, settings):
        say(line)
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty(), say=say)

    def started(run) -> None:
        say(run.describe())
        progress.planned(run)
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


def _unused_with_init(args: argparse.Namespace, settings: Settings) -> list[str]:
    """One line for each flag given that only the fast start (--init fast) reads, when the run starts elsewhere."""
    if not methods.get(settings.method).iterative or settings.init == "fast":
        return []
    return [f"painterly: {flag} applies to --method fast and --init fast only: ignored with --init {settings.init}"
            + (" (for less of the painting, lower --style-weight)" if name == "style_strength" else "")
            for name, flag in (("style_strength", "--style-strength"), ("init_photo", "--init-photo"))
            if hasattr(args, name)]


def _summary(result) -> str:
    """The end of the final line: what painted it, how long it took and, for an optimisation, the loss."""
    return methods.get(result.metadata["method"]).summary(result)


def planned_evaluations(run, scale: int = 0, done: int = 0) -> float:
    """The evaluations the optimisation has left after `done` steps of `scale`, each priced in evaluations of
    the first scale's size (one per step: L-BFGS took 20 evaluations for 20 steps at 128 px and 3 for 3 at
    512 px; and one to measure each scale's starting image)."""
    first = run.scales[0][0] * run.scales[0][1]
    return sum((run.settings.scale_iterations(i) - (done if i == scale else 0) + (i > scale)) * (w * h / first)
               for i, (w, h) in enumerate(run.scales) if i >= scale)


def clock(seconds: float) -> str:
    """h:mm:ss, or m:ss under an hour."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def speed(seconds_per_step: float) -> str:
    """`33 s/it` for slow steps, `2.5 it/s` for fast ones."""
    if seconds_per_step >= 1:
        return f"{seconds_per_step:.0f} s/it" if seconds_per_step >= 10 else f"{seconds_per_step:.1f} s/it"
    return f"{1 / seconds_per_step:.1f} it/s"


def estimate_lines(run, record, previous=None) -> list[str]:
    """What to say of the optimisation's time at `record` (`previous`: the record before it).

    At the starting image's record, before the first step: at most the planned evaluations times the one just
    measured, which includes building the network's graph (at 512 px 24 s against 8 s for a later step), and
    when that is over a minute, the fast method. At the second step, the first one free of that: the time in
    all, measured."""
    if not run.planned_steps or record.scale != 0:
        return []
    if record.step == 0:
        measured = record.elapsed - getattr(run, "timings", {}).get("fast_start_s", 0.0)
        seconds = planned_evaluations(run) * measured / max(1, record.evaluations)
        lines = [f"painterly: at most {clock(seconds)} for {run.planned_steps} steps (from the first evaluation, "
                 f"{measured:.1f} s, which includes building the network's graph; later ones are quicker)"]
        if seconds > FAST_HINT_AFTER_S:
            lines.append("painterly: --method fast paints a similar picture in about a second")
        return lines
    if record.step == 2 and previous is not None and record.evaluations > previous.evaluations:
        per_evaluation = (record.elapsed - previous.elapsed) / (record.evaluations - previous.evaluations)
        seconds = record.elapsed + planned_evaluations(run, done=2) * per_evaluation
        return [f"painterly: about {clock(seconds)} in all ({per_evaluation:.1f} s an evaluation, measured)"]
    return []


class _Progress:
    """A rich progress bar per scale: step, loss, speed (`it/s`, or `s/it` for slow steps) and the time left
    in the scale; the lines of `estimate_lines` above it (said through `say` when the bar is disabled)."""

    def __init__(self, enabled: bool, say=lambda message: None):
        self.enabled, self.say = enabled, say
        self.bar = self.task = None
        self.scale = None
        self.run = self.previous = None
        self.started = time.perf_counter()

    def planned(self, run) -> None:
        """The run about to start (for the estimate at its first record)."""
        self.run = run

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[left]}"), TextColumn("{task.fields[tiles]}"), transient=False,
            )
            self.bar.__enter__()
        return self

    def update(self, record) -> None:
        if self.run is not None:
            for line in estimate_lines(self.run, record, self.previous):
                self._say(line)
        self.previous = record
        if self.bar is None:
            return
        if record.scale != self.scale:
            self._start(record)
        seconds = time.perf_counter() - self.started
        rate = left = ""
        if record.step and seconds > 0:
            per_step = seconds / record.step
            rate, left = speed(per_step), f"{clock(per_step * (record.steps - record.step))} left"
        self.bar.update(self.task, total=record.steps, completed=record.step, loss=f"{record.loss:.4g}", rate=rate,
                        left=left)

    def _say(self, line: str) -> None:
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            self.say(line)

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
        self.task = self.bar.add_task(label, total=getattr(record, "steps", None), loss="", rate="", left="",
                                      tiles="")
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
            self.bar = None
        return False


if __name__ == "__main__":
    sys.exit(main())
