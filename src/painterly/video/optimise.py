"""The optimisation on video (Ruder, Dosovitskiy & Brox 2016): frame t starts from the previous output
warped along the flow, and its objective gets a temporal term that holds it there where the flow is
reliable.

    painter = OptimisePainter(job, styles, size)
    image, terms = painter.paint(index, frame, previous_output, pair)  # pair: a Future of the FlowPair

* The first frame is a still: `settings.iterations` steps from `settings.init`.
* ``flow`` (the default): frame t > 0 starts from the previous output carried as the fast method's steady
  mode carries it (`temporal.carry`: not moved where the input did not change, warped along the flow
  elsewhere) where its confidence C is high and, where C is low (disoccluded, motion boundaries), from
  the photo (or, with ``--init fast``, the fast network's
  picture of the frame); `frame_iterations` steps (default 10) with the `TemporalTerm`, weighted by C,
  added to the objective. The still background is held where it was instead of dragged along DIS's
  noise on textureless walls. (The long-term terms keep Ruder et al.'s masks and flows.)
* ``none``: every frame a still from its own photo (`settings.iterations` steps): frame by frame.
* ``blend``: the frame-by-frame result blended with the previous output, a·prev + (1−a)·new.

The feature network is built once and the style targets are computed once for the whole video (the
objective's style-target cache, `losses.style_grams`); each frame's content target is its own photo's.
Each frame runs at one scale (the video's size: no coarse-to-fine).
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

from .. import colors, images, methods
from ..errors import SettingsError
from ..interrupts import Cancelled
from ..methods.optimise import Transfer
from ..settings import Settings
from .flow import FlowPair, warp
from .temporal import DEFAULT_WEIGHT, TEMPORAL, FastFrames, carry

FRAME_ITERATIONS = 10  # steps for each frame after the first: 10 and 20 both met the targets (docs/PERFORMANCE.md)
TEMPORAL_WEIGHT = 100.0  # the temporal term's weight, beside α = 1, β = 10 and TV = 1


def long_term_masks(short: np.ndarray, longer: list[np.ndarray]) -> list[np.ndarray]:
    """Ruder et al.'s long-term weights (eq. 9): frame t−k's mask keeps only the pixels that no nearer
    frame (t−1 or a nearer long-term one) can vouch for, max(c_k − Σ_{j<k} c_j, 0); `longer` in the order
    of k, nearest first."""
    covered, masks = np.asarray(short, np.float32).copy(), []
    for mask in longer:
        mask = np.asarray(mask, np.float32)
        masks.append(np.maximum(mask - covered, 0.0))
        covered += mask
    return masks


def temporal_term(weight: float, warped: np.ndarray, mask: np.ndarray, name: str = "temporal"):
    """The named `temporal` loss term: Σ M·(x − warp(O_{t−1}))² / D on RGB in 0..1 units, D = H·W·3
    (Ruder et al.'s eq. 8; the mask's zeros drop the pixels the flow cannot vouch for). A long-term one
    (t−k, k > 1) is the same with frame t−k's output and its own mask, named temporal_k."""
    import tensorflow as tf

    from ..terms import Term

    class TemporalTerm(Term):
        tileable = False  # it reads the whole frame's target; a frame too large for memory is refused

        def __init__(self):
            self.name, self.weight = name, float(weight)
            self.target = tf.constant(np.asarray(warped, np.float32) / 255.0)
            self.mask = tf.constant(np.asarray(mask, np.float32)[..., None])

        def sum_shapes(self):
            return {self.name: ()}

        def sums(self, maps, pixels, targets):
            difference = tf.cast(pixels, tf.float32) / 255.0 - self.target
            return {self.name: tf.reduce_sum(self.mask * tf.square(difference))}

        def value(self, sums, shape, counts):
            total = sums[self.name]
            return total / tf.cast(shape[0] * shape[1] * 3, total.dtype)

    return TemporalTerm()


