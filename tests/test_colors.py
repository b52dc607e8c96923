"""Colour preservation: YIQ conversions, luminance transfer and colour histogram matching."""

import numpy as np
import pytest

from painterly import colors


def mid_range(rng, shape, mix, centre=128.0):
    """Pixels `centre + mix @ z` with z uniform in [-1, 1]: correlated channels that never clip."""
    z = rng.uniform(-1.0, 1.0, size=(*shape, 3))
    return (centre + z @ np.asarray(mix, dtype=np.float64).T).astype(np.float32)


def stats(pixels):
    pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 3)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


# --- YIQ ----------------------------------------------------------------------------------------


def test_yiq_round_trip():
    rgb = np.random.default_rng(0).uniform(0, 255, size=(7, 9, 3))
    yiq = colors.rgb_to_yiq(rgb)
    assert yiq.dtype == np.float32 and yiq.shape == rgb.shape
    back = colors.yiq_to_rgb(yiq)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, rgb, atol=1e-4)


def test_white_and_greys_have_no_chroma():
    white = colors.rgb_to_yiq(np.full((1, 1, 3), 255.0))
    np.testing.assert_allclose(white[0, 0], [255.0, 0.0, 0.0], atol=1e-3)
    greys = np.repeat(np.linspace(0, 255, 11)[:, None], 3, axis=1)
    yiq = colors.rgb_to_yiq(greys)
    np.testing.assert_allclose(yiq[:, 0], greys[:, 0], atol=1e-3)
    np.testing.assert_allclose(yiq[:, 1:], 0.0, atol=1e-3)


def test_primary_colours_use_ntsc_luma():
    yiq = colors.rgb_to_yiq(np.diag([255.0, 255.0, 255.0]))
    np.testing.assert_allclose(yiq[:, 0], [0.299 * 255, 0.587 * 255, 0.114 * 255], atol=0.01)
    assert yiq[0, 1] > 0 > yiq[1, 1]  # red is warm (I > 0), green is not


def test_rejects_arrays_without_three_channels():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        colors.rgb_to_yiq(np.zeros((4, 4, 4)))


# --- luminance transfer ------------------------------------------------------------------------


def test_luminance_replicates_y():
    rgb = np.random.default_rng(1).uniform(0, 255, size=(5, 6, 3)).astype(np.float32)
    grey = colors.luminance(rgb)
    assert grey.shape == rgb.shape and grey.dtype == np.float32
    np.testing.assert_array_equal(grey[..., 0], grey[..., 1])
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])
    np.testing.assert_allclose(grey[..., 0], colors.rgb_to_yiq(rgb)[..., 0], atol=1e-4)


def test_recombine_takes_luma_from_stylized_and_chroma_from_content():
    rng = np.random.default_rng(2)
    content = mid_range(rng, (12, 10), [[30, 5, 0], [5, 25, 5], [0, 5, 30]])
    stylized = mid_range(rng, (12, 10), [[20, 0, 0], [0, 20, 0], [0, 0, 20]])
    out = colors.recombine(stylized, content)
    assert out.shape == content.shape and out.dtype == np.float32
    assert 0.0 < out.min() and out.max() < 255.0  # nothing clipped: the comparisons below are fair
    out_yiq, content_yiq = colors.rgb_to_yiq(out), colors.rgb_to_yiq(content)
    np.testing.assert_allclose(out_yiq[..., 1:], content_yiq[..., 1:], atol=0.5)
    np.testing.assert_allclose(out_yiq[..., 0], colors.rgb_to_yiq(stylized)[..., 0], atol=1e-3)


