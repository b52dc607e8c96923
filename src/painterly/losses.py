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

`balance="mean"` (with normalisation) balances the terms as Gatys et al.'s own code and jcjohnson's
neural-style do: the content term is the *mean* squared feature difference, each style layer's the mean
squared difference of its Gram matrices divided by H·W·C (so Σ (G − A)² / C⁴ with G, A divided by H·W),
averaged over the style layers, and total variation the mean squared difference of neighbouring pixels
(0..1 units). Raw magnitudes, not relative errors: the deep layers' Grams are large, so the painting's
large structures (long strokes, swirls) count, where relative errors make every layer count equally and
the shallow layers' fine texture wins (a uniform ripple). Relative errors are `balance="relative"`.

The style loss itself is Gram matrices (`style_loss="gram"`, Gatys et al.) or one of `wasserstein`'s: the
sliced Wasserstein loss (`"sliced"`) or the Wasserstein-2 distance between the features' Gaussians (`"w2"`).

The objective is a list of named `terms.Term`s (`ContentTerm`, a style term, `TotalVariationTerm`, and any
extra term a method adds, such as a video's temporal term), evaluated whole here (`Objective`) and tile by
tile by `tiling.TiledObjective`, from the same code.
Style targets are computed once per network, style images and layers (`style_grams`) and reused.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from .settings import STYLE_LOSSES  # the style term: Gram matrices, or a Wasserstein loss (wasserstein.py)
from .terms import TINY, NamedTerms, Term, second_moment_sums, term_names
from .wasserstein import (GAUSSIAN_SCALE, SLICED_SCALE, GaussianStyleTerm, SlicedStyleTerm, blended_moments,
                          feature_moments)

EPS = 1e-8  # keeps the TV power differentiable at 0
BALANCES = ("relative", "mean")  # how normalised terms are scaled (see the module's docstring)
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


class ContentTerm(Term):
    """The paper's content loss Σ (F − P)² at each content layer (when normalised: relative to Σ P², or
    with balance "mean" the mean over the feature map's entries), averaged over the layers."""

    name = "content"
    tileable = True

    def __init__(self, weight: float, targets: Mapping[str, tf.Tensor], normalize: bool = True,
                 balance: str = "relative"):
        self.weight, self.normalize, self.balance = weight, normalize, _balance(balance)
        self.layers = tuple(targets)
        self.feature_targets = dict(targets)
        self.norms = {n: tf.reduce_sum(tf.square(tf.cast(t, tf.float64))) for n, t in targets.items()}

    def sum_shapes(self) -> dict[str, tuple]:
        return {f"content/{n}": () for n in self.layers}

    def sums(self, maps, pixels, targets) -> dict:
        return {f"content/{n}": tf.reduce_sum(tf.square(maps[n] - targets[n])) for n in self.layers}

    def value(self, sums, shape, counts) -> tf.Tensor:
        parts = []
        for n in self.layers:
            part = sums[f"content/{n}"]
            if self.normalize and self.balance == "mean":
                channels = tf.shape(self.feature_targets[n])[-1]
                part = part / (tf.cast(counts[n], part.dtype) * tf.cast(channels, part.dtype))
            elif self.normalize:
                part = part / (tf.cast(self.norms[n], part.dtype) + TINY)
            parts.append(part)
        return tf.add_n(parts) / len(self.layers)


class StyleTerm(Term):
    """Squared Gram-matrix differences at the style layers (when normalised: relative to Σ A², or with
    balance "mean" the mean squared difference of the Grams divided by H·W·C; else Gatys'
    1 / (4 C² (HW)²)), each layer weighted by its share of `layer_weights`."""

    name = "style"
    tileable = True

    def __init__(self, weight: float, grams: Mapping[str, tf.Tensor], layer_weights: Sequence[float],
                 normalize: bool = True, balance: str = "relative"):
        self.weight, self.normalize, self.balance = weight, normalize, _balance(balance)
        self.layers = tuple(grams)
        self.grams = self.targets = dict(grams)  # the targets A_l, divided by H·W
        self.layer_weights = tuple(layer_weights)

    def sum_shapes(self) -> dict[str, tuple]:
        return {f"style/{n}": (None, None) for n in self.layers}

    def sums(self, maps, pixels, targets) -> dict:
        return second_moment_sums(maps, self.layers)  # F^T F, not yet divided by H·W

    def value(self, sums, shape, counts) -> tf.Tensor:
        parts = []
        for n, w in zip(self.layers, self.layer_weights):
            if w == 0:
                continue
            g = sums[f"style/{n}"]
            g = g / tf.cast(counts[n], g.dtype)
            target = tf.cast(self.grams[n], g.dtype)
            if self.normalize and self.balance == "mean":
                channels = tf.cast(tf.shape(g)[-1], g.dtype)  # mean of ((G − A) / C)² over C² entries
                parts.append(w * tf.reduce_sum(tf.square(g - target)) / channels**4)
            elif self.normalize:
                parts.append(w * relative_squared_error(g, target))
            else:
                channels = tf.cast(tf.shape(g)[-1], g.dtype)
                parts.append(w * tf.reduce_sum(tf.square(g - target)) / (4.0 * channels**2))
        return tf.add_n(parts)


class TotalVariationTerm(Term):
    """keras.io's Σ (dx² + dy²)^1.25 over the image's pixel pairs (normalised: in 0..1 units, averaged;
    with balance "mean" the power is 1, the mean squared difference of neighbouring pixels)."""

    name = "tv"
    tileable = True

    def __init__(self, weight: float, normalize: bool = True, balance: str = "relative"):
        self.weight, self.normalize, self.balance = weight, normalize, _balance(balance)

    def sum_shapes(self) -> dict[str, tuple]:
        return {"tv": ()}

    def sums(self, maps, pixels, targets) -> dict:
        """`pixels`: the region's pixels and one more row and column where the image has them, so that
        every pair whose first pixel lies in the region is counted."""
        if self.normalize:
            pixels = pixels / 255.0
        a = tf.square(pixels[:-1, :-1, :] - pixels[1:, :-1, :])
        b = tf.square(pixels[:-1, :-1, :] - pixels[:-1, 1:, :])
        if self.normalize and self.balance == "mean":
            return {"tv": tf.reduce_sum(a + b) / 3.0}  # per pixel pair: the mean over the three channels
        return {"tv": tf.reduce_sum(tf.pow(a + b + (EPS if self.normalize else 0.0), 1.25))}

    def value(self, sums, shape, counts) -> tf.Tensor:
        tv = sums["tv"]
        if self.normalize:
            pairs = tf.maximum(1, (shape[0] - 1) * (shape[1] - 1))
            tv = tv / tf.cast(pairs, tv.dtype)
        return tv


def _balance(balance: str) -> str:
    if balance not in BALANCES:
        raise ValueError(f"unknown loss balance '{balance}': choose {' or '.join(BALANCES)}")
    return balance


def style_grams(backbone, styles: Sequence, style_layers: Sequence[str], blend: Sequence[float],
                grams_of: Callable[[object], Mapping[str, tf.Tensor]], how: str = "whole") -> dict[str, tf.Tensor]:
    """The blended style targets Σ_i blend_i · G_l(style_i), computed once per network and reused.

    Style targets depend only on the style images (as resized for this run), the layers, the blend and
    the network, so a gallery, a batch or a video's frames on one network compute them once.
    `grams_of(image)` gives one image's Gram matrices, computed as `how` says ("whole" or "tiled": the
    two agree to rounding, and are kept apart so that a run's numbers never depend on an earlier run).
    """
    key = (id(backbone.model), backbone.margin, str(backbone.dtype), getattr(backbone, "precision", ""),
           how, tuple(style_layers), tuple(float(b) for b in blend),
           tuple(_digest(style) for style in styles))
    cached = _STYLE_CACHE.get(key)
    if cached is not None and cached[0] is backbone.model:
        _STYLE_CACHE.move_to_end(key)
        return dict(cached[1])
    targets = {name: tf.zeros((), backbone.dtype) for name in style_layers}
    for style, share in zip(styles, blend):
        grams = grams_of(style)
        for name in style_layers:
            targets[name] = targets[name] + share * grams[name]
    _STYLE_CACHE[key] = (backbone.model, dict(targets))  # the model is held so that its id is not reused
    while len(_STYLE_CACHE) > STYLE_CACHE_SIZE:
        _STYLE_CACHE.popitem(last=False)
    return targets


STYLE_CACHE_SIZE = 8  # sets of style targets kept (about 3 MB each for VGG's five style layers)
_STYLE_CACHE: OrderedDict = OrderedDict()


def _digest(image) -> tuple:
    array = np.ascontiguousarray(np.asarray(image))
    return array.shape, str(array.dtype), hashlib.blake2b(array.tobytes(), digest_size=16).hexdigest()


class Objective(NamedTerms):
    """α·content + β·style + TV (and any `extra_terms`) for one content image and a blend of style
    images, at one size: a list of named `Term`s.

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
        balance: str = "relative",
        extra_terms: Sequence[Term] = (),
        style_loss: str = "gram",
        seed: int = 0,
    ):
        """content: (1, H, W, 3) RGB 0..255; styles: one or more (1, h, w, 3) RGB 0..255 images.

        style_layer_weights: one per style layer (default equal); scaled to sum to 1 as keras.io does
        (each layer gets style_weight / L). style_blend: one per style image (default equal), scaled
        to sum to 1: the style targets are the blend of the styles' Gram matrices. extra_terms: more
        named terms (e.g. a video's temporal term), evaluated on the whole image. balance: how the
        normalised terms are scaled, "relative" or "mean" (see the module's docstring). style_loss: "gram",
        "sliced" or "w2" (see the module's docstring; `seed` draws the sliced loss's directions).
        """
        self.backbone = backbone
        self.normalize = normalize
        self.dtype = dtype = tf.as_dtype(backbone.dtype)
        layer_weights = normalized(style_layer_weights, len(style_layers), "style layer weights")
        blend = normalized(style_blend, len(styles), "style weights")

        content_features = backbone(tf.cast(content, dtype))
        targets = {name: tf.constant(content_features[name][0]) for name in content_layers}
        style_layers = tuple(style_layers)

        if style_loss not in STYLE_LOSSES:
            raise ValueError(f"unknown style loss '{style_loss}': choose {' or '.join(STYLE_LOSSES)}")
        if style_loss == "sliced":
            maps = [{name: f[name][0] for name in style_layers}
                    for f in (backbone(tf.cast(s, dtype)) for s in styles)]
            style_term = SlicedStyleTerm(style_weight * SLICED_SCALE, maps, layer_weights, blend, seed)
        elif style_loss == "w2":
            def moments_of(style):
                features = backbone(tf.cast(style, dtype))
                return {name: feature_moments(tf.reshape(features[name], (-1, features[name].shape[-1])))
                        for name in style_layers}

            style_term = GaussianStyleTerm(style_weight * GAUSSIAN_SCALE,
                                           blended_moments([moments_of(s) for s in styles], blend), layer_weights)
        else:
            def grams_of(style):
                features = backbone(tf.convert_to_tensor(style, dtype))
                return {name: gram(features[name]) for name in style_layers}

            grams = style_grams(backbone, [tf.cast(s, dtype).numpy() for s in styles], style_layers, blend, grams_of)
            style_term = StyleTerm(style_weight, grams, layer_weights, normalize, balance)
        self.loss_terms: tuple[Term, ...] = (
            ContentTerm(content_weight, targets, normalize, balance),
            style_term,
            TotalVariationTerm(tv_weight, normalize, balance),
            *extra_terms,
        )
        term_names(self.loss_terms)
        self.layers = tuple(dict.fromkeys(n for t in self.loss_terms for n in t.layers))
        self._value_and_grad = tf.function(self._value_and_grad_eager, reduce_retracing=True)

    def terms(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        """Weighted loss terms of a (1, H, W, 3) RGB 0..255 image, by name: content, style, tv, …"""
        features = self.backbone(image)
        maps = {name: features[name][0] for name in self.layers}
        counts = {name: tf.shape(m)[0] * tf.shape(m)[1] for name, m in maps.items()}
        shape = tf.shape(image)[1:3]
        return {t.name: t.weight * t.value(t.sums({n: maps[n] for n in t.layers}, image[0], t.feature_targets),
                                           shape, counts)
                for t in self.loss_terms}

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


def normalized(weights: Sequence[float] | None, count: int, what: str) -> tuple[float, ...]:
    if weights is None:
        return (1.0 / count,) * count
    if len(weights) != count:
        from .errors import SettingsError

        raise SettingsError(f"{len(weights)} {what} given for {count}: give one per item")
    total = float(sum(weights))
    return tuple(float(w) / total for w in weights)
