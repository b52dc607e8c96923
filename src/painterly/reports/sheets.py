"""Pictures laid out on a sheet: the report's contact sheet of snapshots (the paper's figures 10-17) and the
gallery's grid of contents × styles (`gallery_layout`, `gallery_sheet`); images to PNG bytes."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont


MAX_TILES = 24  # contact sheet: evenly subsampled above this, first and last always kept


TILE_MAX = 256  # contact sheet: longest tile side, in pixels


TILE_MIN = 128  # contact sheet: small images are scaled up to this so they stay visible


def to_pil(image: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """uint8 or float (0..255) HxW, HxWx1, HxWx3 or HxWx4 array -> Pillow image, with `alpha` if it fits."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(np.nan_to_num(array.astype(np.float32)), 0, 255).round().astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if alpha is not None and array.ndim == 3 and array.shape[2] == 3 and np.shape(alpha) == array.shape[:2]:
        array = np.dstack([array, np.asarray(alpha, dtype=np.uint8)])
    return Image.fromarray(np.ascontiguousarray(array))


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def contact_sheet(paths: Sequence[Path], captions: Sequence[str]) -> Image.Image:
    """Images in a grid of up to 6 columns, each with its caption under it (the paper's figures 10-17)."""
    tiles = _tiles(paths)
    font = label_font(16)
    pad, caption_h = 10, 26
    cell_w = max(max(t.width for t in tiles), max(_text_width(font, c) for c in captions) + 8)
    cell_h = max(t.height for t in tiles) + caption_h
    rows = math.ceil(len(tiles) / 6)
    cols = math.ceil(len(tiles) / rows)
    sheet = Image.new("RGB", (pad + cols * (cell_w + pad), pad + rows * (cell_h + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (tile, caption) in enumerate(zip(tiles, captions)):
        x = pad + (index % cols) * (cell_w + pad)
        y = pad + (index // cols) * (cell_h + pad)
        image_h = cell_h - caption_h
        sheet.paste(tile, (x + (cell_w - tile.width) // 2, y + (image_h - tile.height) // 2))
        centre = (x + cell_w / 2, y + image_h + caption_h / 2)
        draw.text(centre, caption, fill="black", font=font, anchor="mm")
    return sheet


@dataclass(frozen=True)
class GalleryLayout:
    """Where `gallery_sheet` puts things: column x and width, row y and height (column 0 and row 0 hold the
    contents and the styles), the caption lines' height, and the sheet's size."""

    xs: tuple[int, ...]
    widths: tuple[int, ...]
    ys: tuple[int, ...]
    heights: tuple[int, ...]
    top_captions: int  # height of the styles' captions under the top row
    size: tuple[int, int]  # (width, height) of the sheet

    def origin(self, column: int, row: int, size: tuple[int, int]) -> tuple[int, int]:
        """The top-left corner of a picture of `size` in that column and row: centred across the column;
        at the top of its row, except in the top row, where the pictures stand on the captions' line."""
        x = self.xs[column] + (self.widths[column] - size[0]) // 2
        drop = self.heights[0] - self.top_captions - size[1] if row == 0 else 0
        return x, self.ys[row] + drop


def gallery_layout(contents: Sequence[tuple[str, tuple[int, int]]], styles: Sequence[tuple[str, tuple[int, int]]],
                   cells: Mapping[tuple[int, int], tuple[int, int]], tile: int = 192,
                   title: str | None = None) -> GalleryLayout:
    """The layout of a gallery sheet from the captions and the sizes of the pictures as placed (each fitted
    into a `tile` box): a column is as wide as its widest picture or caption and a row as tall as its
    tallest picture (the contents' with their captions), so landscape pictures leave no bands."""
    font, pad = label_font(max(12, tile // 12)), 8
    line = _text_height(font) + 2
    captions = lambda named: _CAPTION_GAP + line * max((n.count("\n") + 1 for n, _ in named), default=0)  # noqa: E731
    widths = [max([w for _, (w, _) in contents] + [_text_width(font, n) for n, _ in contents] + [tile // 2])]
    widths += [max([w, _text_width(font, name)] + [c[0] for (_, k), c in cells.items() if k == j])
               for j, (name, (w, _)) in enumerate(styles)]
    heights = [max([h for _, (_, h) in styles] + [0]) + captions(styles)]
    heights += [max([h + captions(contents)] + [c[1] for (k, _), c in cells.items() if k == i])
                for i, (_, (_, h)) in enumerate(contents)]
    top = line + pad if title else 0
    xs = tuple(pad + sum(w + pad for w in widths[:k]) for k in range(len(widths)))
    ys = tuple(pad + top + sum(h + pad for h in heights[:k]) for k in range(len(heights)))
    return GalleryLayout(xs, tuple(widths), ys, tuple(heights), captions(styles),
                         (pad + sum(w + pad for w in widths), pad + top + sum(h + pad for h in heights)))


_CAPTION_GAP = 4  # pixels between a picture and its caption


def gallery_sheet(
    cells: Mapping[tuple[int, int], np.ndarray],
    contents: Sequence[tuple[str, np.ndarray]],
    styles: Sequence[tuple[str, np.ndarray]],
    tile: int = 192,
    title: str | None = None,
) -> np.ndarray:
    """A labelled grid: styles along the top, contents down the left, cell (i, j) = content i × style j.

    Each picture fits a `tile` box and each caption (it may hold "\n") sits right under its picture; see
    `gallery_layout`. `title`: a line above the grid (an interrupted gallery says so there). Missing cells
    stay blank. Returns uint8 RGB.
    """
    fitted = lambda image: _fit(to_pil(image), tile)  # noqa: E731
    top = [(name, fitted(image)) for name, image in styles]
    left = [(name, fitted(image)) for name, image in contents]
    placed = {key: fitted(image) for key, image in cells.items()}
    layout = gallery_layout([(n, p.size) for n, p in left], [(n, p.size) for n, p in top],
                            {key: p.size for key, p in placed.items()}, tile, title)
    sheet = Image.new("RGB", layout.size, "white")
    draw = ImageDraw.Draw(sheet)
    font = label_font(max(12, tile // 12))
    if title:
        draw.text((8, 8), title, fill="#b00020", font=font)

    def place(picture: Image.Image, column: int, row: int, caption: str = "") -> None:
        x, y = layout.origin(column, row, picture.size)
        sheet.paste(picture, (x, y))
        if caption:
            centre = layout.xs[column] + layout.widths[column] / 2
            draw.multiline_text((centre, y + picture.height + _CAPTION_GAP), caption, fill="black", font=font,
                                anchor="ma", align="center", spacing=2)

    for j, (name, picture) in enumerate(top):
        place(picture, j + 1, 0, name)
    for i, (name, picture) in enumerate(left):
        place(picture, 0, i + 1, name)
    for (i, j), picture in placed.items():
        place(picture, j + 1, i + 1)
    return np.asarray(sheet)


def subsample(items: list, limit: int) -> list:
    """At most `limit` items, evenly spread, always keeping the first and the last."""
    if len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def _tiles(paths: Sequence[Path]) -> list[Image.Image]:
    """The snapshots, each fitted into one square box so the grid is even (smaller scales scaled up).

    The box is the longest side among the snapshots, held between TILE_MIN and TILE_MAX pixels.
    """
    images = []
    for path in paths:
        with Image.open(path) as opened:
            images.append(opened.convert("RGB"))
    box = min(max(max(max(image.size) for image in images), TILE_MIN), TILE_MAX)
    return [_fit(image, box) for image in images]


def _fit(image: Image.Image, box: int) -> Image.Image:
    factor = box / max(image.size)
    if factor == 1:
        return image
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    resample = Image.Resampling.NEAREST if factor >= 4 else Image.Resampling.LANCZOS  # tiny: show pixels
    return image.resize(size, resample)


def label_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1, or no FreeType: the small bitmap font
        return ImageFont.load_default()


def _text_width(font, text: str) -> int:
    left, _, right, _ = ImageDraw.Draw(Image.new("RGB", (1, 1))).multiline_textbbox((0, 0), text, font=font)
    return int(right - left)


def _text_height(font) -> int:
    """The height of one line of text in `font`."""
    _, top, _, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), "Ag", font=font)
    return int(bottom - top)
