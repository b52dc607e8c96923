"""Loss terms of neural style transfer and the `Objective` that weighs them.

The terms are pure functions of tensors:
- content: the paper's sum of squared feature differences at the content layers;
- style: squared differences of Gram matrices at the style layers, with Gatys et al.'s normalisation
  1 / (4 C_l^2 (H_l W_l)^2) using each layer's own channel count C_l and size H_l W_l (the paper's
  code fixes C = 3 and uses the image size for every layer, which lets shallow, wide layers dominate);
- total variation: the keras.io example's sum of (dx^2 + dy^2)^1.25 over the image.

With `normalize=True` (painterly's default) every content and style term is a *relative* squared
error: divided by the squared size of its target, sum(P^2) or sum(A^2). Scaling a network's features
by any factor leaves these terms unchanged, so weights mean the same on every backbone, and the
terms stay quadratic, so α and β trade off smoothly. With `normalize=False` the terms are exactly
the paper's, for reproducing it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import tensorflow as tf

EPS = 1e-8  # keeps the TV power differentiable at 0
TINY = 1e-30  # guards a relative error against an all-zero target, without biasing small ones
# float16 backward passes multiply the loss by this before differentiating (and divide the gradient by
# it after), so the per-pixel gradients, about 1e-6 at 512 px, do not underflow float16.
FLOAT16_LOSS_SCALE = 2.0**16


def gram(features: tf.Tensor) -> tf.Tensor:
    """Gram matrix of (1, H, W, C) or (H, W, C) features, divided by H * W: shape (C, C)."""
    channels = tf.shape(features)[-1]
    flat = tf.reshape(features, (-1, channels))
    return tf.matmul(flat, flat, transpose_a=True) / tf.cast(tf.shape(flat)[0], features.dtype)


def relative_squared_error(value: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """sum((x - t)^2) / sum(t^2): unchanged when both are scaled by the same factor."""
    return tf.reduce_sum(tf.square(value - target)) / (tf.reduce_sum(tf.square(target)) + TINY)


def content_loss(features: tf.Tensor, target: tf.Tensor, normalize: bool = False) -> tf.Tensor:
    """The paper's content loss, sum((F - P)^2), or relative to sum(P^2)."""
    if normalize:
        return relative_squared_error(features, target)
    return tf.reduce_sum(tf.square(features - target))


def style_loss(features: tf.Tensor, target_gram: tf.Tensor, normalize: bool = False) -> tf.Tensor:
    """sum((G - A)^2) / (4 C^2) with both Grams divided by H * W, i.e. Gatys' 1 / (4 C^2 (HW)^2);
    or relative to sum(A^2)."""
    if normalize:
        return relative_squared_error(gram(features), target_gram)
    channels = tf.cast(tf.shape(features)[-1], features.dtype)
    return tf.reduce_sum(tf.square(gram(features) - target_gram)) / (4.0 * channels**2)


def total_variation(image: tf.Tensor, normalize: bool = False) -> tf.Tensor:
    """keras.io's total variation of a (1, H, W, 3) image: sum((dx^2 + dy^2)^1.25).

    Normalised, the image is taken in 0..1 units and the sum averaged over pixels, so the weight does
    not depend on the image size.
    """
    if normalize:
        image = image / 255.0
    a = tf.square(image[:, :-1, :-1, :] - image[:, 1:, :-1, :])
    b = tf.square(image[:, :-1, :-1, :] - image[:, :-1, 1:, :])
    tv = tf.reduce_sum(tf.pow(a + b + (EPS if normalize else 0.0), 1.25))
    return tv / tf.cast(tf.size(a) // 3, image.dtype) if normalize else tv


class Objective:
    """α·content + β·style + TV for one content image and a blend of style images, at one size.

    The targets (content features, blended style Grams) are computed once, here; `__call__` and
    `value_and_grad` evaluate an image against them. Terms come back named and weighted.
    """

    def __init__(
        self,
        backbone,
        content: tf.Tensor,
        styles: Sequence[tf.Tensor],
        *,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        content_weight: float,
        style_weight: float,
        tv_weight: float,
        style_layer_weights: Sequence[float] | None = None,
        style_blend: Sequence[float] | None = None,
        normalize: bool = True,
    ):
        """content: (1, H, W, 3) RGB 0..255; styles: one or more (1, h, w, 3) RGB 0..255 images.

        style_layer_weights: one per style layer (default equal); scaled to sum to 1 as keras.io does
        (each layer gets style_weight / L). style_blend: one per style image (default equal), scaled
        to sum to 1: the style targets are the blend of the styles' Gram matrices.
        """
        self.backbone = backbone
        self.content_layers = tuple(content_layers)
        self.style_layers = tuple(style_layers)
        self.normalize = normalize
        self.dtype = dtype = tf.as_dtype(backbone.dtype)
        self.weights = {"content": content_weight, "style": style_weight, "tv": tv_weight}
        self.layer_weights = _normalized(style_layer_weights, len(self.style_layers), "style layer weights")
        blend = _normalized(style_blend, len(styles), "style weights")

        content_features = backbone(tf.cast(content, dtype))
        self.content_targets = {name: tf.constant(content_features[name]) for name in self.content_layers}
        self.style_targets = {name: tf.zeros((), dtype) for name in self.style_layers}
        for style, share in zip(styles, blend):
            features = backbone(tf.cast(style, dtype))
            for name in self.style_layers:
                self.style_targets[name] = self.style_targets[name] + share * gram(features[name])
        self._value_and_grad = tf.function(self._value_and_grad_eager, reduce_retracing=True)

    def terms(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        """Weighted loss terms of a (1, H, W, 3) RGB 0..255 image: {"content", "style", "tv"}."""
        features = self.backbone(image)
        content = tf.add_n(
            [content_loss(features[n], self.content_targets[n], self.normalize) for n in self.content_layers]
        ) / len(self.content_layers)
        style = tf.add_n(
            [
                w * style_loss(features[n], self.style_targets[n], self.normalize)
                for n, w in zip(self.style_layers, self.layer_weights)
                if w != 0
            ]
        )
        return {
            "content": self.weights["content"] * content,
            "style": self.weights["style"] * style,
            "tv": self.weights["tv"] * total_variation(image, self.normalize),
        }

    def _value_and_grad_eager(self, image):
        scale = FLOAT16_LOSS_SCALE if getattr(self.backbone, "precision", "float32") == "mixed_float16" else 1.0
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = self.terms(image)
            total = tf.add_n(list(terms.values()))
            scaled = total * scale
        return total, terms, tape.gradient(scaled, image) / scale

    def value_and_grad(self, image) -> tuple[tf.Tensor, Mapping[str, tf.Tensor], tf.Tensor]:
        """Total loss, weighted terms and the gradient of the total with respect to the image (compiled)."""
        return self._value_and_grad(tf.convert_to_tensor(image, self.dtype))


def _normalized(weights: Sequence[float] | None, count: int, what: str) -> tuple[float, ...]:
    if weights is None:
        return (1.0 / count,) * count
    if len(weights) != count:
        from .errors import SettingsError

        raise SettingsError(f"{len(weights)} {what} given for {count}: give one per item")
    total = float(sum(weights))
    return tuple(float(w) / total for w in weights)
