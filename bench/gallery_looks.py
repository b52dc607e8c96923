"""Two gallery sheets of ../shared/images compared pair by pair, with the measures of bench/looks.py.

    python -m bench.gallery_looks OLD.png NEW.png [--names old new] [--new-dirs CONTENT STYLE] [--sheet OUT]

Each sheet is `painterly gallery CONTENT STYLE` (cell 192 px), by default of ../shared/images' two
folders (--new-dirs: the second sheet was made of other folders, e.g. a few of the pairs). The
cells are cut out of both sheets and measured against the photo and the painting: the colour ratio
(below 1: the palette nearer the painting's) and the stroke size in pixels. Prints a markdown table,
one row per pair the second sheet holds, and their medians; --sheet writes each pair's two pictures side
by side (the old on the left), three pairs a row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from painterly import images
from painterly.gallery import TILE, image_files

from .looks import colour_ratio, stroke_size
from .suite import SHARED


def layout(contents: list[Path], styles: list[Path], tile: int = TILE):
    """The `reports.gallery_layout` of a complete gallery of these folders' images."""
    from painterly.reports import gallery_layout

    def fitted(path: Path) -> tuple[int, int]:
        return images.fit_size(images.load_image(path).size, tile)

    left, top = [(p.stem, fitted(p)) for p in contents], [(p.stem, fitted(p)) for p in styles]
    cells = {(i, j): size for i, (_, size) in enumerate(left) for j in range(len(top))}
    return gallery_layout(left, top, cells, tile)


def cell(sheet: np.ndarray, where, i: int, j: int, size: tuple[int, int], tile: int = TILE) -> np.ndarray:
    """The picture of content i × style j, as `reports.gallery_sheet` placed it (`where`: the sheet's layout)."""
    width, height = images.fit_size(size, tile)
    x, y = where.origin(j + 1, i + 1, (width, height))
    return sheet[y:y + height, x:x + width].astype(np.float32)


def side_by_side(pairs: list[np.ndarray], per_row: int = 3, gap: int = 10):
    from PIL import Image

    rows = []
    for r in range(0, len(pairs), per_row):
        group = pairs[r:r + per_row]
        height = max(p.shape[0] for p in group)
        rows.append(np.concatenate([np.pad(p, ((0, height - p.shape[0]), (0, gap), (0, 0)), constant_values=255)
                                    for p in group], axis=1))
    width = max(row.shape[1] for row in rows)
    rows = [np.pad(row, ((0, gap), (0, width - row.shape[1]), (0, 0)), constant_values=255) for row in rows]
    return Image.fromarray(np.concatenate(rows).astype(np.uint8))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gallery_looks", description=__doc__.split("\n")[0])
    parser.add_argument("sheets", nargs=2, type=Path)
    parser.add_argument("--names", nargs=2, default=("old", "new"))
    parser.add_argument("--new-dirs", nargs=2, type=Path, metavar=("CONTENT", "STYLE"),
                        help="the folders the second sheet was made of (default: ../shared/images')")
    parser.add_argument("--sheet", type=Path, help="the pairs side by side, old on the left")
    args = parser.parse_args(argv)
    contents, styles = image_files(SHARED / "content", "content"), image_files(SHARED / "style", "style")
    new_contents, new_styles = (contents, styles) if args.new_dirs is None else (
        image_files(args.new_dirs[0], "content"), image_files(args.new_dirs[1], "style"))
    sheets = [np.asarray(images.load_image(path).rgb) for path in args.sheets]
    layouts = [layout(contents, styles), layout(new_contents, new_styles)]
    a, b = args.names
    print(f"| pair | colour ratio {a} | {b} | stroke px {a} | {b} |")
    print("|---|---|---|---|---|")
    measures, sides = [], []
    where = {(c.stem, s.stem): (i, j) for i, c in enumerate(contents) for j, s in enumerate(styles)}
    for k, content in enumerate(new_contents):
        photo = images.load_image(content).rgb
        for m, style in enumerate(new_styles):
            i, j = where[content.stem, style.stem]
            painting = images.load_image(style).rgb
            size = (photo.shape[1], photo.shape[0])
            shown = images.resize(photo, images.fit_size(size, TILE))
            pictures = [cell(sheets[0], layouts[0], i, j, size), cell(sheets[1], layouts[1], k, m, size)]
            row = [colour_ratio(p, shown, painting) for p in pictures] + [stroke_size(p) for p in pictures]
            measures.append(row)
            sides.append(np.concatenate([pictures[0], np.full((pictures[0].shape[0], 4, 3), 255.0), pictures[1]], 1))
            print(f"| {content.stem} × {style.stem} | {row[0]:.2f} | {row[1]:.2f} | {row[2]:.1f} | {row[3]:.1f} |")
    if args.sheet:
        side_by_side(sides).save(args.sheet, quality=90)
    median = np.median(np.array(measures), axis=0)
    print(f"| median of {len(measures)} | {median[0]:.2f} | {median[1]:.2f} | {median[2]:.1f} | {median[3]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
