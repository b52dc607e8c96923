"""Files to pixels and pixels to files: loading, resizing and atomic saving.

NumPy and Pillow only; nothing is done at import time. Pixels travel as uint8 RGB (height, width, 3)
plus an optional uint8 alpha (height, width); float arrays hold values in 0..255.

Choices worth knowing:
- An alpha channel that is opaque everywhere is dropped: `Picture.alpha` is None exactly when the
  image has no transparent or translucent pixel.
- Integer grayscale files ("I;16", "I") hold 16-bit samples: 0..65535 maps onto 0..255 (values
  outside are clipped). Float grayscale files ("F"), like float arrays, hold 0..255.
- JPEG and WebP are written at quality 95; alpha is written for PNG, WebP and TIFF only.
"""

from __future__ import annotations

import math
import os
import secrets
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from painterly.errors import InputImageError, OutputError
from painterly.files import same_file

DEFAULT_MAX_PIXELS = 100_000_000  # refuse inputs larger than this (decompression-bomb guard)

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)  # Pillow on bad data
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
_ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})  # formats save_image writes alpha to
_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}
_SUGGESTED_EXTENSIONS = ".png, .jpg, .webp or .tif"
_PIXEL_LIMIT_LOCK = threading.Lock()  # guards Pillow's global MAX_IMAGE_PIXELS


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare with ==
class Picture:
    """An image as painterly uses it: RGB pixels, optional transparency, and where it came from."""

    rgb: np.ndarray = field(repr=False)  # uint8 (height, width, 3)
    alpha: np.ndarray | None = field(repr=False)  # uint8 (height, width); None when fully opaque
    path: Path | None  # the file it was loaded from; None for in-memory pictures

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        height, width = self.rgb.shape[:2]
        return width, height


# --- loading ------------------------------------------------------------------------------------


def load_image(path, *, role: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS,
               shown_as: str | None = None) -> Picture:
    """Read an image file as uint8 RGB (EXIF orientation applied), plus alpha if it is transparent.

    `role` ("content image", "style image", ...) starts every error message, followed by `shown_as`
    (default: the path), e.g. the name a web upload had. Raises InputImageError.
    """
    path = Path(path)
    name = f"{role} '{path if shown_as is None else shown_as}'"
    with _open_for_reading(path, name) as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise InputImageError(f"{name} is empty (0 bytes): re-export it or choose another file")
        image = _decode(file, name, max_pixels)
    rgb, alpha = _rgb_and_alpha(image, name)
    return Picture(rgb=rgb, alpha=alpha, path=path)


def load_style(source, *, role: str = "style image", **options) -> Picture:
    """A style image: `load_image` of a file, or of the painting of that name on the shelf
    (`painterly.shelf.resolve`: a path that exists wins). Raises InputImageError."""
    from .shelf import resolve

    return load_image(resolve(source, role=role), role=role, **options)


def picture_from_array(array, *, role: str = "image") -> Picture:
    """Make a Picture from a PIL image or an array shaped (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).

    Array values by dtype: uint8 as they are; uint16 as 16-bit samples (0..65535); other integers
    and floats as 0..255, rounded and clipped. Raises InputImageError.
    """
    name = f"{role} (in memory)"
    if isinstance(array, Image.Image):
        _check_dimensions(array.size, name)
        try:
            image = ImageOps.exif_transpose(array)
        except _DECODE_ERRORS as err:
            raise InputImageError(f"{name} is truncated or corrupt: load it again") from err
        rgb, alpha = _rgb_and_alpha(image, name)
        return Picture(rgb=rgb, alpha=alpha, path=None)

    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise InputImageError(
            f"{name} has shape {array.shape}: pass (height, width), (height, width, 3) "
            "or (height, width, 4)"
        )
    _check_dimensions((array.shape[1], array.shape[0]), name)
    pixels = _array_to_uint8(array, name)
    if pixels.ndim == 2:
        return Picture(rgb=_gray_to_rgb(pixels), alpha=None, path=None)
    alpha = _alpha_or_none(pixels[..., 3]) if pixels.shape[2] == 4 else None
    return Picture(rgb=np.ascontiguousarray(pixels[..., :3]), alpha=alpha, path=None)


