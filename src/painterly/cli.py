"""The `painterly` command: a thin layer over `painterly.engine`.

    painterly CONTENT STYLE [STYLE ...] -o OUT.png [options]
    painterly --demo -o painted.png

`main(argv) -> int` turns every `PainterlyError` into one line on stderr and exit code 2, Ctrl-C into
exit code 130 after saving the best image so far. Flags for the run's settings are generated from
`Settings`, so the CLI cannot drift from the library.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import PainterlyError, SettingsError
from .settings import PRESETS, Settings, preset

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


def demo_pair() -> tuple[Path, Path]:
    """The bundled demo content photo and style painting (sources in painterly/data/SOURCES.md)."""
    from importlib.resources import files

    data = files("painterly") / "data"
    return Path(str(data / "demo_content.jpg")), Path(str(data / "demo_style.jpg"))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit code 2, as for every other bad input
        raise SettingsError(f"{message} (see painterly --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="painterly",
        description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.).",
        epilog="Example: painterly photo.jpg starry_night.jpg -o painted.png --size 512 --report report/",
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


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per `Settings` field, defaulting to "not given" so the preset's values stand."""
    group = parser.add_argument_group("run settings (defaults come from --preset)")
    for f in dataclasses.fields(Settings):
        meta = dict(f.metadata)
        flag, help_text = meta.pop("flag"), meta.pop("help")
        if meta.pop("boolean", False):
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
            continue
        if "type" not in meta and "choices" not in meta:
            meta["type"] = _field_type(f)
        group.add_argument(flag, dest=f.name, default=argparse.SUPPRESS, help=help_text, **meta)


def settings_from(args: argparse.Namespace) -> Settings:
    """The preset named by args.preset with the settings flags that were given on top."""
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if hasattr(args, f.name)}
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return preset(args.preset, **overrides)


def _field_type(f: dataclasses.Field):
    annotation = str(f.type)
    return int if annotation.startswith("int") else float if annotation.startswith("float") else str


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
    try:
        if argv[:1] == ["gallery"]:
            from .gallery import main as gallery

            return gallery(argv[1:])
        if argv[:1] == ["serve"]:
            from .web.serve import main as serve

            return serve(argv[1:])
        return _run(argv)
    except PainterlyError as error:
        print(f"painterly: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("painterly: interrupted before the first step: nothing saved", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(argv) -> int:
    from . import images

    args, settings, content, styles = parse(argv)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    output = images.check_output(args.output, overwrite=args.overwrite, inputs=[content, *styles])
    preview = None
    if args.preview:
        if args.preview_every < 1:
            raise SettingsError(f"--preview-every {args.preview_every} must be at least 1")
        preview = images.check_output(args.preview, overwrite=args.overwrite, inputs=[content, *styles, output])
    report = None
    if args.report:
        from .reports import Report

        report = Report(args.report, save_every=settings.save_every, overwrite=args.overwrite)

    _import_tensorflow_quietly()
    from .engine import Transfer

    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    run = Transfer(content, styles, settings, notice=lambda m: say(f"painterly: {m}"), on_tile=progress.tile)
    say(describe_run(run))
    code = EXIT_OK
    failure = None
    with progress:
        try:
            for record in run:
                progress.update(record)
                if preview is not None and record.step % args.preview_every == 0:
                    images.save_image(preview, record.image, run.alpha)
                if report is not None:
                    report.add(record)
        except KeyboardInterrupt:
            code = EXIT_INTERRUPTED
        except PainterlyError as error:  # e.g. a NaN loss: keep the best image so far, then report
            if run.best is None:
                raise
            failure = error
    if run.best is None:  # interrupted before the first step: nothing to save
        print("painterly: interrupted before the first step: nothing saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    result = run.result()
    images.save_image(output, result.image, result.alpha)
    if report is not None:
        index = report.finish(result, run.inputs())  # as the run used them, not at their original size
        say(f"painterly: report written to {index}")
    best = result.best
    first = next(r for r in result.history if r.scale == best.scale)  # losses are comparable within a scale
    seconds = result.metadata["timings"]["optimize_s"]
    say(f"painterly: {result.stopped}: wrote {output} ({result.image.shape[1]}×{result.image.shape[0]}, "
        f"{result.metadata['backbone']['name']}) in {seconds:.1f} s; loss {first.loss:.4g} → {best.loss:.4g}")
    if failure is not None:
        print(f"painterly: error: {failure} (the best image so far was saved)", file=sys.stderr)
        return failure.exit_code
    return code


def describe_run(run) -> str:
    """One line before the work starts: sizes, scales, backbone, the memory it will need."""
    from .memory import format_bytes

    width, height = run.size
    scales = " → ".join(f"{w}×{h}" for w, h in run.scales)
    return (f"painterly: {scales if len(run.scales) > 1 else f'{width}×{height}'} with {run.backbone.name}; "
            f"estimated peak memory {format_bytes(run.memory['estimated_peak_bytes'])} "
            f"of {format_bytes(run.memory['available_bytes'])} available"
            + (f", in tiles of {run.memory['tile']} px" if run.memory.get("tile") else ""))


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up chatter (oneDNN, CUDA probing) kept off the terminal.

    Those lines are written to file descriptor 2 before TensorFlow reads its log settings, so only
    pointing the descriptor elsewhere for the import silences them; Python errors are unaffected.
    """
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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
        return False


if __name__ == "__main__":
    sys.exit(main())
