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
from pathlib import Path
from typing import Sequence

from . import methods
from .version import __version__
from .errors import PainterlyError, SettingsError
from .flags import Parser, add_settings_flags, ignored_flags, settings_from
from .images import demo_pair
from .progress import STEPS, Progress
from .interrupts import (EXIT_ERROR, exit_code,
                         terminate_as_interrupt)
from .settings import PRESETS, Settings
from .shelf import SHELF_ENV

COMMANDS = ("gallery", "video", "batch", "serve", "styles")  # `painterly COMMAND ...`, each in its own module

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
    progress = Progress(STEPS, enabled=not args.quiet and sys.stderr.isatty(), say=say)

    def started(run) -> None:
        say(run.describe())
        progress.open(run)

    try:
        outcome = run_job(job, listen=lambda record, run: progress.update(record), on_start=started,
                          notice=lambda m: say(f"painterly: {m}"), on_tile=progress.update)
    finally:
        progress.close()
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


if __name__ == "__main__":
    sys.exit(main())
