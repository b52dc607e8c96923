"""The Wasserstein style losses, each a `terms.Term` the objective can use instead of Gram matrices.

- `SlicedStyleTerm` (`--style-loss sliced`, Heitz et al. 2021): each style layer's features projected on fixed
  random unit directions (as many as the layer's channels, drawn from the seed), each projection's sorted values
  matched to the painting's at the same quantiles, the mean squared difference averaged over the layers. It
  matches the features' whole distribution; its sort is over the whole image, so it is never tiled.
- `GaussianStyleTerm` (`--style-loss w2`, as crowsonkb's style-transfer-pytorch): the Wasserstein-2 distance
  between Gaussians with the features' means and covariances. Its sums are the Gram term's plus the features'
  sum, so it tiles exactly. The default paints the finer scales above 512 px with it (docs/QUALITY.md).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf

from .terms import TINY, Term, second_moment_sums

# The sliced loss's share of --style-weight: at the default's fast start, under the mean balance on vgg16-hed, the
# sliced loss is 5 to 8 times the Gram term (the three reference pairs at 512 px, docs/QUALITY.md), so a
# sixth of the weight gives it about the Gram term's share of the objective and --style-weight its meaning.
SLICED_SCALE = 1 / 6
GAUSSIAN_SCALE = 1 / 7  # the Wasserstein-2 term is 4.7 to 10 times the Gram term there (the same pairs): its share
# Both covariances get ε = GAUSSIAN_RIDGE × the painting's mean variance on their diagonals, so no eigenvalue of
# Σ_t^½ Σ Σ_t^½ is near 0, where its square root's gradient 1/(2√λ) is unbounded: without it the deep layers'
# rank-deficient covariances gave single pixels huge gradients, black and white dashes at 1024 px (1e-3 left a few).
GAUSSIAN_RIDGE = 1e-2
GAUSSIAN_EPS = 1e-12  # the smallest eigenvalue whose square root the Wasserstein-2 term differentiates


class SlicedStyleTerm(Term):
    """The sliced Wasserstein style loss: Σ_l w_l · mean((sort(F_l P_l) − Q_l)²), with F_l the picture's features
    at layer l (N × C), P_l fixed random unit directions (C × C) and Q_l the painting's sorted projections taken
    at the picture's N quantiles (several paintings: their quantile functions blended, the 1-D Wasserstein
    barycentre). Its sort is over the whole image: not tileable."""

    name = "style"
    tileable = False

    def __init__(self, weight: float, features: Sequence[Mapping[str, tf.Tensor]], layer_weights: Sequence[float],
                 blend: Sequence[float], seed: int = 0):
        """features: each painting's (h, w, c) features by style layer; blend: one weight per painting."""
        self.weight = weight
        self.layers = tuple(features[0])
        self.layer_weights = tuple(layer_weights)
        rng = np.random.default_rng(seed)
        self.directions, self.targets = {}, {}
        for n in self.layers:
            channels = int(features[0][n].shape[-1])
            p = rng.normal(size=(channels, channels))
            self.directions[n] = tf.constant(p / np.linalg.norm(p, axis=0, keepdims=True), features[0][n].dtype)
            sorted_ = [tf.sort(tf.matmul(tf.reshape(f[n], (-1, channels)), self.directions[n]), axis=0)
                       for f in features]
            count = tf.shape(sorted_[0])[0]
            self.targets[n] = tf.add_n([share * quantiles(q, count) for q, share in zip(sorted_, blend)])

    def sum_shapes(self) -> dict[str, tuple]:
        return {f"style/{n}": () for n in self.layers}

    def sums(self, maps, pixels, targets) -> dict:
        out = {}
        for n in self.layers:
            flat = tf.reshape(maps[n], (-1, tf.shape(maps[n])[-1]))
            projected = tf.sort(tf.matmul(flat, tf.cast(self.directions[n], flat.dtype)), axis=0)
            target = quantiles(tf.cast(self.targets[n], flat.dtype), tf.shape(projected)[0])
            out[f"style/{n}"] = tf.reduce_mean(tf.square(projected - target))
        return out

    def value(self, sums, shape, counts) -> tf.Tensor:
        return tf.add_n([w * sums[f"style/{n}"] for n, w in zip(self.layers, self.layer_weights) if w != 0])


