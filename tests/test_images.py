"""Tests for painterly.images: every image is tiny and made by the test itself in tmp_path."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from painterly import images
from painterly.errors import InputImageError, OutputError
from painterly.images import (
    Picture,
    check_output,
    fit_size,
    load_image,
    picture_from_array,
    resize,
    save_image,
    to_uint8,
)

RED, BLUE = (255, 0, 0), (0, 0, 255)
RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def colour_blocks(width: int = 16, height: int = 8) -> np.ndarray:
    """uint8 RGB: red left half, blue right half (8-pixel blocks survive JPEG well)."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2 :] = BLUE
    return pixels


def handmade_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG written by hand, for headers and depths Pillow will not write itself."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def mode_of(path: Path) -> str:
    with Image.open(path) as image:
        return image.mode


def assert_one_line_naming(err: pytest.ExceptionInfo, *words: str) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message
    return message


# --- load_image: formats, orientation, modes ----------------------------------------------------


@pytest.mark.parametrize("extension", [".png", ".jpg", ".webp", ".bmp", ".tif", ".gif"])
def test_load_reads_every_common_format(tmp_path, extension):
    path = tmp_path / f"blocks{extension}"
    Image.fromarray(colour_blocks()).save(path)

    picture = load_image(path, role="content image")

    assert isinstance(picture, Picture)
    assert picture.rgb.dtype == np.uint8 and picture.rgb.shape == (8, 16, 3)
    assert picture.size == (16, 8)
    assert picture.alpha is None
    assert picture.path == path
    if extension in (".jpg", ".webp"):  # lossy: colours bleed across the edge, so look at the middles
        assert np.abs(picture.rgb[4, 3].astype(int) - RED).max() <= 12
        assert np.abs(picture.rgb[4, 12].astype(int) - BLUE).max() <= 12
    else:
        assert (picture.rgb == colour_blocks()).all()


def test_load_gif_reads_the_first_frame(tmp_path):
    path = tmp_path / "animated.gif"
    frames = [Image.new("RGB", (4, 4), colour) for colour in (RED, BLUE)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)

    picture = load_image(path)

    assert (picture.rgb == RED).all()


def test_load_honours_exif_orientation(tmp_path):
    # Stored 16 wide x 24 high with a red top-left block; Orientation 6 means "rotate 90° clockwise to
    # display", so the loaded image is 24 wide x 16 high with the red block at the top right.
    stored = np.zeros((24, 16, 3), np.uint8)
    stored[:] = BLUE
    stored[:8, :8] = RED
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)

    picture = load_image(path)

    assert picture.size == (24, 16)
    assert np.abs(picture.rgb[4, 20].astype(int) - RED).max() < 20  # top right: red
    assert np.abs(picture.rgb[4, 4].astype(int) - BLUE).max() < 20  # top left: blue
    assert np.abs(picture.rgb[12, 20].astype(int) - BLUE).max() < 20


def test_load_gray_l(tmp_path):
    path = tmp_path / "gray.png"
    Image.new("L", (3, 2), 77).save(path)

    picture = load_image(path)

    assert picture.rgb.shape == (2, 3, 3) and (picture.rgb == 77).all()
    assert picture.alpha is None


def test_load_gray_with_alpha_la(tmp_path):
    path = tmp_path / "gray_alpha.png"
    Image.merge("LA", [Image.new("L", (3, 2), 77), Image.new("L", (3, 2), 128)]).save(path)

    picture = load_image(path)

    assert (picture.rgb == 77).all()
    assert picture.alpha.shape == (2, 3) and picture.alpha.dtype == np.uint8
    assert (picture.alpha == 128).all()


def test_load_palette_without_transparency(tmp_path):
    path = tmp_path / "palette.png"
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(path)

    picture = load_image(path)

    assert picture.rgb[0, 0].tolist() == list(RED)
    assert picture.rgb[0, 1].tolist() == list(BLUE)
    assert picture.alpha is None


