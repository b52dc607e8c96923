"""The paper's optimisation loop, written fresh after the keras.io example it adapts, as a yardstick.

Its structure is keras.io's: a feature model returning *every* layer of the whole VGG by name; each
step runs that model on one batch of three images (content, style, the image being optimised), so
the content and style features are recomputed at every step; the loss and its gradient come from a
`tf.GradientTape` inside one `tf.function`; Keras' SGD with an exponential decay of the learning rate
(× 0.96 every 100 steps) updates the preprocessed (BGR, mean-subtracted) image; no clipping until the
image is saved. The style image is resized to the content's size, as keras.io does.

What is *not* keras.io's is the objective, so that the benchmark compares loops, not objectives: the
loss terms are painterly's own pure functions (`painterly.losses`) with painterly's layers, weights
and normalisation, on the same vgg16-hed weights. With `border="zero"` painterly's `Objective`
computes exactly this loss (tests/test_bench.py checks it), which is how the two runs' images are
compared.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from painterly import backbones, images, settings
from painterly.losses import content_loss, gram, style_loss, total_variation

# SGD's initial rate for painterly's normalised objective (keras.io's 100 is for its raw sums), the
# best by loss after 40 steps at 256 px on tubingen × starry night: 1e3 → 5.2 (after 60), 1e5 → 1.58,
# 3e5 → 0.83, 1e6 → 0.67 (from 5.65; 1e6 already overshoots now and then, so larger rates were not tried).
LEARNING_RATE = 1e6


def vgg16_hed_dict_model():
    """keras.io's feature extractor on the offline weights: the whole VGG16, every layer's output by name."""
    import keras

    net = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    backbones._load_hed(net, backbones.hed_weights_path())
    outputs = {layer.name: layer.output for layer in net.layers if layer.name != net.layers[0].name}
    return keras.Model(inputs=net.inputs, outputs=outputs)


class ReferenceLoop:
    """keras.io's loop: `for loss in loop.steps(n)` runs n SGD steps; `loop.image()` is the RGB result."""

    def __init__(self, content: np.ndarray, style: np.ndarray, *, model=None,
                 content_layers: Sequence[str] = settings.RELATIVE["content_layers"],
                 style_layers: Sequence[str] = settings.STYLE_LAYERS,
                 content_weight: float = 1.0, style_weight: float = 10.0, tv_weight: float = 1.0,
                 normalize: bool = True, learning_rate: float = LEARNING_RATE):
        """content, style: (H, W, 3) RGB arrays in 0..255; the style is resized to the content's size."""
        import keras
        import tensorflow as tf

        height, width = content.shape[:2]
        style = images.resize(style, (width, height))
        self.model = model if model is not None else vgg16_hed_dict_model()
        self.base = tf.constant(_preprocess(content))
        self.style = tf.constant(_preprocess(style))
        self.combination = tf.Variable(_preprocess(content))
        self.content_layers, self.style_layers = tuple(content_layers), tuple(style_layers)
        self.weights = (content_weight, style_weight, tv_weight)
        self.normalize = normalize
        self.learning_rate = learning_rate
        schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, decay_steps=100, decay_rate=0.96)
        self.optimizer = keras.optimizers.SGD(schedule)
        self._loss_and_grads = tf.function(self._loss_and_grads_eager)

    def loss(self, combination):
        """α·content + β·mean over style layers + TV, on a batch of the three images (recomputed each time)."""
        import tensorflow as tf

        features = self.model(tf.concat([self.base, self.style, combination], axis=0))
        alpha, beta, tv = self.weights
        content = tf.add_n([content_loss(features[n][2:3], features[n][0:1], self.normalize)
                            for n in self.content_layers]) / len(self.content_layers)
        style = tf.add_n([style_loss(features[n][2:3], gram(features[n][1:2]), self.normalize)
                          for n in self.style_layers]) / len(self.style_layers)
        return alpha * content + beta * style + tv * total_variation(_rgb(combination), self.normalize)

    def _loss_and_grads_eager(self, combination):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = self.loss(combination)
        return loss, tape.gradient(loss, combination)

    def steps(self, iterations: int) -> Iterator[float]:
        """Run `iterations` SGD steps, yielding the loss each step was computed at (before its update)."""
        for _ in range(iterations):
            loss, grads = self._loss_and_grads(self.combination)
            self.optimizer.apply_gradients([(grads, self.combination)])
            yield float(loss)

    def image(self, clip: bool = True) -> np.ndarray:
        """The current image as RGB (H, W, 3), clipped to 0..255 as keras.io's deprocessing does."""
        rgb = _rgb(self.combination).numpy()[0]
        return np.clip(rgb, 0, 255) if clip else rgb


def _preprocess(rgb: np.ndarray) -> np.ndarray:
    """keras.applications caffe preprocessing of one RGB image: (1, H, W, 3) BGR minus the ImageNet mean."""
    return (np.asarray(rgb, np.float32)[..., ::-1] - np.float32(backbones.BGR_MEAN))[None].copy()


def _rgb(bgr):
    """Back from the preprocessed batch to RGB 0..255 (unclipped)."""
    import tensorflow as tf

    return tf.reverse(bgr + tf.constant(backbones.BGR_MEAN, bgr.dtype), axis=[-1])
