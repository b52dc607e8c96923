"""`painterly gallery CONTENT_DIR STYLE_DIR -o sheet.png`: every content × style pair on one sheet.

The network (the optimisation's VGG, or the fast method's) is loaded once and reused for every pair.
Ctrl-C keeps the pairs already done.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from . import methods
from .errors import InputImageError, PainterlyError, SettingsError

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
TILE = 192  # longest side of a cell on the sheet


def build_parser() -> argparse.ArgumentParser:
    from .flags import Parser, add_settings_flags
    from .settings import PRESETS

    parser = Parser(prog="painterly gallery",
                     description="Stylize every content image with every style image into one labelled sheet.")
    parser.add_argument("content_dir", metavar="CONTENT_DIR", help="folder of content photos")
    parser.add_argument("style_dir", metavar="STYLE_DIR", help="folder of style images, or shelf (every painting "
                        "on the shelf: painterly styles), or one painting's file or name")
    parser.add_argument("-o", "--output", required=True, metavar="SHEET", help="the sheet image to write")
    parser.add_argument("--preset", default="default", help=f"named settings: {', '.join(PRESETS)}")
    parser.add_argument("--cell", type=int, default=TILE, metavar="PX", help=f"cell size on the sheet ({TILE})")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing sheet")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_settings_flags(parser)
    return parser


def image_files(folder: str, role: str) -> list[Path]:
    """The images of `folder`; for the styles also `shelf` (every painting on the shelf), or one image file
    or painting name."""
    path = Path(folder)
    if role == "style" and not path.is_dir():
        from .shelf import paintings, resolve

        return [p.path for p in paintings()] if folder == "shelf" else [resolve(folder)]
    if not path.is_dir():
        raise InputImageError(f"{role} folder '{folder}' does not exist: check the path")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise InputImageError(f"{role} folder '{folder}' has no images ({', '.join(sorted(EXTENSIONS))})")
    return files


def main(argv: Sequence[str]) -> int:
    from . import images
    from .flags import settings_from
    from .interrupts import EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, Terminated, exit_code
    from .reports import gallery_sheet

    args = build_parser().parse_args(list(argv))
    settings = settings_from(args)
    if not 32 <= args.cell <= 1024:
        raise SettingsError(f"cell {args.cell} is out of range: choose 32 to 1024 pixels")
    contents, styles = image_files(args.content_dir, "content"), image_files(args.style_dir, "style")
    output = images.check_output(args.output, overwrite=args.overwrite, inputs=[*contents, *styles])
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))

    from .networks import Networks

    # "auto" decided once, and the network built once, for every pair
    method = methods.get(settings.method)
    settings = method.resolve(settings, lambda m: say(f"painterly: {m}"))
    method.load_libraries()
    network = Networks().get(settings)
    from .runner import Job, run_job

    cells: dict[tuple[int, int], np.ndarray] = {}
    failed: list[str] = []
    started, code = time.perf_counter(), EXIT_OK
    try:
        for i, content in enumerate(contents):
            for j, style in enumerate(styles):
                pair = time.perf_counter()
                try:
                    outcome = run_job(Job(content, (style,), settings), network=network)
                except PainterlyError as error:  # a bad picture fails its own pairs, as in a batch
                    failed.append(f"{content.name} × {style.name}")
                    print(f"painterly: failed: {content.name} × {style.name}: {error}", file=sys.stderr, flush=True)
                    continue
                if outcome.code in (EXIT_INTERRUPTED, EXIT_TERMINATED):  # Ctrl-C or SIGTERM inside the run
                    raise Terminated() if outcome.code == EXIT_TERMINATED else KeyboardInterrupt()
                if outcome.failure is not None:  # e.g. an image no step moved: its cell shows what there is
                    say(f"painterly: {content.name} × {style.name}: {outcome.failure}")
                cells[i, j] = outcome.result.image
                say(f"painterly: {len(cells)}/{len(contents) * len(styles)} {content.name} × {style.name} "
                    f"in {time.perf_counter() - pair:.1f} s")
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: the pairs done so far are kept
        code = exit_code(stop)
    pairs = len(contents) * len(styles)
    title = None if code == EXIT_OK else f"interrupted: {len(cells)} of {pairs} pairs done"
    sheet = gallery_sheet(cells, _thumbs(contents), _thumbs(styles), tile=args.cell, title=title)
    images.save_image(output, sheet)
    how = (f"{settings.iterations} iterations, {getattr(network, 'name', settings.model)}" if method.iterative
           else method.title)
    say(f"painterly: wrote {output}: {len(cells)} of {pairs} pairs" + (" (interrupted)" if title else "")
        + f" in {time.perf_counter() - started:.0f} s ({settings.size} px, {how})"
        + (f"; {len(failed)} failed" if failed else ""))
    return code if code != EXIT_OK or not failed else 2


def _thumbs(files: list[Path]) -> list[tuple[str, np.ndarray]]:
    """(name, picture) of each file for the sheet's labels; one that cannot be read shows grey."""
    from . import images

    shown = []
    for path in files:
        try:
            shown.append((path.stem, images.load_image(path).rgb))
        except PainterlyError:
            shown.append((f"{path.stem} (unreadable)", np.full((8, 8, 3), 128, np.uint8)))
    return shown