def _open_for_reading(path: Path, name: str) -> BinaryIO:
    """Open `path` for reading, explaining in one line why it cannot be."""
    folder = f"{name} is a folder, not a file: give the path of an image file"
    try:
        return open(path, "rb")
    except (FileNotFoundError, NotADirectoryError) as err:
        raise InputImageError(f"{name} does not exist: check the path") from err
    except IsADirectoryError as err:
        raise InputImageError(folder) from err
    except PermissionError as err:  # also what Windows says for a folder
        if path.is_dir():
            raise InputImageError(folder) from err
        raise InputImageError(
            f"{name} cannot be read (permission denied): check the file's permissions"
        ) from err
    except OSError as err:
        raise InputImageError(f"{name} cannot be read ({err.strerror or err}): check the file") from err


def _decode(file: BinaryIO, name: str, max_pixels: int) -> Image.Image:
    """Open and fully decode an image file, turning every Pillow failure into an InputImageError."""
    with _pillow_pixel_limit(max_pixels):
        try:
            image = Image.open(file)
            _check_dimensions(image.size, name, max_pixels)  # from the header, before decoding
            image.load()  # decode now, so truncation surfaces here rather than later
            return ImageOps.exif_transpose(image)
        except UnidentifiedImageError as err:
            raise InputImageError(
                f"{name} is not an image painterly can read: "
                "choose a PNG, JPEG, WebP, TIFF, BMP or GIF file"
            ) from err
        except _BOMB_ERRORS as err:
            raise InputImageError(_too_large_message(name, max_pixels)) from err
        except _DECODE_ERRORS as err:
            raise InputImageError(
                f"{name} is truncated or corrupt: re-export it or choose another file"
            ) from err


@contextmanager
def _pillow_pixel_limit(max_pixels: int) -> Iterator[None]:
    """Make Pillow's decompression-bomb guard use `max_pixels`, as an error, inside this block.

    Image.MAX_IMAGE_PIXELS is Pillow's global: it is set under a lock and always restored.
    """
    with _PIXEL_LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _check_dimensions(size: tuple[int, int], name: str, max_pixels: int | None = None) -> None:
    """Refuse an image with a zero side or, when `max_pixels` is given, more pixels than that."""
    width, height = size
    if width == 0 or height == 0:
        raise InputImageError(
            f"{name} has a zero width or height ({width}x{height}): choose another image"
        )
    if max_pixels is not None and width * height > max_pixels:
        raise InputImageError(_too_large_message(name, max_pixels, size))


def _too_large_message(name: str, max_pixels: int, size: tuple[int, int] | None = None) -> str:
    measured = f" ({size[0]}x{size[1]} = {size[0] * size[1]:,} pixels)" if size else ""
    return f"{name} is too large{measured}: the limit is {max_pixels:,} pixels, so downscale it first"


def _rgb_and_alpha(image: Image.Image, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 RGB, and alpha unless fully opaque, from a decoded Pillow image of any mode."""
    if image.mode.startswith(("I", "F")):  # "I", "I;16", "I;16B", "F": one high-range gray channel
        return _gray_to_rgb(_high_range_to_uint8(image)), None
    try:
        if image.has_transparency_data:  # alpha channel, palette alpha or a transparent colour
            rgba = np.array(image.convert("RGBA"))
            return np.ascontiguousarray(rgba[..., :3]), _alpha_or_none(rgba[..., 3])
        return np.array(image.convert("RGB")), None
    except ValueError as err:
        raise InputImageError(
            f"{name} uses colour mode {image.mode}, which painterly cannot convert: save it as RGB"
        ) from err


def _high_range_to_uint8(image: Image.Image) -> np.ndarray:
    """uint8 gray from an integer image (16-bit samples) or a float image (0..255)."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        return to_uint8(values)
    return to_uint8(np.clip(values, 0, 65535) * (255 / 65535))


def _array_to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    """uint8 copy of an in-memory array, read by its dtype (see picture_from_array)."""
    if array.dtype == np.uint8:
        return array.copy()
    if array.dtype == np.uint16:
        return to_uint8(array * (255 / 65535))
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise InputImageError(f"{name} has dtype {array.dtype}: pass uint8, uint16 or float values")
    if not np.all(np.isfinite(array)):
        raise InputImageError(f"{name} contains NaN or infinite values: pass finite values in 0..255")
    return to_uint8(array)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., np.newaxis], 3, axis=2)