def test_load_palette_with_transparency(tmp_path):
    path = tmp_path / "palette_transparent.png"
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(path, transparency=0)  # palette entry 0 (red) is transparent

    picture = load_image(path)

    assert picture.alpha.tolist() == [[0, 255]]
    assert picture.rgb[0, 1].tolist() == list(BLUE)


def test_load_rgba_keeps_alpha(tmp_path):
    path = tmp_path / "rgba.png"
    pixels = np.zeros((2, 2, 4), np.uint8)
    pixels[..., 1] = 200
    pixels[..., 3] = [[0, 64], [128, 255]]
    Image.fromarray(pixels).save(path)

    picture = load_image(path)

    assert (picture.rgb[..., 1] == 200).all()
    assert picture.alpha.tolist() == [[0, 64], [128, 255]]


def test_load_drops_an_alpha_that_is_opaque_everywhere(tmp_path):
    path = tmp_path / "opaque.png"
    Image.new("RGBA", (3, 3), (10, 20, 30, 255)).save(path)

    picture = load_image(path)

    assert picture.alpha is None
    assert picture.rgb[0, 0].tolist() == [10, 20, 30]


def test_load_rgb_with_a_transparent_colour_key(tmp_path):
    path = tmp_path / "keyed.png"
    Image.fromarray(colour_blocks(4, 1)).save(path, transparency=RED)

    picture = load_image(path)

    assert picture.alpha.tolist() == [[0, 0, 255, 255]]


def test_load_cmyk(tmp_path):
    path = tmp_path / "cmyk.tif"
    Image.new("CMYK", (2, 2), (0, 255, 255, 0)).save(path)

    picture = load_image(path)

    assert (picture.rgb == RED).all()


def test_load_bilevel(tmp_path):
    path = tmp_path / "bilevel.png"
    image = Image.new("1", (2, 1), 0)
    image.putpixel((1, 0), 1)
    image.save(path)

    picture = load_image(path)

    assert picture.rgb[..., 0].tolist() == [[0, 255]]


def test_load_16_bit_gray_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 32768, 65535]], np.uint16)).save(path)
    assert mode_of(path).startswith("I")

    picture = load_image(path)

    assert picture.rgb[..., 0].tolist() == [[0, 128, 255]]
    assert (picture.rgb[..., 0] == picture.rgb[..., 2]).all()


def test_load_32_bit_integer_gray_reads_16_bit_samples(tmp_path):
    path = tmp_path / "int32.tif"
    Image.fromarray(np.array([[-5, 0, 32768, 65535, 70000]], np.int32)).save(path)
    assert mode_of(path) == "I"

    picture = load_image(path)

    assert picture.rgb[..., 0].tolist() == [[0, 0, 128, 255, 255]]


def test_load_float_gray_reads_0_to_255(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([[100.4, -3.0, 300.0]], np.float32)).save(path)
    assert mode_of(path) == "F"

    picture = load_image(path)

    assert picture.rgb[..., 0].tolist() == [[100, 0, 255]]


def test_load_16_bit_rgb(tmp_path):
    path = tmp_path / "deep_rgb.png"
    row = b"\x00" + struct.pack(">6H", 65535, 32768, 0, 0, 0, 65535)  # filter byte, then 2 pixels
    path.write_bytes(handmade_png(2, 1, 16, 2, row))

    picture = load_image(path)

    assert picture.rgb.tolist() == [[[255, 128, 0], [0, 0, 255]]]


# --- load_image: errors -------------------------------------------------------------------------


def test_load_missing_file(tmp_path):
    with pytest.raises(InputImageError) as err:
        load_image(tmp_path / "nowhere.png", role="content image")
    assert_one_line_naming(err, "content image", "nowhere.png", "does not exist")


def test_load_missing_folder_in_path(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputImageError) as err:
        load_image(tmp_path / "file.txt" / "photo.png")
    assert_one_line_naming(err, "photo.png", "does not exist")


