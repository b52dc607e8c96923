"""`painterly styles`: the shelf of paintings, and one photo painted in every one of them on a sheet.

    painterly styles                            # name, title, artist and year of each painting
    painterly styles photo.jpg -o sheet.png     # the photo in every painting (the fast method: seconds)

The sheet is `reports.gallery_sheet` with one row: the paintings along the top, the photo and its
paintings under them. Every settings flag applies; --method fast and --size 384 are the defaults here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from .errors import SettingsError
from .shelf import SHELF_ENV

SIZE = 384  # the default --size of a sheet's pictures (a cell shows them at 192 px)


def build_parser() -> argparse.ArgumentParser:
    from .flags import Parser, add_settings_flags
    from .gallery import TILE
    from .settings import PRESETS

    parser = Parser(prog="painterly styles",
                    description="List the shelf of paintings a STYLE argument can name; with a PHOTO, paint it in "
                                f"every one of them (--method fast and --size {SIZE} unless given) and lay the "
                                "pictures out on one labelled sheet.",
                    epilog=f"Your own paintings: {SHELF_ENV}=DIR (several folders separated by ':') adds every "
                           "image in DIR to the shelf, named by its file name without the extension.",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photo", nargs="?", metavar="PHOTO", help="the photo to paint in every painting")
    parser.add_argument("-o", "--output", metavar="SHEET", help="the sheet to write (default: PHOTO_styles.png "
                        "in the current folder, with _2, _3, ... rather than replacing a file)")
    parser.add_argument("--cell", type=int, default=TILE, metavar="PX", help=f"cell size on the sheet ({TILE})")
    parser.add_argument("--preset", default="default", help=f"named settings: {', '.join(PRESETS)}")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing sheet")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_settings_flags(parser)
    return parser


def table(paintings) -> str:
    """The shelf as aligned columns: name, title, artist, year."""
    rows = [("name", "title", "artist", "year")] + [(p.name, p.title, p.artist, p.year) for p in paintings]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3]
                     for row in rows).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    from .shelf import paintings

    args = build_parser().parse_args(argv)
    shelf = paintings()
    if args.photo is None:
        if args.output is not None:
            raise SettingsError("-o writes a sheet of a PHOTO in every painting: give the PHOTO "
                                "(painterly styles PHOTO -o sheet.png)")
        sys.stdout.write(table(shelf))
        return 0
    return _sheet(args, shelf)


def _sheet(args: argparse.Namespace, shelf) -> int:
    from . import images
    from .cli import default_output
    from .flags import ignored_flags, settings_from
    from .interrupts import EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, Terminated, exit_code
    from .reports import gallery_sheet
    from .runner import Job, run_job

    args.method = getattr(args, "method", "fast")  # seconds for the whole shelf, unless --method says otherwise
    args.size = getattr(args, "size", SIZE)
    settings = settings_from(args)
    if not 32 <= args.cell <= 1024:
        raise SettingsError(f"cell {args.cell} is out of range: choose 32 to 1024 pixels")
    photo = Path(args.photo)
    picture = images.load_image(photo, role="photo")  # refused here, before any painting
    output = Path(args.output) if args.output else default_output(photo, [Path("styles")])
    output = images.check_output(output, overwrite=args.overwrite, inputs=[photo, *(p.path for p in shelf)])
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    for name in ignored_flags(args, settings):
        say(f"painterly: {name} applies to --method optimise only: ignored with --method {settings.method}")
    cells, started, code = {}, time.perf_counter(), EXIT_OK
    try:
        for j, painting in enumerate(shelf):
            outcome = run_job(Job(photo, (painting.path,), settings))
            if outcome.code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                raise Terminated() if outcome.code == EXIT_TERMINATED else KeyboardInterrupt()
            cells[0, j] = outcome.result.image
            say(f"painterly: {j + 1}/{len(shelf)} {painting.name}")
    except KeyboardInterrupt as stop:  # the paintings done so far still make a sheet
        code = exit_code(stop)
    captions = [(f"{p.name}\n{p.artist}, {p.year}" if p.artist else p.name, images.load_image(p.path).rgb)
                for p in shelf]
    title = None if code == EXIT_OK else f"interrupted: {len(cells)} of {len(shelf)} paintings done"
    sheet = gallery_sheet(cells, [(photo.stem, picture.rgb)], captions, tile=args.cell, title=title)
    images.save_image(output, sheet)
    say(f"painterly: wrote {output}: {photo.name} in {len(cells)} paintings in {time.perf_counter() - started:.1f} s"
        + (f" ({title})" if title else ""))
    return code
