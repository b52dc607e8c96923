"""Optical flow between input frames, warping along it, where it can be trusted, and the flicker it measures.

    flow = Flow()                                  # OpenCV's DIS optical flow
    pair = flow.pair(previous_rgb, current_rgb)    # backward and forward flow, and the reliability mask
    warped = warp(previous_output, pair.backward)  # the previous output moved onto the current frame
    error = warping_error(current_output, warped, pair.mask)

Flow fields are float32 (height, width, 2) in pixels, (dx, dy). `pair.backward` is the flow from the
current frame to the previous one (for every pixel of frame t, where it was in frame t−1), which is what
warping the previous frame onto the current one needs; `pair.forward` runs from t−1 to t.

The mask follows Ruder, Dosovitskiy & Brox 2016 ("Artistic style transfer for videos", eqs. 6–7): a
pixel of frame t is unreliable when the forward–backward check fails (it was hidden in t−1:
|w_b + w_f(x + w_b)|² > 0.01 (|w_b|² + |w_f(x + w_b)|²) + 0.5) or it lies on a motion boundary
(|∇u_b|² + |∇v_b|² > 0.01 |w_b|² + 0.002), or when the flow points outside the previous frame.

The warping error is Lai et al. 2018's ("Learning blind video temporal consistency", eq. 9) with the
flow and mask of the input video: Σ M·‖O_t − warp(O_{t−1})‖² / Σ M, on RGB in 0..1, the squared
difference averaged over the three channels (as their evaluation code does, reading the mask as a
three-channel image). Lai et al. warp O_{t+1} back onto O_t with the flow from t to t+1; here O_{t−1}
is warped onto O_t with the flow from t to t−1: the same measure on the video played backwards.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

PRESETS = ("ultrafast", "fast", "medium")


@dataclass(frozen=True)
class FlowPair:
    """The flow between two consecutive frames and where it is reliable."""

    backward: np.ndarray  # float32 (H, W, 2): for each pixel of frame t, its offset to frame t−1
    forward: np.ndarray  # float32 (H, W, 2): from frame t−1 to frame t
    mask: np.ndarray  # float32 (H, W) in {0, 1}: 1 where warping frame t−1 onto t can be trusted
    previous: np.ndarray | None = None  # uint8 (H, W): the grey frame t−1 the flow was measured on
    current: np.ndarray | None = None  # uint8 (H, W): the grey frame t


class Flow:
    """DIS optical flow (Kroeger et al. 2016, OpenCV) on grey frames; `preset` trades accuracy for speed."""

    def __init__(self, preset: str = "medium"):
        import cv2

        if preset not in PRESETS:
            from ..errors import SettingsError

            raise SettingsError(f"unknown flow preset '{preset}': choose one of {', '.join(PRESETS)}")
        self.preset = preset
        self._lock = threading.Lock()  # one DIS object is not safe in two threads at once (it crashed)
        code = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}[preset]
        self._dis = cv2.DISOpticalFlow_create(code)

    def flow(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Flow from `source` to `target` (uint8 RGB or grey): float32 (H, W, 2)."""
        source, target = _grey(source), _grey(target)
        with self._lock:
            return self._dis.calc(source, target, None)

    def pair(self, previous: np.ndarray, current: np.ndarray) -> FlowPair:
        """Both flows between two consecutive frames and the reliability mask of `current`."""
        previous, current = _grey(previous), _grey(current)
        with self._lock:
            backward = self._dis.calc(current, previous, None)
            forward = self._dis.calc(previous, current, None)
        return FlowPair(backward, forward, reliability(backward, forward), previous, current)


def _grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)


def _sample_map(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def warp(image: np.ndarray, flow: np.ndarray, *, cubic: bool = False) -> np.ndarray:
    """`image` (H, W[, C]) sampled at x + flow(x), borders replicated: with the backward flow of frame
    t, frame t−1's picture moved onto frame t. Bilinear, or bicubic with `cubic` (sharper when a
    picture is warped again and again, as a video's output is). Float32 (uint8 input is converted)."""
    import cv2

    map_x, map_y = _sample_map(flow)
    return cv2.remap(np.asarray(image, dtype=np.float32), map_x, map_y, cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def reliability(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Ruder et al.'s mask for frame t from the flow t→t−1 (`backward`) and t−1→t (`forward`):
    float32 (H, W), 0 at disocclusions, motion boundaries and flow leaving the frame, 1 elsewhere."""
    height, width = backward.shape[:2]
    map_x, map_y = _sample_map(backward)
    forward_there = warp(forward, backward)  # w_f(x + w_b(x))
    occluded = _squared(backward + forward_there) > 0.01 * (_squared(backward) + _squared(forward_there)) + 0.5
    du_dy, du_dx = np.gradient(backward[..., 0])
    dv_dy, dv_dx = np.gradient(backward[..., 1])
    boundary = du_dx * du_dx + du_dy * du_dy + dv_dx * dv_dx + dv_dy * dv_dy > 0.01 * _squared(backward) + 0.002
    outside = (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    return (~(occluded | boundary | outside)).astype(np.float32)


def confidence(backward: np.ndarray, forward: np.ndarray, softness: float = 0.2) -> np.ndarray:
    """Ruder et al.'s two tests made soft: float32 (H, W) in 0..1, 1 where both pass, falling off as
    exp(−softness·(r − 1)) with r, each test's left side over its right side, past 1 — so a pixel just
    over a threshold keeps most of its weight and the mask has no hard edges; 0 where the flow leaves the
    frame."""
    height, width = backward.shape[:2]
    map_x, map_y = _sample_map(backward)
    forward_there = warp(forward, backward)
    occluded = _squared(backward + forward_there) / (0.01 * (_squared(backward) + _squared(forward_there)) + 0.5)
    du_dy, du_dx = np.gradient(backward[..., 0])
    dv_dy, dv_dx = np.gradient(backward[..., 1])
    boundary = (du_dx * du_dx + du_dy * du_dy + dv_dx * dv_dx + dv_dy * dv_dy) / (0.01 * _squared(backward) + 0.002)
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    excess = np.maximum(occluded - 1.0, 0.0) + np.maximum(boundary - 1.0, 0.0)
    return (np.exp(-softness * excess) * inside).astype(np.float32)


def _squared(vectors: np.ndarray) -> np.ndarray:
    """|v|² of (H, W, 2) vectors (written out: a sum over a last axis of 2 is slow in NumPy)."""
    return vectors[..., 0] * vectors[..., 0] + vectors[..., 1] * vectors[..., 1]


def warping_error(current: np.ndarray, warped_previous: np.ndarray, mask: np.ndarray) -> float:
    """Lai et al.'s warping error of one frame pair: Σ M·‖O_t − warp(O_{t−1})‖² / Σ M with images in
    0..255 taken to 0..1 and the squared difference averaged over channels; 0 when no pixel is reliable."""
    weight = float(mask.sum())
    if weight == 0:
        return 0.0
    difference = (np.asarray(current, np.float32) - np.asarray(warped_previous, np.float32)) / 255.0
    difference *= difference
    channels = difference.shape[-1] if difference.ndim == 3 else 1
    weighted = difference * (mask[..., None] if difference.ndim == 3 else mask)
    return float(weighted.sum(dtype=np.float64) / (channels * weight))