def test_load_directory(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    with pytest.raises(InputImageError) as err:
        load_image(folder, role="style image")
    assert_one_line_naming(err, "style image", "photos", "folder")


@pytest.mark.skipif(RUNNING_AS_ROOT or not hasattr(os, "geteuid"), reason="root can read anything")
def test_load_unreadable_file(tmp_path):
    path = tmp_path / "secret.png"
    Image.new("RGB", (2, 2)).save(path)
    path.chmod(0)
    try:
        with pytest.raises(InputImageError) as err:
            load_image(path)
    finally:
        path.chmod(0o644)
    assert_one_line_naming(err, "secret.png", "permission denied")


def test_load_permission_denied_message(tmp_path, monkeypatch):
    # The same branch, simulated, so that it is covered when the tests run as root too.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(images, "open", refuse, raising=False)
    with pytest.raises(InputImageError) as err:
        load_image(tmp_path / "secret.png")
    assert_one_line_naming(err, "secret.png", "permission denied")


def test_load_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(InputImageError) as err:
        load_image(path)
    assert_one_line_naming(err, "empty.jpg", "empty")


def test_load_text_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image at all\n")
    with pytest.raises(InputImageError) as err:
        load_image(path)
    assert_one_line_naming(err, "notes.png", "not an image")


@pytest.mark.parametrize("extension", [".jpg", ".png"])
def test_load_truncated_file(tmp_path, extension):
    whole = tmp_path / f"whole{extension}"
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(whole)
    data = whole.read_bytes()
    path = tmp_path / f"half{extension}"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputImageError) as err:
        load_image(path, role="content image")

    message = assert_one_line_naming(err, "content image", f"half{extension}", "truncated or corrupt")
    assert message == (
        f"content image '{path}' is truncated or corrupt: re-export it or choose another file"
    )


@pytest.mark.parametrize(
    ("max_pixels", "cause"),
    [(99, Image.DecompressionBombWarning), (40, Image.DecompressionBombError)],
)
def test_load_too_many_pixels(tmp_path, max_pixels, cause):
    # 10x10 = 100 pixels. Pillow's guard, set to our limit while loading, checks the header: over the
    # limit it warns (made an error here), over twice the limit it raises DecompressionBombError.
    path = tmp_path / "big.png"
    Image.new("RGB", (10, 10)).save(path)
    limit_before = Image.MAX_IMAGE_PIXELS

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape
        with pytest.raises(InputImageError) as err:
            load_image(path, max_pixels=max_pixels)

    assert_one_line_naming(err, "big.png", "too large", f"{max_pixels:,}")
    assert isinstance(err.value.__cause__, cause)
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_header_size_check_names_the_size():
    # load_image's own check on the header size, behind Pillow's guard.
    with pytest.raises(InputImageError) as err:
        images._check_dimensions((10, 10), "content image 'big.png'", 99)
    assert_one_line_naming(err, "big.png", "10x10 = 100 pixels", "99")


def test_load_refuses_a_huge_header_without_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(handmade_png(100_000, 100_000, 8, 2, b"\x00"))

    with pytest.raises(InputImageError) as err:
        load_image(path)

    assert_one_line_naming(err, "bomb.png", "too large")


def test_load_accepts_an_image_at_the_limit_and_restores_pillows_limit(tmp_path):
    path = tmp_path / "exact.png"
    Image.new("RGB", (10, 10)).save(path)
    limit_before = Image.MAX_IMAGE_PIXELS

    assert load_image(path, max_pixels=100).size == (10, 10)
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_load_zero_width_file(tmp_path):
    # Pillow refuses to identify such files, so the user hears that the file is not a readable image.
    path = tmp_path / "flat.png"
    path.write_bytes(handmade_png(0, 4, 8, 2, b""))
    with pytest.raises(InputImageError) as err:
        load_image(path)
    assert_one_line_naming(err, "flat.png")


def test_zero_dimension_check_names_the_image():
    with pytest.raises(InputImageError) as err:
        images._check_dimensions((0, 4), "content image 'flat.png'", 100)
    assert_one_line_naming(err, "flat.png", "zero width or height")


# --- picture_from_array -------------------------------------------------------------------------


def test_from_array_gray():
    picture = picture_from_array(np.full((2, 3), 40, np.uint8))
    assert picture.rgb.shape == (2, 3, 3) and (picture.rgb == 40).all()
    assert picture.alpha is None and picture.path is None and picture.size == (3, 2)


