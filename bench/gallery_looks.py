"""Two gallery sheets of ../shared/images compared pair by pair, with the measures of bench/looks.py.

    python -m bench.gallery_looks OLD.png NEW.png [--names old new] [--pairs tubingen:starry_night ...]

Each sheet is `painterly gallery ../shared/images/content ../shared/images/style` (cell 192 px). The
cells are cut out of both sheets and measured against the photo and the painting: the colour ratio
(below 1: the palette nearer the painting's) and the stroke size in pixels. Prints a markdown table,
one row per pair (all 48 unless --pairs), and its medians.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from painterly import images
from painterly.gallery import TILE, image_files

from .looks import colour_ratio, stroke_size
from .suite import SHARED


def cell(sheet: np.ndarray, i: int, j: int, size: tuple[int, int], tile: int = TILE) -> np.ndarray:
    """The picture of content i × style j, as `reports.gallery_sheet` placed it."""
    pad, caption_h = 8, max(18, tile // 8)
    x, y = pad + (j + 1) * (tile + pad), pad + (i + 1) * (tile + caption_h + pad)
    width, height = images.fit_size(size, tile)
    x, y = x + (tile - width) // 2, y + (tile - height) // 2
    return sheet[y:y + height, x:x + width].astype(np.float32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gallery_looks", description=__doc__.split("\n")[0])
    parser.add_argument("sheets", nargs=2, type=Path)
    parser.add_argument("--names", nargs=2, default=("old", "new"))
    parser.add_argument("--pairs", nargs="*", help="photo:painting stems (default: every pair)")
    args = parser.parse_args(argv)
    contents, styles = image_files(SHARED / "content", "content"), image_files(SHARED / "style", "style")
    sheets = [np.asarray(images.load_image(path).rgb) for path in args.sheets]
    wanted = {tuple(p.split(":")) for p in args.pairs} if args.pairs else None
    a, b = args.names
    print(f"| pair | colour ratio {a} | {b} | stroke px {a} | {b} |")
    print("|---|---|---|---|---|")
    measures = []
    for i, content in enumerate(contents):
        photo = images.load_image(content).rgb
        for j, style in enumerate(styles):
            if wanted is not None and (content.stem, style.stem) not in wanted:
                continue
            painting = images.load_image(style).rgb
            size = (photo.shape[1], photo.shape[0])
            shown = images.resize(photo, images.fit_size(size, TILE))
            pictures = [cell(sheet, i, j, size) for sheet in sheets]
            row = [colour_ratio(p, shown, painting) for p in pictures] + [stroke_size(p) for p in pictures]
            measures.append(row)
            print(f"| {content.stem} × {style.stem} | {row[0]:.2f} | {row[1]:.2f} | {row[2]:.1f} | {row[3]:.1f} |")
    median = np.median(np.array(measures), axis=0)
    print(f"| median of {len(measures)} | {median[0]:.2f} | {median[1]:.2f} | {median[2]:.1f} | {median[3]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
