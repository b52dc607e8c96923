"""The objective's named terms: the `Term` every loss term is written as, and lookups on a list of them.

A term is written once, as sums over a region and a value from those sums, so `losses.Objective` (the whole
image) and `tiling.TiledObjective` (tile by tile) evaluate the same code; its name reaches the records, the
report's table and the web chart. The terms themselves: `losses` (content, Gram style, total variation) and
`wasserstein` (the sliced and the mean-and-covariance Wasserstein style losses).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import tensorflow as tf

TINY = 1e-30  # guards a relative error against an all-zero target, without biasing small ones


class Term:
    """One named, weighted term of the objective, written once for the whole-image and tiled objectives.

    A term is computed in two steps, so that it can be evaluated tile by tile:
    - `sums(maps, pixels, targets)`: the sums over a region that the term depends on, additive over
      regions (the whole image's sums are its tiles' sums added up). `maps` holds the region's features
      of `layers` as (h, w, c) tensors, `pixels` the region's (h, w, 3) RGB 0..255 pixels, `targets`
      the region's part of `feature_targets`.
    - `value(sums, shape, counts)`: the unweighted term from the whole image's sums; `shape` is the
      image's (height, width), `counts[layer]` the number of feature positions of a layer.
    The objective weighs each value by `weight` and reports it under `name`: the records' terms, the
    report's table columns and the web chart all read these names.
    """

    name: str = ""
    weight: float = 1.0
    layers: tuple[str, ...] = ()  # network layers whose features `sums` reads
    feature_targets: Mapping[str, object] = {}  # per-position targets of `layers`, cut to each tile
    # Tiled, `sums` gets a tile's own pixels plus the next row and column where the image has them (what
    # total variation needs); a term written for that sets `tileable`, others are refused by `TiledObjective`.
    tileable: bool = False

    def sum_shapes(self) -> dict[str, tuple]:
        """The shape of each of `sums`' values (None for a size that varies), for compiled signatures."""
        raise NotImplementedError

    def sums(self, maps: Mapping[str, tf.Tensor], pixels: tf.Tensor, targets: Mapping[str, tf.Tensor]) -> dict:
        raise NotImplementedError

    def value(self, sums: Mapping[str, tf.Tensor], shape, counts: Mapping[str, object]) -> tf.Tensor:
        raise NotImplementedError


def term_names(terms: Sequence[Term]) -> tuple[str, ...]:
    """The names of `terms`, refusing two terms of one name (their values would overwrite each other)."""
    names = tuple(t.name for t in terms)
    if len(set(names)) != len(names):
        raise ValueError(f"two loss terms share a name: {', '.join(names)}")
    return names


class NamedTerms:
    """Lookups on an objective's `loss_terms`, shared by `Objective` and `tiling.TiledObjective`."""

    loss_terms: tuple[Term, ...] = ()

    @property
    def weights(self) -> dict[str, float]:
        return {t.name: t.weight for t in self.loss_terms}

    def term(self, name: str) -> Term:
        return next(t for t in self.loss_terms if t.name == name)

    @property
    def content_layers(self) -> tuple[str, ...]:
        return self.term("content").layers

    @property
    def style_layers(self) -> tuple[str, ...]:
        return self.term("style").layers

    @property
    def content_targets(self) -> Mapping[str, tf.Tensor]:
        return self.term("content").feature_targets

    @property
    def style_targets(self) -> Mapping[str, tf.Tensor]:
        """The style term's targets by layer: the blended Grams, the sliced loss's sorted projections, or the
        Wasserstein-2 loss's covariances."""
        return self.term("style").targets


def second_moment_sums(maps: Mapping[str, tf.Tensor], layers: Sequence[str]) -> dict[str, tf.Tensor]:
    """FᵀF of each layer's (h, w, c) features, under "style/<layer>": the sums a Gram-matrix or covariance style
    term is made of (not yet divided by the number of positions; additive over regions)."""
    out = {}
    for n in layers:
        flat = tf.reshape(maps[n], (-1, tf.shape(maps[n])[-1]))
        out[f"style/{n}"] = tf.matmul(flat, flat, transpose_a=True)
    return out