def test_from_array_rgb_is_copied():
    array = colour_blocks(4, 2)
    picture = picture_from_array(array)
    array[:] = 0
    assert (picture.rgb == colour_blocks(4, 2)).all()


def test_from_array_rgba_splits_alpha():
    array = np.zeros((2, 2, 4), np.uint8)
    array[..., 3] = [[0, 255], [255, 255]]
    picture = picture_from_array(array)
    assert picture.rgb.shape == (2, 2, 3) and picture.rgb.flags.c_contiguous
    assert picture.alpha.tolist() == [[0, 255], [255, 255]]


def test_from_array_float_is_rounded_and_clipped():
    picture = picture_from_array(np.array([[-4.0, 100.4, 100.6, 300.0]], np.float32))
    assert picture.rgb[..., 0].tolist() == [[0, 100, 101, 255]]


def test_from_array_uint16_is_scaled():
    picture = picture_from_array(np.array([[0, 32768, 65535]], np.uint16))
    assert picture.rgb[..., 0].tolist() == [[0, 128, 255]]


def test_from_pil_image():
    image = Image.new("RGBA", (3, 2), (1, 2, 3, 50))
    picture = picture_from_array(image, role="style image")
    assert picture.size == (3, 2)
    assert picture.rgb[0, 0].tolist() == [1, 2, 3]
    assert (picture.alpha == 50).all()


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((2, 2, 5), np.uint8), "shape"),
        (np.zeros(7, np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "zero width or height"),
        (np.full((2, 2), np.nan), "NaN"),
        (np.zeros((2, 2), bool), "dtype"),
        (Image.new("RGB", (0, 3)), "zero width or height"),
    ],
)
def test_from_array_errors(array, words):
    with pytest.raises(InputImageError) as err:
        picture_from_array(array, role="content image")
    assert_one_line_naming(err, "content image", words)


# --- fit_size, resize, to_uint8 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "target", "edge", "expected"),
    [
        ((1024, 768), 512, "long", (512, 384)),
        ((768, 1024), 512, "long", (384, 512)),
        ((1024, 768), 400, "height", (533, 400)),
        ((100, 100), 50, "long", (50, 50)),
        ((1000, 335), 100, "long", (100, 34)),  # 33.5 rounds up
        ((1000, 334), 100, "long", (100, 33)),  # 33.4 rounds down
        ((1000, 1), 10, "long", (10, 1)),  # 0.01 px becomes 1
        ((300, 200), 600, "long", (600, 400)),  # upscaling
    ],
)
def test_fit_size(size, target, edge, expected):
    assert fit_size(size, target, edge) == expected


@pytest.mark.parametrize(("target", "edge"), [(0, "long"), (10, "width")])
def test_fit_size_rejects_bad_arguments(target, edge):
    with pytest.raises(ValueError):
        fit_size((10, 10), target, edge)


def test_resize_keeps_float_values_and_gives_the_requested_shape():
    array = np.full((30, 40, 3), 100.25, np.float32)
    result = resize(array, (17, 11))
    assert result.shape == (11, 17, 3) and result.dtype == np.float32
    np.testing.assert_allclose(result, 100.25, atol=1e-3)


def test_resize_does_not_clip_values_outside_0_to_255():
    result = resize(np.full((8, 8), -3.5, np.float32), (5, 3))
    assert result.shape == (3, 5)
    np.testing.assert_allclose(result, -3.5, atol=1e-3)


def test_resize_same_size_returns_a_float_copy():
    array = np.full((4, 6, 3), 7, np.uint8)
    result = resize(array, (6, 4))
    assert result.dtype == np.float32 and result.shape == (4, 6, 3)
    result[:] = 0
    assert (array == 7).all()


def test_resize_lanczos_keeps_a_gradient_smooth():
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (8, 1))
    result = resize(ramp, (32, 4))
    assert np.all(np.diff(result[2]) > 0)


