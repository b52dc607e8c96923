"""How a painted video is judged, the same way for every method and mode (yardsticks for the report and the
benchmark, not objectives): its flicker, measured with nothing the painting used, and its style loss.

    flicker = Flicker("medium")            # the painting's flow preset: the meter takes another one
    flicker.add(raw_frame, output)         # per frame: dict of the measures against the previous frame
    flicker.add(raw_frame, output, painted=frame_by_frame)   # also the frame-by-frame baseline
    meter = StyleMeter(styles, settings)   # the style Grams computed once
    meter(frame)                           # float, lower is closer to the painting's style

Flicker, three numbers per frame pair (all on RGB in 0..1, squared differences averaged over channels,
so the three share their units):

* **independent warping error**: Lai et al.'s warping error (see `flow`) with a flow and reliability mask
  the painting did not use: the input frame resized with Lanczos (the run shrinks with area averaging)
  and DIS with another preset (`other_preset`). A mode that follows its own flow cannot grade itself
  with it: the painting's flow makes its own errors look like consistency.
* **frame-by-frame baseline**: the same measure on the frames as the network painted them, before any
  temporal mode (the fast method only: the optimisation has no such frames) — what `--temporal none`
  would score on this clip.
* **still-region flicker**: no flow at all, the mean squared frame-to-frame change of the output on the
  pixels where the input does not change (`still_pixels`: the grey input, lightly blurred, moves by less
  than `STILL_LEVEL` grey levels). A still wall that boils scores high whatever any flow says.

Style loss: over VGG features, the mean over style layers of the relative squared Gram error
Σ(G − A)² / ΣA², each Gram divided by its own H·W (as painterly's normalised losses), with the style
image at the frame's longest side (never enlarged).
"""

from __future__ import annotations

import numpy as np

from .. import images
from ..settings import Settings
from .flow import PRESETS, Flow, warp, warping_error

STILL_LEVEL = 2.0  # grey levels (of 255) the blurred input may change by and still count as still
STILL_BLUR = 1.0  # the Gaussian's sigma in pixels, against the sensor's and the codec's noise


def other_preset(preset: str) -> str:
    """The DIS preset the independent measure uses beside the painting's `preset`."""
    return "fast" if preset == "medium" else "medium"


def still_pixels(previous: np.ndarray, current: np.ndarray, level: float = STILL_LEVEL) -> np.ndarray:
    """bool (H, W): where the input (uint8 RGB) did not change from `previous` to `current`."""
    import cv2

    grey = [cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(f, np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32),
                             (0, 0), STILL_BLUR) for f in (previous, current)]
    return np.abs(grey[1] - grey[0]) < level


def still_flicker(previous: np.ndarray, current: np.ndarray, still: np.ndarray) -> float | None:
    """Mean squared change of the output (0..255 RGB taken to 0..1, averaged over channels) on `still`
    pixels; None when no pixel is still."""
    count = int(still.sum())
    if count == 0:
        return None
    difference = (np.asarray(current, np.float32)[still] - np.asarray(previous, np.float32)[still]) / 255.0
    return float(np.mean(difference * difference, dtype=np.float64))


class Flicker:
    """The flicker measures of a run, frame by frame (see the module's text); `preset`: the painting's DIS
    preset, which this meter does not use. Frames go in in order, the input as decoded (`raw`), before
    any resizing, the output at the painted size."""

    def __init__(self, preset: str = "medium"):
        self.flow = Flow(other_preset(preset) if preset in PRESETS else "medium")
        self.previous = None  # (input resized with Lanczos, output, frame-by-frame painting or None)

    def add(self, raw: np.ndarray, output: np.ndarray, painted: np.ndarray | None = None) -> dict:
        """The measures of `output` against the previous frame's (all None for the first frame)."""
        import cv2

        height, width = np.asarray(output).shape[:2]
        raw = np.ascontiguousarray(raw, np.uint8)
        frame = raw if raw.shape[:2] == (height, width) else cv2.resize(raw, (width, height),
                                                                         interpolation=cv2.INTER_LANCZOS4)
        output = np.asarray(output, np.float32)
        painted = None if painted is None else np.clip(np.asarray(painted, np.float32), 0, 255)
        result = {"independent_warping_error": None, "independent_reliable": None,
                  "frame_by_frame_warping_error": None, "still_flicker": None, "still_share": None}
        if self.previous is not None:
            last_frame, last_output, last_painted = self.previous
            pair = self.flow.pair(last_frame, frame)
            still = still_pixels(last_frame, frame)
            result.update(independent_warping_error=warping_error(output, warp(last_output, pair.backward), pair.mask),
                          independent_reliable=float(pair.mask.mean()), still_share=float(still.mean()),
                          still_flicker=still_flicker(last_output, output, still))
            if painted is not None and last_painted is not None:
                result["frame_by_frame_warping_error"] = warping_error(painted, warp(last_painted, pair.backward),
                                                                       pair.mask)
        self.previous = (frame, output, painted)
        return result


