"""Temporal consistency for the fast method: each frame painted by the feed-forward network, then made
consistent with the previous output.

    painter = FastFrames(styles, settings, size, first_frame)   # the style vector computed once
    mode = TEMPORAL["flow"](weight=0.9)
    for frame, pair in ...:
        output = mode(painter.paint(frame), previous_output, pair)

The modes (`TEMPORAL`, by name):

* ``none``: frame by frame, each frame from its own photo (the baseline that flickers);
* ``blend``: plain blending with the previous output, out = a·prev + (1−a)·new — what other tools do; it
  smears anything that moves;
* ``flow`` (`steady_blend`): still stays still, moving stays sharp. out = new + A·(warp(prev, F) − new),
  the previous output carried per pixel (`carry`):

  - where the input itself did not change (its blurred grey moves by less than `STILL_LEVEL` — no flow
    asked), the flow F is zero and the previous output is carried as it is, with a share of
    `STILL_WEIGHT` far from anything that moves and `NEAR_WEIGHT` within `NEAR` of a strong change
    (over `NEAR_LEVEL`): the painting's halo around a moving thing changes though the pixels under it
    do not, and held hard it would stay behind as a comb of stripes in the thing's wake. DIS flow on a
    blank wall is noise of a pixel or more: followed, it makes the wall boil;
  - elsewhere, F is the input's DIS flow and the share is a·C: a (the weight) times a soft confidence C,
    Ruder et al.'s two tests made soft (`flow.confidence`), so a pixel just past a threshold keeps most
    of its weight and no hard-edged fragments of the new frame punch through;
  - the two blend smoothly by how still the input is (no all-or-nothing mask edges).

  Nothing is kept between frames but the previous output, so a resumed run gives the same frames. The
  candidates measured on the way (longer memory, a photometric test, other radii) are in docs/VIDEO.md.
* `flow_blend`, the previous ``flow`` (kept for the benchmark): the previous output warped along the
  flow and blended in where Ruder et al.'s mask is 1: out = new + a·M·(warp(prev) − new), the new frame
  as it is where the mask is 0. It boils on textureless still regions (see docs/VIDEO.md).

Everything a still applies here too: several styles blended, `style_strength` (moved toward the
first frame's own style vector, kept for the whole video so the strength does not flicker),
`style_scale`, `preserve_color` (histogram: the styles recoloured to the first frame's colours, once;
luminance: each painted frame's luminance with its own photo's chroma) and `tile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import colors, feedforward, images
from ..methods.fast import paint_picture
from ..settings import Settings
from .flow import FlowPair, confidence, warp

STILL_LEVEL = 3.0  # grey levels: the blurred input changing by under half of it is still, by over 1.5× moving
STILL_BLUR = 1.5  # sigma (px) of the blur on the grey input before the frame difference (noise, codec)
NEAR_LEVEL = 12.0  # grey levels: a change this strong makes the pixels around it "near" something moving
NEAR = 1 / 12  # share of the frame's long side within which a still pixel is near something moving
STILL_WEIGHT = 0.95  # the previous output's share on still pixels far from motion
NEAR_WEIGHT = 0.6  # … on still pixels right beside a strong change (rising to STILL_WEIGHT at NEAR)
SOFTNESS = 0.1  # of the soft Ruder tests (`flow.confidence`)


class FastFrames:
    """The fast method for a sequence of frames: the style vector computed once (from the first frame), then
    each frame painted by the still's painting (`methods.fast.paint_picture`) with it, in tiles of `tile` px."""

    def __init__(self, styles: list[np.ndarray], settings: Settings, size: tuple[int, int], first: np.ndarray, *,
                 network: feedforward.FastNetwork | None = None, tile: int | None = None):
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

    def paint(self, frame: np.ndarray) -> np.ndarray:
        """`frame` (uint8 RGB at the output's size) painted: float32 RGB in 0..255."""
        return paint_picture(frame, [], self.settings, self.size, network=self.network, tile=self.tile,
                             vector=self.vector)


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


@dataclass(frozen=True)
class Carried:
    """How the previous output is carried onto the current frame (see `carry`)."""

    flow: np.ndarray  # float32 (H, W, 2): the flow to warp it with (zero where the input did not change)
    confidence: np.ndarray  # float32 (H, W) in 0..1: how far the warped previous output can be trusted
    share: np.ndarray  # float32 (H, W) in 0..1: the previous output's share in the fast method's blend
    still: np.ndarray  # float32 (H, W) in 0..1: the input did not change there


def _blurred(grey: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(np.asarray(grey, np.float32), (0, 0), STILL_BLUR)


def carry(pair: FlowPair, weight: float) -> Carried:
    """The steady mode's flow, confidence and share for the frame `pair` ends at (the module's text);
    `weight`: a, the share on moving pixels where the flow is trusted. A pair made without its frames
    gets the flow as it is and Ruder et al.'s mask."""
    import cv2

    if pair.previous is None or pair.current is None:
        return Carried(pair.backward, pair.mask, weight * pair.mask, np.zeros_like(pair.mask))
    previous, current = _blurred(pair.previous), _blurred(pair.current)
    change = np.abs(current - previous)
    still = np.clip(1.5 - change / STILL_LEVEL, 0.0, 1.0).astype(np.float32)
    moving = (change > NEAR_LEVEL).astype(np.uint8)
    near = max(1.0, NEAR * max(still.shape))
    if moving.any():
        far = np.clip(cv2.distanceTransform(1 - moving, cv2.DIST_L2, 3) / near, 0.0, 1.0).astype(np.float32)
    else:
        far = np.ones_like(still)
    flow = pair.backward * (1.0 - still)[..., None]
    trusted = np.maximum(confidence(pair.backward, pair.forward, SOFTNESS), still)
    held = NEAR_WEIGHT + (STILL_WEIGHT - NEAR_WEIGHT) * far
    share = (weight * (1.0 - still) + held * still) * trusted
    return Carried(flow.astype(np.float32), trusted.astype(np.float32), share.astype(np.float32), still)


def steady_blend(weight: float = 0.9) -> Combine:
    """out = new + A·(warp(previous, F) − new) with `carry`'s flow F and share A (`weight`: a)."""
    def combine(new, previous, pair):
        if previous is None or pair is None:
            return new
        carried = carry(pair, weight)
        warped = warp(previous, carried.flow, cubic=True)
        return new + carried.share[..., None] * (warped - new)
    return combine


TEMPORAL: dict[str, Callable[[float], Combine]] = {"none": frame_by_frame, "blend": plain_blend,
                                                   "flow": steady_blend}
DEFAULT_WEIGHT = {"none": 0.0, "blend": 0.8, "flow": 0.9}