class OptimisePainter:
    """The optimisation for each frame of a video job, one network for all of them (see `painters`)."""

    long_term = True  # it takes --long-term's terms

    def __init__(self, job, styles, size, *, network=None, notice=None, stop=None):
        s = job.settings
        self.job, self.styles, self.size, self.notice = job, styles, size, notice
        self.stop = stop or (lambda: False)  # asked between iterations: a cancel need not wait for the frame
        self.settings = s.replace(multiscale="off", size=max(size), size_edge="long",
                                  seed=s.seed if s.seed is not None else 0)
        self.frame_iterations = job.frame_iterations or FRAME_ITERATIONS
        if job.temporal == "blend":
            self.weight = DEFAULT_WEIGHT["blend"] if job.temporal_weight is None else job.temporal_weight
            if self.weight > 1:
                raise SettingsError(f"--temporal-weight {self.weight:g} is the previous output's share with "
                                    f"--temporal blend: give 0 to 1")
            self.combine = TEMPORAL["blend"](self.weight)
        elif job.temporal == "flow":
            self.weight = TEMPORAL_WEIGHT if job.temporal_weight is None else job.temporal_weight
        else:
            self.weight = 0.0  # frame by frame: no temporal term
        self._network = network
        self._fast = None

    @property
    def network(self):
        """The feature network every frame is painted with: given, or built once (`Method.build_network`)."""
        if self._network is None:
            self._network = methods.get(self.settings.method).build_network(self.settings, notice=self.notice)
        return self._network

    def seen(self, frame: np.ndarray) -> None:
        pass  # every frame's run is its own: nothing carries over but the previous output

    def paint(self, index: int, frame: np.ndarray, previous_output, pair: "Future[FlowPair] | None", earlier=()):
        """`earlier`: (k, output t−k, Future of the FlowPair from t−k to t) for the long-term terms."""
        pair = pair.result() if pair is not None else None
        settings = self.settings.replace(seed=self.settings.seed + index)
        temporal = self.job.temporal == "flow" and previous_output is not None and pair is not None
        start, extra = None, ()
        if temporal:
            carried = carry(pair, 1.0)  # zero flow where the input did not change; a soft confidence elsewhere
            warped = warp(previous_output, carried.flow, cubic=True)
            fill = self._fill(frame, settings)
            start = np.clip(fill + carried.confidence[..., None] * (warped - fill), 0.0, 255.0)
            target = colors.luminance(warped) if settings.preserve_color == "luminance" else warped
            extra = (temporal_term(self.weight, target, carried.confidence),) + \
                self._long_term(pair, earlier, settings)
            settings = settings.replace(iterations=self.frame_iterations, init="content")
        run = Transfer(frame, [p.rgb for p in self.styles], settings, start=start, extra_terms=extra,
                            network=self.network, notice=self.notice)
        for _ in run:
            if self.stop():
                raise Cancelled()
        result = run.result()
        image = result.image
        if (image.shape[1], image.shape[0]) != self.size:  # a frame wider than 2:1 gets the still's pixel rule
            image = images.resize(image, self.size)
        if self.job.temporal == "blend":
            image = self.combine(image, previous_output, pair)
        return image, dict(result.best.terms)

    def _long_term(self, pair: FlowPair, earlier, settings: Settings) -> tuple:
        """The terms holding frame t to the outputs t−k where neither t−1 nor a nearer t−k reaches."""
        earlier = [(k, output, future.result()) for k, output, future in earlier]
        masks = long_term_masks(pair.mask, [far.mask for _, _, far in earlier])
        terms = []
        for (k, output, far), mask in zip(earlier, masks):
            warped = warp(output, far.backward, cubic=True)
            target = colors.luminance(warped) if settings.preserve_color == "luminance" else warped
            terms.append(temporal_term(self.weight, target, mask, name=f"temporal_{k}"))
        return tuple(terms)

    def _fill(self, frame: np.ndarray, settings: Settings) -> np.ndarray:
        """Where the flow is unreliable: the photo, or with --init fast the fast network's picture."""
        if settings.init != "fast":
            return np.asarray(frame, np.float32)
        if self._fast is None:
            self._fast = FastFrames([p.rgb for p in self.styles], settings, self.size, frame)
        return self._fast.paint(frame)

    def describe(self) -> dict:
        return {"name": "optimise", "frame_iterations": self.frame_iterations,
                "first_frame_iterations": self.settings.iterations,
                "temporal_term_weight": self.weight if self.job.temporal == "flow" else None,
                "long_term": list(self.job.long_term),
                "settings": self.settings.to_dict()}