def _alpha_or_none(alpha: np.ndarray) -> np.ndarray | None:
    """A contiguous copy of `alpha`, or None when every pixel is opaque."""
    return None if alpha.min() == 255 else np.array(alpha, order="C")


# --- sizes and values ---------------------------------------------------------------------------


def fit_size(size: tuple[int, int], target: int, edge: str = "long") -> tuple[int, int]:
    """(width, height) scaled so that the long edge (edge="long") or the height is `target`.

    The aspect ratio is kept; each side is rounded to the nearest pixel (halves up), at least 1.
    """
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"size must have positive sides, got {size}")
    if target < 1:
        raise ValueError(f"target must be at least 1 pixel, got {target}")
    if edge == "long":
        reference = max(width, height)
    elif edge == "height":
        reference = height
    else:
        raise ValueError(f"edge must be 'long' or 'height', got {edge!r}")
    return _scaled(width, target, reference), _scaled(height, target, reference)


WIDEST = 2.0  # --size N sets the long side up to this aspect ratio (16:9 and 3:2 included); beyond, an N × N/2 image's pixels


def output_size(size: tuple[int, int], target: int, edge: str = "long") -> tuple[int, int]:
    """The output's (width, height) for ``--size target``: the long side (or the height) is `target`,
    except that an image wider or taller than 2:1 gets the pixels a 2:1 one would (target × target/2),
    so that a panorama keeps a height the network can paint: 4:1 at 384 is 543×136, not 384×96."""
    width, height = size
    aspect = max(width, height) / max(1, min(width, height))
    if edge != "long" or aspect <= WIDEST:
        return fit_size(size, target, edge)
    return fit_size(size, round(target * math.sqrt(aspect / WIDEST)))


