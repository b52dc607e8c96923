"""The exact loss and gradient of an `Objective`, computed tile by tile in bounded memory.

Every loss term depends on the image through sums over space: a style layer through its Gram
matrix G_l = Σ_tiles F_t^T F_t / N_l, the content and total-variation terms through sums over
feature maps and pixels. So `TiledObjective` evaluates an image in two passes over tiles:

1. run the network on each tile (its core plus a halo of context) and add up, from the core's
   features only, every Gram matrix and the content and TV sums; the loss follows from these sums;
2. with the loss's derivative by each sum now known (dL/dG_l = 2 w_l (G_l - A_l) / ... ), run each
   tile again and back-propagate Σ ⟨dL/dsum, the core's sum⟩ to the tile's pixels; the tiles'
   pixel gradients, whose halos overlap, add up to the whole image's gradient.

This equals the whole-image loss and gradient exactly (to rounding) when the halo covers how far the
zero padding at a tile's edge reaches into the deepest layer used (`required_halo`, derived from the
layer list) and tile edges lie on that layer's pixel grid (multiples of its stride), so the pooling
grids of tile and whole image agree. Tiles are cut from the image mirrored by the backbone's margin,
exactly as `Backbone.__call__` sees it, and the gradient is folded back through the mirror.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from . import architectures, backbones, losses, terms, wasserstein
from .architectures import required_halo  # noqa: F401  (pure arithmetic; it lives with the layer tables)
from .errors import PainterlyError

Progress = Callable[[int, int], None]  # (tiles done in this evaluation, tiles in it: both passes)


def grid_stride(layers: Sequence[str]) -> int:
    """Tile edges must be multiples of this: the stride of the deepest layer used."""
    return max(backbones.stride(name) for name in layers)


@dataclass(frozen=True)
class Span:
    """One tile along one axis: input pixels (padded coordinates), the core's feature indices per
    layer (local to the tile's feature maps), and the core's pixels for total variation."""

    start: int  # first input pixel of the tile, in the mirrored image
    stop: int
    features: tuple[tuple[int, int], ...]  # per layer: the core's [lo, hi) in the tile's feature map
    offsets: tuple[int, ...]  # per layer: index of the tile's first feature in the whole (cropped) map
    pixels: tuple[int, int]  # the core's [lo, hi) in the real image, for total variation


def spans(length: int, tile: int, halo: int, margin: int, layers: Sequence[str]) -> list[Span]:
    """Tiles along one axis of `length` real pixels, mirrored by `margin` at both ends.

    Cores partition the real pixels at multiples of `tile` (the last takes the remainder and the
    mirrored margin after it); each reaches `halo` further into the mirrored image on both sides.
    A layer's features are cropped by margin / stride as `Backbone` does; a core owns the features
    whose grid cells start inside it.
    """
    padded = length + 2 * margin
    out = []
    for a in range(margin, margin + length, tile):
        b = a + tile if a + tile < margin + length else padded
        start, stop = max(0, a - halo), min(padded, b + halo)
        features, offsets = [], []
        for name in layers:
            s = backbones.stride(name)
            crop = margin // s
            lo, hi = a // s, min(b // s, padded // s - crop)
            features.append((lo - start // s, max(lo, hi) - start // s))
            offsets.append(start // s - crop)
        out.append(Span(start, stop, tuple(features), tuple(offsets), (a - margin, min(b - margin, length))))
    return out


def mirror_index(length: int, margin: int) -> np.ndarray:
    """Indices of `Backbone`'s mirror padding along one axis (see backbones.mirror_pad)."""
    period = max(2 * length - 2, 1)
    i = np.mod(np.arange(-margin, length + margin), period)
    return np.where(i >= length, period - i, i)


class TiledObjective(terms.NamedTerms):
    """`losses.Objective`'s loss and gradient, computed tile by tile: the same interface and numbers.

    tile: core size in pixels, a multiple of the deepest layer's stride. halo: context around each
    core; by default (and at least) `required_halo` of the layers used. progress: called with
    (tiles done, tiles in this evaluation) after each tile of either pass.
    """

    def __init__(
        self,
        backbone,
        content,
        styles: Sequence,
        *,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        content_weight: float,
        style_weight: float,
        tv_weight: float,
        tile: int,
        halo: int | None = None,
        style_layer_weights: Sequence[float] | None = None,
        style_blend: Sequence[float] | None = None,
        normalize: bool = True,
        balance: str = "relative",
        progress: Progress | None = None,
        extra_terms: Sequence[terms.Term] = (),
        style_loss: str = "gram",
    ):
        import tensorflow as tf

        self.backbone = backbone
        self.normalize = normalize
        self.dtype = tf.as_dtype(backbone.dtype)
        style_layers = tuple(style_layers)
        layer_weights = losses.normalized(style_layer_weights, len(style_layers), "style layer weights")
        blend = losses.normalized(style_blend, len(styles), "style weights")
        for term in extra_terms:
            if not term.tileable:
                raise PainterlyError(f"the {term.name} term needs the whole image at once and cannot be tiled: "
                                     f"use --tile off or a smaller --size")
        self.layers = tuple(dict.fromkeys([*content_layers, *style_layers, *(n for t in extra_terms
                                                                              for n in t.layers)]))
        self.progress = progress
        self.tile, self.halo = self._check_geometry(tile, halo)

        spec = tf.TensorSpec
        pixels, crops = spec((1, None, None, 3), self.dtype), spec((len(self.layers), 4), tf.int32)
        self._maps = tf.function(self._core_maps, input_signature=[pixels, crops])
        maps = self._assemble(self._array(content), content_layers)
        if style_loss == "w2":
            moments = [self._moments(self._array(style), style_layers) for style in styles]
            style_term = wasserstein.GaussianStyleTerm(style_weight * wasserstein.GAUSSIAN_SCALE,
                                                       wasserstein.blended_moments(moments, blend), layer_weights)
        elif style_loss == "gram":
            grams = losses.style_grams(backbone, [self._array(style) for style in styles], style_layers, blend,
                                       lambda style: {n: m[1] for n, m in self._moments(style, style_layers).items()},
                                       how="tiled")
            style_term = losses.StyleTerm(style_weight, grams, layer_weights, normalize, balance)
        else:
            raise PainterlyError(f"the {style_loss} style loss needs the whole image at once and cannot be tiled: "
                                 f"use --tile off or a smaller --size")
        self.loss_terms: tuple[terms.Term, ...] = (
            losses.ContentTerm(content_weight, {n: maps[n] for n in content_layers}, normalize, balance),
            style_term,
            losses.TotalVariationTerm(tv_weight, normalize, balance),
            *extra_terms,
        )
        terms.term_names(self.loss_terms)

        sums = {key: spec(shape, self.dtype) for t in self.loss_terms for key, shape in t.sum_shapes().items()}
        targets = {f"{t.name}/{n}": spec((None, None, None), self.dtype)
                   for t in self.loss_terms for n in t.feature_targets}
        inputs = [pixels, crops, targets, spec((None, None, 3), self.dtype)]
        self._sums = tf.function(self._tile_sums, input_signature=inputs)
        self._pullback = tf.function(self._tile_pullback, input_signature=inputs + [sums])

    def _check_geometry(self, tile: int, halo: int | None) -> tuple[int, int]:
        architecture = architectures.architecture(self.backbone.name)
        needed = required_halo(architecture, self.layers)
        grid = grid_stride(self.layers)
        deepest = max(self.layers, key=backbones.layer_names(architecture).index)
        if not isinstance(tile, int) or tile < grid or tile % grid:
            raise PainterlyError(f"tile {tile} px is not a positive multiple of {grid} px, the stride of "
                                 f"{deepest}: use --tile {max(grid, -(-int(tile) // grid) * grid)}")
        if self.backbone.margin % grid:
            raise PainterlyError(f"the backbone's {self.backbone.margin} px mirrored margin is not a multiple of "
                                 f"{grid} px, the stride of {deepest}: build it with backbones.build")
        halo = needed if halo is None else halo
        if halo < needed or halo % grid:
            raise PainterlyError(f"a halo of {halo} px gives a wrong gradient: {deepest} needs at least {needed} px "
                                 f"of context, in multiples of {grid} px; leave the halo out to get that")
        return tile, halo

    # -- the per-tile computations (compiled) -----------------------------------------------------

    def _core_maps(self, pixels, crops):
        """The features of a tile's core, per layer: the tile's maps cut to crops[i] = (r0, r1, c0, c1)."""
        import tensorflow as tf

        maps = self.backbone.model(backbones.preprocess(pixels))
        return {name: tf.cast(maps[name][0, crops[i, 0]:crops[i, 1], crops[i, 2]:crops[i, 3], :], self.dtype)
                for i, name in enumerate(self.layers)}

    def _tile_sums(self, pixels, crops, targets, tv_pixels):
        """The core's share of every sum the terms depend on; `tv_pixels`: the pixels it owns, and the next
        row and column (see `losses.TotalVariationTerm.sums`)."""
        maps = self._core_maps(pixels, crops)
        sums = {}
        for t in self.loss_terms:
            sums.update(t.sums({n: maps[n] for n in t.layers}, tv_pixels,
                               {n: targets[f"{t.name}/{n}"] for n in t.feature_targets}))
        return sums

    def _tile_pullback(self, pixels, crops, targets, tv_pixels, cotangents):
        """Gradient of Σ ⟨dL/dsum, the core's sum⟩ by the tile's pixels and by its TV pixels."""
        import tensorflow as tf

        # float16 arithmetic: scale up before differentiating, down after, so gradients do not underflow
        scale = losses.FLOAT16_LOSS_SCALE if getattr(self.backbone, "precision", "") == "mixed_float16" else 1.0
        with tf.GradientTape() as tape:
            tape.watch([pixels, tv_pixels])
            sums = self._tile_sums(pixels, crops, targets, tv_pixels)
            surrogate = tf.add_n([tf.reduce_sum(cotangents[k] * sums[k]) for k in sums]) * scale
        grads = tape.gradient(surrogate, [pixels, tv_pixels], unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return [g / scale for g in grads]

    # -- passes over the tiles ----------------------------------------------------------------------

    def _array(self, image) -> np.ndarray:
        """(1, H, W, 3) or (H, W, 3) RGB 0..255 -> (H, W, 3) NumPy in the backbone's dtype."""
        array = np.asarray(image, dtype=self.dtype.as_numpy_dtype)
        return array[0] if array.ndim == 4 else array

    def _tiles(self, height: int, width: int):
        """Every tile of an image: (row span, column span, crops), skipping tiles that own nothing."""
        m = self.backbone.margin
        rows = spans(height, self.tile, self.halo, m, self.layers)
        cols = spans(width, self.tile, self.halo, m, self.layers)
        for r in rows:
            for c in cols:
                crops = np.array([[*fr, *fc] for fr, fc in zip(r.features, c.features)], np.int32)
                owns_features = np.any((crops[:, 1] > crops[:, 0]) & (crops[:, 3] > crops[:, 2]))
                owns_pixels = r.pixels[1] > r.pixels[0] and c.pixels[1] > c.pixels[0]
                if owns_features or owns_pixels:
                    yield r, c, crops

    def _padded(self, image: np.ndarray) -> np.ndarray:
        m = self.backbone.margin
        return image[mirror_index(image.shape[0], m)][:, mirror_index(image.shape[1], m)]

    def _assemble(self, image: np.ndarray, layers: Sequence[str]) -> dict[str, np.ndarray]:
        """Whole feature maps of `layers` (as Backbone returns them, without the batch axis), tile by tile."""
        padded = self._padded(image)
        out = {}
        for r, c, crops in self._tiles(*image.shape[:2]):
            maps = self._maps(padded[None, r.start:r.stop, c.start:c.stop], crops)
            for i, name in enumerate(self.layers):
                if name not in layers:
                    continue
                value = maps[name].numpy()
                if name not in out:
                    out[name] = self._empty_map(name, image.shape[:2], value.shape[-1])
                y, x = r.offsets[i] + crops[i, 0], c.offsets[i] + crops[i, 2]
                out[name][y:y + value.shape[0], x:x + value.shape[1]] = value
        return out

    def _empty_map(self, name: str, shape, channels: int) -> np.ndarray:
        s, m = backbones.stride(name), self.backbone.margin
        rows, cols = ((n + 2 * m) // s - 2 * (m // s) for n in shape)
        return np.zeros((max(rows, 0), max(cols, 0), channels), self.dtype.as_numpy_dtype)

    def _feature_counts(self, shape) -> dict[str, int]:
        s, m = backbones.stride, self.backbone.margin
        return {name: max(0, (shape[0] + 2 * m) // s(name) - 2 * (m // s(name)))
                * max(0, (shape[1] + 2 * m) // s(name) - 2 * (m // s(name))) for name in self.layers}

    def _moments(self, image: np.ndarray, style_layers: Sequence[str]) -> dict[str, tuple]:
        """The (mean, second moment FᵀF / N) of the style layers' features of a whole image, tile by tile (the
        second moment is the Gram matrix divided by H·W)."""
        import tensorflow as tf

        padded, sums = self._padded(image), {}
        for r, c, crops in self._tiles(*image.shape[:2]):
            maps = self._maps(padded[None, r.start:r.stop, c.start:c.stop], crops)
            for name in style_layers:
                flat = tf.reshape(maps[name], (-1, maps[name].shape[-1]))
                total, outer = sums.get(name, (0, 0))
                sums[name] = (total + tf.reduce_sum(flat, axis=0), outer + tf.matmul(flat, flat, transpose_a=True))
        counts = self._feature_counts(image.shape[:2])
        return {name: (sums[name][0] / counts[name], sums[name][1] / counts[name]) for name in style_layers}

    def _tile_inputs(self, image, padded, r, c, crops):
        """The arguments of the compiled per-tile functions for one tile."""
        i = {name: k for k, name in enumerate(self.layers)}
        targets = {}
        for t in self.loss_terms:
            for name, whole in t.feature_targets.items():
                k = i[name]
                y, x = r.offsets[k] + crops[k, 0], c.offsets[k] + crops[k, 2]
                targets[f"{t.name}/{name}"] = whole[y:y + crops[k, 1] - crops[k, 0], x:x + crops[k, 3] - crops[k, 2]]
        (y0, y1), (x0, x1) = r.pixels, c.pixels
        y1, x1 = min(y1, image.shape[0] - 1), min(x1, image.shape[1] - 1)
        tv = image[y0:y1 + 1, x0:x1 + 1] if y1 > y0 and x1 > x0 else image[:0, :0]
        return padded[None, r.start:r.stop, c.start:c.stop], crops, targets, tv

    def _weighted_terms(self, sums: Mapping[str, object], shape) -> dict[str, object]:
        """The weighted terms, by name, from the whole image's sums."""
        counts = self._feature_counts(shape)
        return {t.name: t.weight * t.value(sums, shape, counts) for t in self.loss_terms}

    def _pass_sums(self, image, padded, tiles, report) -> dict[str, object]:
        total = {}
        for done, tile in enumerate(tiles, 1):
            for key, value in self._sums(*self._tile_inputs(image, padded, *tile)).items():
                total[key] = total[key] + value if key in total else value
            report(done)
        return total

    # -- the Objective interface ----------------------------------------------------------------------

    def terms(self, image) -> dict[str, object]:
        """Weighted loss terms of a (1, H, W, 3) RGB 0..255 image (pass 1 only)."""
        image = self._array(image)
        tiles = list(self._tiles(*image.shape[:2]))
        sums = self._pass_sums(image, self._padded(image), tiles, lambda done: None)
        return self._weighted_terms(sums, image.shape[:2])

    def value_and_grad(self, image):
        """Total loss, weighted terms and the gradient (NumPy, shaped like `image`): the two passes."""
        import tensorflow as tf

        image = self._array(image)
        padded = self._padded(image)
        tiles = list(self._tiles(*image.shape[:2]))
        report = (lambda done: self.progress(done, 2 * len(tiles))) if self.progress else (lambda done: None)
        sums = self._pass_sums(image, padded, tiles, report)
        with tf.GradientTape() as tape:
            tape.watch(sums)
            terms = self._weighted_terms(sums, image.shape[:2])
            total = tf.add_n(list(terms.values()))
        cotangents = tape.gradient(total, sums, unconnected_gradients=tf.UnconnectedGradients.ZERO)

        padded_grad = np.zeros_like(padded)
        grad = np.zeros_like(image)
        for done, (r, c, crops) in enumerate(tiles, len(tiles) + 1):
            inputs = self._tile_inputs(image, padded, r, c, crops)
            tile_grad, tv_grad = self._pullback(*inputs, cotangents)
            padded_grad[r.start:r.stop, c.start:c.stop] += tile_grad.numpy()[0]
            (y0, _), (x0, _) = r.pixels, c.pixels
            grad[y0:y0 + tv_grad.shape[0], x0:x0 + tv_grad.shape[1]] += tv_grad.numpy()
            report(done)
        del padded
        grad += self._fold(padded_grad, image.shape[:2])
        return total, terms, grad[None]

    def _fold(self, padded_grad: np.ndarray, shape) -> np.ndarray:
        """The gradient by the mirrored image, added back onto the pixels the mirror copied."""
        m = self.backbone.margin
        rows = np.zeros((shape[0],) + padded_grad.shape[1:], padded_grad.dtype)
        np.add.at(rows, mirror_index(shape[0], m), padded_grad)
        out = np.zeros(shape + padded_grad.shape[2:], padded_grad.dtype)
        np.add.at(out.swapaxes(0, 1), mirror_index(shape[1], m), rows.swapaxes(0, 1))
        return out
