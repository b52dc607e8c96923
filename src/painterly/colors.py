"""Keeping the content image's colours (Gatys, Bethge, Hertzmann & Shechtman, 2016).

NumPy only; nothing is done at import time. Images are RGB arrays shaped (..., 3) holding
0..255; the maths runs in float64 and every public function returns float32.

Two ways, named in MODES (plus "none", which leaves colours alone):
- "luminance": transfer style on grey images (`luminance`), the style's grey first matched to the
  content's mean and spread (`match_luminance`), then give the result the content's colour
  (`recombine`): its Y with the content's I and Q.
- "histogram": before the transfer, recolour the style image so its pixels have the content's
  mean and 3x3 covariance (`match_colors`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

MODES = ("none", "luminance", "histogram")

# NTSC (FCC) RGB -> YIQ. Each chroma row sums to 0, so greys have I = Q = 0 and white has Y = 255.
_RGB_TO_YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.5959, -0.2746, -0.3213],
        [0.2115, -0.5227, 0.3112],
    ]
)


@cache
def _yiq_to_rgb_matrix() -> np.ndarray:
    """The exact inverse of _RGB_TO_YIQ (computed once, on first use)."""
    return np.linalg.inv(_RGB_TO_YIQ)


def _as_rgb(array, name: str) -> np.ndarray:
    """`array` as float64 (..., 3); ValueError if its last axis is not 3."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0 or array.shape[-1] != 3:
        raise ValueError(f"{name} must be shaped (..., 3), got {array.shape}")
    return array


def _to_yiq(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _RGB_TO_YIQ.T


def _to_rgb(yiq: np.ndarray) -> np.ndarray:
    return yiq @ _yiq_to_rgb_matrix().T


def rgb_to_yiq(rgb: np.ndarray) -> np.ndarray:
    """RGB 0..255 (..., 3) -> YIQ: Y in 0..255, I and Q signed. float32."""
    return _to_yiq(_as_rgb(rgb, "rgb")).astype(np.float32)


def yiq_to_rgb(yiq: np.ndarray) -> np.ndarray:
    """YIQ (..., 3) -> RGB, the exact inverse of rgb_to_yiq (not clipped). float32."""
    return _to_rgb(_as_rgb(yiq, "yiq")).astype(np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """The grey image the transfer runs on: Y replicated to three channels, float32 (..., 3)."""
    y = _to_yiq(_as_rgb(rgb, "rgb"))[..., :1]
    return np.repeat(y, 3, axis=-1).astype(np.float32)


def match_luminance(style_y: np.ndarray, content_y: np.ndarray) -> np.ndarray:
    """Map the style's grey linearly so its mean and standard deviation equal the content's.

    Works on any shape (typically the 3-channel greys from `luminance`); returns style_y's shape,
    float32. Not clipped, so the statistics match exactly (values may leave 0..255 a little). A flat
    style becomes the content's mean.
    """
    style = np.asarray(style_y, dtype=np.float64)
    content = np.asarray(content_y, dtype=np.float64)
    style_std = style.std()
    scale = content.std() / style_std if style_std > 1e-8 else 0.0
    return ((style - style.mean()) * scale + content.mean()).astype(np.float32)


def recombine(stylized_rgb: np.ndarray, content_rgb: np.ndarray) -> np.ndarray:
    """The stylized image's Y with the content's I and Q, as RGB clipped to 0..255, float32.

    Both images must have the same shape: resize the content to the output size first.
    """
    stylized = _as_rgb(stylized_rgb, "stylized_rgb")
    content = _as_rgb(content_rgb, "content_rgb")
    if stylized.shape != content.shape:
        raise ValueError(f"stylized {stylized.shape} and content {content.shape} shapes differ")
    yiq = _to_yiq(content)
    yiq[..., 0] = _to_yiq(stylized)[..., 0]
    return np.clip(_to_rgb(yiq), 0.0, 255.0).astype(np.float32)


def _color_transform(style: np.ndarray, content: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A (3, 3), b (3,): x' = A x + b gives the style's pixels the content's mean and covariance.

    A = Σc^½ Σs^-½ (symmetric square roots from eigh), b = μc − A μs. Σs gets a small ridge so grey
    or flat styles stay finite; negative eigenvalues from rounding are treated as zero.
    """
    style_pixels = style.reshape(-1, 3)
    content_pixels = content.reshape(-1, 3)
    style_mean, content_mean = style_pixels.mean(axis=0), content_pixels.mean(axis=0)
    style_cov = np.cov(style_pixels, rowvar=False, bias=True)
    content_cov = np.cov(content_pixels, rowvar=False, bias=True)

    ridge = 1e-5 * np.trace(style_cov) / 3 + 1e-8
    values, vectors = np.linalg.eigh(style_cov + ridge * np.eye(3))
    style_inv_sqrt = (vectors / np.sqrt(values)) @ vectors.T
    values, vectors = np.linalg.eigh(content_cov)
    content_sqrt = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T

    a = content_sqrt @ style_inv_sqrt
    return a, content_mean - a @ style_mean


def match_colors(style_rgb: np.ndarray, content_rgb: np.ndarray) -> np.ndarray:
    """Recolour the style so its pixels' mean and 3x3 covariance equal the content's.

    Gatys et al.'s colour histogram matching, x' = A x + b with A = Σc^½ Σs^-½. The images may
    differ in size; returns the style's shape, float32, clipped to 0..255.
    """
    style = _as_rgb(style_rgb, "style_rgb")
    content = _as_rgb(content_rgb, "content_rgb")
    a, b = _color_transform(style, content)
    return np.clip(style @ a.T + b, 0.0, 255.0).astype(np.float32)