def test_recombine_with_itself_is_identity():
    content = np.random.default_rng(3).uniform(0, 255, size=(8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(colors.recombine(content, content), content, atol=1e-3)


def test_recombine_clips_and_checks_shapes():
    black, red = np.zeros((2, 2, 3)), np.zeros((2, 2, 3))
    red[..., 0] = 255.0
    out = colors.recombine(np.full((2, 2, 3), 255.0), red)  # white's Y with red's I, Q overflows
    assert out.min() >= 0.0 and out.max() <= 255.0
    with pytest.raises(ValueError, match="differ"):
        colors.recombine(black, np.zeros((3, 2, 3)))


def test_match_luminance_matches_mean_and_std_and_keeps_order():
    rng = np.random.default_rng(4)
    style = colors.luminance(rng.uniform(0, 255, size=(9, 11, 3)))
    content = colors.luminance(mid_range(rng, (13, 7), np.eye(3) * 40))
    out = colors.match_luminance(style, content)
    assert out.shape == style.shape and out.dtype == np.float32
    assert out.mean() == pytest.approx(content.astype(np.float64).mean(), abs=1e-3)
    assert out.std() == pytest.approx(content.astype(np.float64).std(), abs=1e-3)
    order = np.argsort(style[..., 0], axis=None)
    assert np.all(np.diff(out[..., 0].ravel()[order]) >= 0)


def test_match_luminance_of_flat_style_is_content_mean():
    content = colors.luminance(np.random.default_rng(5).uniform(0, 255, size=(4, 4, 3)))
    out = colors.match_luminance(np.full((3, 3, 3), 77.0), content)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, content.astype(np.float64).mean(), atol=1e-3)


# --- colour histogram matching -----------------------------------------------------------------


def test_match_colors_matches_mean_and_covariance():
    rng = np.random.default_rng(6)
    style = mid_range(rng, (40, 30), [[60, 20, -10], [10, 50, 5], [-5, 15, 45]], centre=120.0)
    content = mid_range(rng, (24, 36), [[25, 10, 5], [10, 30, 0], [5, 0, 20]], centre=135.0)
    out = colors.match_colors(style, content)
    assert out.shape == style.shape and out.dtype == np.float32
    assert 0.0 < out.min() and out.max() < 255.0  # nothing clipped
    out_mean, out_cov = stats(out)
    content_mean, content_cov = stats(content)
    np.testing.assert_allclose(out_mean, content_mean, rtol=1e-3)
    scale = np.abs(content_cov).max()
    np.testing.assert_allclose(out_cov, content_cov, rtol=0.01, atol=0.01 * scale)


def test_color_transform_is_exact_before_clipping():
    rng = np.random.default_rng(7)
    mix = np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0.2, 0.0, 1.0]])
    style = rng.uniform(0, 255, size=(50, 3)) @ mix
    content = rng.normal(100, 40, size=(70, 3))
    a, b = colors._color_transform(style, content)
    out_mean, out_cov = stats(style @ a.T + b)
    content_mean, content_cov = stats(content)
    np.testing.assert_allclose(out_mean, content_mean, rtol=1e-9)
    np.testing.assert_allclose(out_cov, content_cov, rtol=1e-4, atol=1e-4)


def test_color_transform_of_an_image_onto_itself_is_identity():
    pixels = np.random.default_rng(11).uniform(0, 255, size=(60, 3))
    a, b = colors._color_transform(pixels, pixels)
    np.testing.assert_allclose(a, np.eye(3), atol=1e-4)
    np.testing.assert_allclose(b, 0.0, atol=1e-2)


@pytest.mark.parametrize(
    "style",
    [
        np.full((6, 5, 3), 90.0),  # constant
        np.repeat(np.random.default_rng(8).uniform(0, 255, size=(6, 5, 1)), 3, axis=-1),  # grey
    ],
    ids=["constant", "grey"],
)
def test_match_colors_survives_degenerate_styles(style):
    content = np.random.default_rng(9).uniform(0, 255, size=(4, 7, 3))
    out = colors.match_colors(style, content)
    assert out.shape == style.shape
    assert np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 255.0
    if np.ptp(style) == 0:
        expected = np.broadcast_to(content.mean(axis=(0, 1)), style.shape)
        np.testing.assert_allclose(out, expected, atol=1e-3)


def test_match_colors_with_grey_content_gives_grey():
    rng = np.random.default_rng(10)
    content = np.repeat(rng.uniform(60, 200, size=(5, 5, 1)), 3, axis=-1)
    out = colors.match_colors(rng.uniform(0, 255, size=(8, 3, 3)), content)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-2)
    np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-2)


def test_modes():
    assert colors.MODES == ("none", "luminance", "histogram")
