"""The style loss of a painted frame, measured the same way for every method and mode (a yardstick for the
report and the benchmark, not an objective): over VGG features, the mean over style layers of the relative
squared Gram error Σ(G − A)² / ΣA², each Gram divided by its own H·W (as painterly's normalised losses),
with the style image at the frame's longest side (never enlarged).

    meter = StyleMeter(styles, settings)   # the style Grams computed once
    meter(frame)                           # float, lower is closer to the painting's style
"""

from __future__ import annotations

import numpy as np

from .. import images
from ..settings import Settings


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