def summarise(records: list[dict]) -> dict:
    """The run's flicker: the mean of each measure over the frames that have it (None where none has),
    and the ratio of the independent warping error to the frame-by-frame baseline's."""
    names = ("independent_warping_error", "frame_by_frame_warping_error", "still_flicker", "independent_reliable")
    means = {}
    for name in names:
        values = [r[name] for r in records if r.get(name) is not None]
        means[name] = float(np.mean(values)) if values else None
    error, base = means["independent_warping_error"], means["frame_by_frame_warping_error"]
    means["ratio_to_frame_by_frame"] = error / base if error is not None and base else None
    return means


class StyleMeter:
    """Style loss of frames against fixed style images (several blended by `settings.style_blend`)."""

    def __init__(self, styles: list[np.ndarray], settings: Settings, side: int, *, backbone=None, notice=None):
        from .. import backbones

        self.layers = tuple(settings.style_layers)
        if backbone is None:
            model = backbones.resolve_auto(settings.weights, notice) if settings.model == "auto" else settings.model
            backbone = backbones.build(model, self.layers, weights=settings.weights, pooling=settings.pooling,
                                       border=settings.border)
        self.backbone = backbone
        weights = np.asarray(settings.style_blend or [1.0] * len(styles), np.float64)
        weights = weights / weights.sum()
        grams = []
        for style in styles:
            shape = images.style_shape((style.shape[1], style.shape[0]), side, settings.style_scale)
            grams.append(self._grams(images.resize(style, shape)))
        self.targets = {name: sum(w * g[name] for w, g in zip(weights, grams)) for name in self.layers}
        self.name = backbone.name

    def _grams(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        import tensorflow as tf

        features = self.backbone(tf.constant(np.asarray(rgb, np.float32)[None]))
        grams = {}
        for name in self.layers:
            value = features[name][0]
            channels = value.shape[-1]
            flat = tf.reshape(value, (-1, channels))
            grams[name] = (tf.matmul(flat, flat, transpose_a=True) / float(flat.shape[0])).numpy().astype(np.float64)
        return grams

    def __call__(self, frame: np.ndarray) -> float:
        grams = self._grams(frame)
        errors = [((grams[n] - self.targets[n]) ** 2).sum() / (self.targets[n] ** 2).sum() for n in self.layers]
        return float(np.mean(errors))


def pace(seconds_per_frame: float | None) -> str:
    """How fast frames are made, readable at any speed: "12.5 frames/s", or "4.2 s/frame" below one a second
    ("" when unknown)."""
    if not seconds_per_frame or seconds_per_frame <= 0:
        return ""
    if seconds_per_frame > 1.0:
        return f"{seconds_per_frame:.1f} s/frame"
    return f"{1.0 / seconds_per_frame:.1f} frames/s"


def headline(flicker: dict, own: float | None = None) -> str:
    """The flicker in one phrase: the independent warping error against frame by frame's (and the number
    with the painting's own flow, said to be that), then the still-region flicker."""
    parts = []
    error, base = flicker.get("independent_warping_error"), flicker.get("frame_by_frame_warping_error")
    if error is not None:
        notes = [f"frame by frame {base:.3g}: {error / base:.2f}×"] if base else []
        notes += [f"the painting's own flow says {own:.3g}"] if own is not None else []
        said = f" ({'; '.join(notes)})" if notes else ""
        parts.append(f"warping error {error:.3g} with an independent flow{said}")
    elif own is not None:
        parts.append(f"warping error {own:.3g} with the painting's own flow")
    if flicker.get("still_flicker") is not None:
        parts.append(f"still-region flicker {flicker['still_flicker']:.3g}")
    return ", ".join(parts)