def test_to_uint8_rounds_and_clips():
    values = np.array([-5.0, 0.4, 0.6, 127.2, 254.6, 300.0])
    assert to_uint8(values).tolist() == [0, 0, 1, 127, 255, 255]
    assert to_uint8(values).dtype == np.uint8


# --- save_image ---------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".png", ".webp", ".tif"])
def test_save_keeps_alpha_where_the_format_has_it(tmp_path, extension):
    alpha = np.array([[0, 255, 128, 255]] * 2, np.uint8).repeat(4, axis=1)  # 2 x 16
    path = tmp_path / f"out{extension}"

    save_image(path, colour_blocks(16, 2), alpha)

    with Image.open(path) as written:
        assert written.mode == "RGBA"
        assert np.abs(np.asarray(written)[..., 3].astype(int) - alpha).max() <= 2


def test_save_drops_alpha_for_jpeg(tmp_path):
    path = tmp_path / "out.jpg"
    save_image(path, colour_blocks(), np.zeros((8, 16), np.uint8))
    with Image.open(path) as written:
        assert written.mode == "RGB"


def test_save_resizes_alpha_to_the_image(tmp_path):
    path = tmp_path / "out.png"
    save_image(path, colour_blocks(16, 8), np.full((4, 8), 100, np.uint8))
    assert load_image(path).alpha.shape == (8, 16)
    assert (load_image(path).alpha == 100).all()


def test_save_float_rgb_is_rounded_and_clipped(tmp_path):
    path = tmp_path / "out.png"
    rgb = np.array([[[-4.0, 100.6, 300.0]]], np.float32)
    assert save_image(path, rgb) == path
    assert load_image(path).rgb.tolist() == [[[0, 101, 255]]]


def test_save_round_trips_uint8_png(tmp_path):
    path = tmp_path / "out.png"
    save_image(path, colour_blocks())
    assert (load_image(path).rgb == colour_blocks()).all()


def test_save_leaves_no_temporary_file_and_respects_the_umask(tmp_path):
    path = tmp_path / "out.png"
    save_image(path, colour_blocks())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.png"
    Image.new("RGB", (2, 2), RED).save(path)
    save_image(path, np.zeros((3, 3, 3), np.uint8))
    assert load_image(path).size == (3, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_failure_keeps_the_existing_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    Image.new("RGB", (2, 2), RED).save(path)
    before = path.read_bytes()

    def fail_halfway(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", fail_halfway)
    with pytest.raises(OutputError) as err:
        save_image(path, colour_blocks())

    assert_one_line_naming(err, "out.png", "No space left on device")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_interrupted_removes_the_temporary(tmp_path, monkeypatch):
    def interrupt(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_image(tmp_path / "out.png", colour_blocks())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("rgb", "alpha"),
    [
        (np.zeros((4, 4, 5), np.uint8), None),
        (np.zeros((4, 4), np.uint8), None),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 2), np.uint8)),
    ],
)
def test_save_bad_array_keeps_the_existing_file(tmp_path, rgb, alpha):
    path = tmp_path / "out.png"
    Image.new("RGB", (2, 2), RED).save(path)
    before = path.read_bytes()

    with pytest.raises(ValueError):
        save_image(path, rgb, alpha)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_into_a_missing_folder(tmp_path):
    with pytest.raises(OutputError) as err:
        save_image(tmp_path / "absent" / "out.png", colour_blocks())
    assert_one_line_naming(err, "out.png", "could not be written")


def test_save_unknown_extension(tmp_path):
    with pytest.raises(OutputError) as err:
        save_image(tmp_path / "out.txt", colour_blocks())
    assert_one_line_naming(err, "out.txt", ".png")
    assert list(tmp_path.iterdir()) == []


# --- check_output -------------------------------------------------------------------------------


def test_check_output_accepts_a_new_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = check_output("result.png", overwrite=False)
    assert result == tmp_path.resolve() / "result.png" and result.is_absolute()
    assert not result.exists()


def test_check_output_missing_folder(tmp_path):
    with pytest.raises(OutputError) as err:
        check_output(tmp_path / "absent" / "out.png", overwrite=False)
    assert_one_line_naming(err, "absent", "does not exist")