def _scaled(side: int, target: int, reference: int) -> int:
    """side * target / reference rounded half up, at least 1 (in integers, so exact)."""
    return max(1, (2 * side * target + reference) // (2 * reference))


def resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos-resample an (H, W) or (H, W, C) array to `size` (width, height), as new float32.

    Each channel is resampled as a 32-bit float image, so values are neither quantised nor clipped.
    """
    array = np.asarray(array)
    width, height = size
    if array.shape[:2] == (height, width):
        return array.astype(np.float32)  # astype copies
    if array.ndim == 2:
        return _resize_channel(array, size)
    return np.stack([_resize_channel(array[..., c], size) for c in range(array.shape[2])], axis=-1)


def style_shape(size: tuple[int, int], side: int, scale: float = 1.0, upscale: bool = False) -> tuple[int, int]:
    """A style image's (width, height) for an output of longest side `side`: side × `scale`, but not
    enlarged beyond the image's own `size` unless `upscale` (and never below 16 px)."""
    wanted = max(16, round(side * scale))
    return fit_size(size, wanted if upscale else max(16, min(wanted, max(size))))


def _resize_channel(channel: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(channel, dtype=np.float32))  # mode "F"
    return np.array(image.resize(size, Image.Resampling.LANCZOS))


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Round to the nearest integer and clip to 0..255, as a new uint8 array."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array.copy()
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


# --- saving -------------------------------------------------------------------------------------


def check_output(path, *, overwrite: bool, inputs: Iterable = ()) -> Path:
    """Check, before a long run, that `path` may and can be written; return it resolved.

    An input image is never a valid output, even with `overwrite`. Raises OutputError.
    """
    path = Path(path)
    resolved = path.resolve()
    if resolved.is_dir():
        example = path / "result.png"
        raise OutputError(f"output '{path}' is a folder: give a file name, such as '{example}'")
    if any(same_file(resolved, Path(source)) for source in inputs if source is not None):
        raise OutputError(
            f"output '{path}' is one of the input images, which are never overwritten: "
            "choose another name"
        )
    _output_format(path)
    folder = resolved.parent
    if not folder.is_dir():
        raise OutputError(f"output folder '{folder}' does not exist: create it or choose another")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder '{folder}' is not writable: choose another folder")
    if resolved.exists() and not overwrite:
        raise OutputError(
            f"output '{path}' exists: pass --overwrite to replace it, or choose another name"
        )
    return resolved


def check_space(needs: Iterable[tuple[os.PathLike, int]]) -> None:
    """Refuse, before a long run, outputs whose disk has less free space than they need.

    needs: (folder, bytes) pairs; folders on one file system add up. Raises OutputError.
    """
    import shutil

    totals: dict[int, list] = {}
    for folder, size in needs:
        folder = Path(folder)
        while not folder.exists() and folder != folder.parent:  # a report folder not made yet
            folder = folder.parent
        entry = totals.setdefault(os.stat(folder).st_dev, [folder, 0])
        entry[1] += size
    for folder, size in totals.values():
        free = shutil.disk_usage(folder).free
        if free < size:
            raise OutputError(f"'{folder}' has {free / 2**20:.1f} MB free but this run's outputs need up to "
                              f"{size / 2**20:.1f} MB: free some space or write them elsewhere")


def save_or_rescue(path, rgb: np.ndarray, alpha: np.ndarray | None = None) -> Path:
    """save_image(path, ...); when that fails (a full disk, a folder gone), save it in the temporary
    folder or the home folder instead, so a finished result is never thrown away. Returns where it
    went; raises OutputError only when no place could take it."""
    path = Path(path)
    try:
        return save_image(path, rgb, alpha)
    except OutputError as first:
        import tempfile

        stamp = f"{path.stem}-rescued-{os.getpid()}-{secrets.token_hex(3)}{path.suffix}"
        for folder in (Path(tempfile.gettempdir()), Path.home()):
            try:
                return save_image(folder / stamp, rgb, alpha)
            except OutputError:
                continue
        raise first


def save_image(path, rgb: np.ndarray, alpha: np.ndarray | None = None) -> Path:
    """Write `rgb` (uint8 or float (H, W, 3) in 0..255, clipped) atomically; return `path`.

    The format comes from the extension. `alpha` (any size; resampled to fit) is written for PNG,
    WebP and TIFF and dropped for other formats. Raises OutputError when the file cannot be written.
    """
    path = Path(path)
    file_format = _output_format(path)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(f"rgb must be shaped (height, width, 3), got {rgb.shape}")
    image = Image.fromarray(to_uint8(rgb))
    if alpha is not None and file_format in _ALPHA_FORMATS:
        image.putalpha(Image.fromarray(_alpha_at_size(alpha, image.size)))
    try:
        with _replacing(path) as temporary, open(temporary, "xb") as file:
            image.save(file, format=file_format, **_SAVE_OPTIONS.get(file_format, {}))
            file.flush()
            os.fsync(file.fileno())
    except OSError as err:
        raise OutputError(
            f"output '{path}' could not be written ({err.strerror or err}): "
            "check the folder's permissions and free space"
        ) from err
    return path


def _alpha_at_size(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 alpha of `size` (width, height), resampled if its own size differs."""
    alpha = np.asarray(alpha)
    if alpha.ndim != 2 or 0 in alpha.shape:
        raise ValueError(f"alpha must be shaped (height, width), got {alpha.shape}")
    width, height = size
    if alpha.shape != (height, width):
        alpha = resize(alpha, size)
    return to_uint8(alpha)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` on success, remove it on failure."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:  # Ctrl-C included: never leave a half-written file behind
        temporary.unlink(missing_ok=True)
        raise


def _output_format(path: Path) -> str:
    """Pillow's format name for `path`'s extension; OutputError unless it can write RGB."""
    suffix = path.suffix.lower()
    if not suffix:
        raise OutputError(f"output '{path}' has no extension: add one, such as {_SUGGESTED_EXTENSIONS}")
    file_format = Image.registered_extensions().get(suffix)
    if file_format is None or not _writes_rgb(file_format):
        raise OutputError(
            f"output '{path}' has extension '{path.suffix}', which painterly cannot write: "
            f"use {_SUGGESTED_EXTENSIONS}"
        )
    return file_format


@lru_cache(maxsize=None)
def _writes_rgb(file_format: str) -> bool:
    """Whether Pillow can write an RGB image as `file_format` (tried on a tiny one, in memory)."""
    try:
        Image.new("RGB", (8, 8)).save(BytesIO(), format=file_format)
    except Exception:  # any failure means no: formats that need other modes, plugins or handlers
        return False
    return True



def demo_pair() -> tuple[Path, Path]:
    """The bundled demo content photo and style painting (sources in painterly/data/SOURCES.md)."""
    from importlib.resources import files

    data = files("painterly") / "data"
    return Path(str(data / "demo_content.jpg")), Path(str(data / "demo_style.jpg"))