class GaussianStyleTerm(Term):
    """The mean-and-covariance Wasserstein-2 style loss (the Wasserstein-2 distance between Gaussians with the
    features' means and covariances, as crowsonkb's style-transfer-pytorch): at each style layer
    (|μ − μ_t|² + tr(Σ + Σ_t − 2 (Σ_t^½ Σ Σ_t^½)^½)) / C, weighted over the layers, both covariances with ε on
    their diagonals (GAUSSIAN_RIDGE). Several paintings: the moments of their features' mixture (the blend of
    their means and second moments, as Grams are blended).
    Its sums are the features' sum and F^T F, additive over regions, as the Gram term's."""

    name = "style"
    tileable = True

    def __init__(self, weight: float, moments: Mapping[str, tuple], layer_weights: Sequence[float]):
        """moments: by style layer, the painting's (mean (C,), second moment F^T F / N (C, C))."""
        self.weight = weight
        self.layers = tuple(moments)
        self.layer_weights = tuple(layer_weights)
        self.means, self.covariances, self.roots = {}, {}, {}
        self.targets = self.covariances  # by layer, as the other style terms' targets
        self.ridges = {}  # ε_l, added to both covariances' diagonals
        for n, (mean, second) in moments.items():
            mean, second = np.asarray(mean, np.float64), np.asarray(second, np.float64)
            cov = second - np.outer(mean, mean)
            self.ridges[n] = GAUSSIAN_RIDGE * max(float(np.trace(cov)) / len(mean), TINY)
            cov = (cov + cov.T) / 2 + self.ridges[n] * np.eye(len(mean))
            values, vectors = np.linalg.eigh(cov)
            self.means[n], self.covariances[n] = tf.constant(mean), tf.constant(cov)
            self.roots[n] = tf.constant((vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T)  # Σ_t^½

    def sum_shapes(self) -> dict[str, tuple]:
        return {**{f"style/{n}/sum": (None,) for n in self.layers}, **{f"style/{n}": (None, None) for n in self.layers}}

    def sums(self, maps, pixels, targets) -> dict:
        out = second_moment_sums(maps, self.layers)
        for n in self.layers:
            out[f"style/{n}/sum"] = tf.reduce_sum(tf.reshape(maps[n], (-1, tf.shape(maps[n])[-1])), axis=0)
        return out

    def value(self, sums, shape, counts) -> tf.Tensor:
        parts = []
        for n, w in zip(self.layers, self.layer_weights):
            if w == 0:
                continue
            dtype = sums[f"style/{n}"].dtype
            count = tf.cast(counts[n], tf.float64)
            mean = tf.cast(sums[f"style/{n}/sum"], tf.float64) / count
            cov = (tf.cast(sums[f"style/{n}"], tf.float64) / count - mean[:, None] * mean[None, :]
                   + self.ridges[n] * tf.eye(tf.shape(mean)[0], dtype=tf.float64))
            root = self.roots[n]
            m = root @ cov @ root
            eigenvalues = tf.linalg.eigvalsh((m + tf.transpose(m)) / 2)
            cross = tf.reduce_sum(tf.sqrt(tf.maximum(eigenvalues, GAUSSIAN_EPS)))
            channels = tf.cast(tf.shape(mean)[0], tf.float64)
            distance = (tf.reduce_sum(tf.square(mean - self.means[n]))
                        + tf.linalg.trace(cov) + tf.linalg.trace(self.covariances[n]) - 2.0 * cross) / channels
            parts.append(w * tf.cast(distance, dtype))
        return tf.add_n(parts)


def feature_moments(flat: tf.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the second moment FᵀF / N of (N, C) features, in float64: what the Wasserstein-2 term's
    targets are made of (`tiling.TiledObjective` adds them up tile by tile)."""
    flat = tf.cast(flat, tf.float64)
    count = int(flat.shape[0])
    return tf.reduce_sum(flat, axis=0).numpy() / count, tf.matmul(flat, flat, transpose_a=True).numpy() / count


def blended_moments(moments: Sequence[Mapping[str, tuple]], blend: Sequence[float]) -> dict[str, tuple]:
    """Several paintings' (mean, second moment) by layer, blended: the moments of their features' mixture."""
    return {n: (sum(share * m[n][0] for m, share in zip(moments, blend)),
                sum(share * m[n][1] for m, share in zip(moments, blend))) for n in moments[0]}


def quantiles(sorted_values: tf.Tensor, count) -> tf.Tensor:
    """The rows of `sorted_values` (M, K), sorted down each column, at `count` evenly spaced quantiles: the
    row of quantile (i + ½) / count for each i (count × K)."""
    m = tf.shape(sorted_values)[0]
    index = tf.cast((tf.cast(tf.range(count), tf.float64) + 0.5) * tf.cast(m, tf.float64)
                    / tf.cast(count, tf.float64), tf.int32)
    return tf.gather(sorted_values, tf.minimum(index, m - 1))