@pytest.mark.skipif(RUNNING_AS_ROOT or not hasattr(os, "geteuid"), reason="root can write anywhere")
def test_check_output_unwritable_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError) as err:
            check_output(folder / "out.png", overwrite=False)
    finally:
        folder.chmod(0o755)
    assert_one_line_naming(err, "locked", "not writable")


def test_check_output_unwritable_folder_message(tmp_path, monkeypatch):
    # The same branch, simulated, so that it is covered when the tests run as root too.
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    with pytest.raises(OutputError) as err:
        check_output(tmp_path / "out.png", overwrite=False)
    assert_one_line_naming(err, str(tmp_path.resolve()), "not writable")


def test_check_output_existing_directory(tmp_path):
    folder = tmp_path / "out.png"
    folder.mkdir()
    with pytest.raises(OutputError) as err:
        check_output(folder, overwrite=True)
    assert_one_line_naming(err, "out.png", "folder")


def test_check_output_existing_file_needs_overwrite(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"old")
    with pytest.raises(OutputError) as err:
        check_output(path, overwrite=False)
    message = assert_one_line_naming(err, "out.png")
    assert message.endswith("exists: pass --overwrite to replace it, or choose another name")
    assert check_output(path, overwrite=True) == path.resolve()


def test_check_output_never_overwrites_an_input(tmp_path, monkeypatch):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (2, 2)).save(photo)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    spellings = [photo, "photo.png", "sub/../photo.png"]
    for spelling in spellings:
        with pytest.raises(OutputError) as err:
            check_output(spelling, overwrite=True, inputs=[photo, None])
        assert_one_line_naming(err, "photo.png", "input")


def test_check_output_sees_an_input_through_a_link(tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (2, 2)).save(photo)
    link = tmp_path / "link.png"
    os.link(photo, link)
    with pytest.raises(OutputError):
        check_output(link, overwrite=True, inputs=[photo])


@pytest.mark.parametrize("name", ["out.txt", "out", "out.xbm"])
def test_check_output_unwritable_format(tmp_path, name):
    # .xbm is a format Pillow knows but can only write as black and white.
    with pytest.raises(OutputError) as err:
        check_output(tmp_path / name, overwrite=False)
    assert_one_line_naming(err, name, ".png", ".jpg", ".webp", ".tif")


@pytest.mark.parametrize("name", ["a.png", "b.JPG", "c.jpeg", "d.webp", "e.tif", "f.tiff", "g.bmp"])
def test_check_output_accepts_common_formats(tmp_path, name):
    assert check_output(tmp_path / name, overwrite=False).name == name


# --- the module itself --------------------------------------------------------------------------


def test_import_does_not_load_tensorflow():
    source = Path(images.__file__).resolve().parents[1]
    code = "import sys, painterly.images; sys.exit('tensorflow' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")])}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_errors_name_the_file_as_the_caller_shows_it(tmp_path):
    upload = tmp_path / "content"  # a server's own name for an upload
    upload.write_text("not a picture")
    with pytest.raises(images.InputImageError) as error:
        images.load_image(upload, role="content photo", shown_as="holiday.jpg")
    assert str(error.value).startswith("content photo 'holiday.jpg' ") and str(tmp_path) not in str(error.value)


def test_output_size_gives_panoramas_the_pixels_of_a_two_by_one_picture():
    from painterly.images import output_size

    assert output_size((1600, 1200), 384) == (384, 288)  # up to 2:1: the long side, as before
    assert output_size((1920, 1080), 384) == (384, 216)
    assert output_size((2000, 1000), 384) == (384, 192)
    assert output_size((1200, 1600), 384) == (288, 384)
    w, h = output_size((4000, 1000), 384)  # 4:1: the pixels of 384 × 192, not 384×96
    assert (w, h) == (543, 136) and abs(w * h - 384 * 192) / (384 * 192) < 0.01
    assert output_size((1000, 4000), 384) == (136, 543)
    assert output_size((4000, 1000), 400, "height") == (1600, 400)  # the paper's height rule is untouched
