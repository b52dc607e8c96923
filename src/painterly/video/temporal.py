"""Temporal consistency for the fast method: each frame painted by the feed-forward network, then made
consistent with the previous output.

    painter = FastFrames(styles, settings, size, first_frame)   # the style vector computed once
    mode = TEMPORAL["flow"](weight=0.8)
    for frame, pair in ...:
        output = mode(painter.paint(frame), previous_output, pair)

The modes (`TEMPORAL`, by name):

* ``none``: frame by frame, each frame from its own photo (the baseline that flickers);
* ``blend``: plain blending with the previous output, out = a·prev + (1−a)·new — what other tools do; it
  smears anything that moves;
* ``flow``: the previous output warped along the input's optical flow and blended in where the flow is
  reliable (Ruder et al.'s mask): out = new + a·M·(warp(prev) − new). Where the mask is 0 (disoccluded
  or on a motion boundary) the new frame is taken as it is.

Everything a still applies here too: several styles blended, `style_strength` (moved toward the
first frame's own style vector, kept for the whole video so the strength does not flicker),
`style_scale`, `preserve_color` (histogram: the styles recoloured to the first frame's colours, once;
luminance: each painted frame's luminance with its own photo's chroma) and `tile`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import colors, feedforward, images
from ..settings import Settings
from .flow import FlowPair, warp


class FastFrames:
    """The fast method for a sequence of frames: the style vector computed once, then one pass a frame."""

    def __init__(self, styles: list[np.ndarray], settings: Settings, size: tuple[int, int], first: np.ndarray, *,
                 network: feedforward.FastNetwork | None = None, tile: int | None = None):
        from ..methods.fast import painted_size

        self.settings, self.size, self.tile = settings, size, tile
        self.network = network if network is not None else feedforward.network()
        photo = images.resize(first, size)
        if settings.preserve_color == "histogram":
            styles = [colors.match_colors(style, photo) for style in styles]
        weights = settings.style_blend or [1.0] * len(styles)
        vector = feedforward.blend_vectors([self.network.style_vector(s) for s in styles], weights)
        if settings.style_strength != 1.0:
            vector = feedforward.with_strength(vector, self.network.style_vector(photo), settings.style_strength)
        self.vector = vector
        self.painted_size = painted_size((first.shape[1], first.shape[0]), size, settings.style_scale)

    def paint(self, frame: np.ndarray) -> np.ndarray:
        """`frame` (uint8 RGB at the output's size) painted: float32 RGB in 0..255."""
        photo = np.asarray(frame, np.float32)
        source = photo if self.painted_size == self.size else images.resize(photo, self.painted_size)
        out = self.network.paint(source, self.vector, tile=self.tile)
        if self.painted_size != self.size:
            out = images.resize(out, self.size)
        if self.settings.preserve_color == "luminance":
            out = colors.recombine(out, photo)
        return np.clip(out, 0.0, 255.0).astype(np.float32)


Combine = Callable[[np.ndarray, "np.ndarray | None", "FlowPair | None"], np.ndarray]


def frame_by_frame(weight: float = 0.0) -> Combine:
    """Each frame as the network painted it."""
    def combine(new, previous, pair):
        return new
    return combine


def plain_blend(weight: float = 0.8) -> Combine:
    """out = a·previous + (1−a)·new, ignoring motion."""
    def combine(new, previous, pair):
        if previous is None:
            return new
        return weight * np.asarray(previous, np.float32) + (1.0 - weight) * new
    return combine


def flow_blend(weight: float = 0.8) -> Combine:
    """out = new + a·M·(warp(previous) − new): the previous output carried along the flow where reliable."""
    def combine(new, previous, pair):
        if previous is None or pair is None:
            return new
        warped = warp(previous, pair.backward, cubic=True)
        return new + (weight * pair.mask)[..., None] * (warped - new)
    return combine


TEMPORAL: dict[str, Callable[[float], Combine]] = {"none": frame_by_frame, "blend": plain_blend, "flow": flow_blend}
DEFAULT_WEIGHT = {"none": 0.0, "blend": 0.8, "flow": 0.8}
