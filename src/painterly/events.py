"""The records the engine emits: one `Iterate` per step, one `Result` per run.

Everything that watches a run (progress bar, reports, the web stream, benchmarks) reads these and
nothing else. No TensorFlow here: only NumPy arrays and plain numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np


# How a run ended: the one vocabulary of a still's `Result.stopped`, a video's `VideoOutcome.stopped` and the web
# job's finished states (which add only "queued" and "running" before them). A run not yet ended is "not started".
STOPS = {
    "completed": "every planned step (or frame) ran",
    "converged": "the optimiser ended before its planned steps: the loss no longer fell",
    "unchanged": "no step lowered the loss from the starting image's: the output is the starting image",
    "cancelled": "its caller asked it to stop (a listener said so, the web page's Cancel): the best so far is kept",
    "interrupted": "Ctrl-C, or the server stopping: the best so far is kept",
    "terminated": "SIGTERM: the best so far is kept",
    "broken": "the input video ended in a damaged stream: the frames before it are kept",
    "failed": "an error after the first step or frame: what was painted is kept, and the error said",
}

STOPPED_FROM_OUTSIDE = ("cancelled", "interrupted", "terminated")
ENDINGS = ("done", "stopped", "failed")  # a job's outcome, stills and videos alike (`ending`)


def ending(stopped: str | None, failure: Exception | None) -> str:
    """How a job ended, one rule for a still's `Outcome` and a video's `VideoOutcome`: failed (an error, kept what
    was painted), stopped (asked to stop from outside; None: before the first step) or done."""
    if failure is not None or stopped in ("broken", "failed"):
        return "failed"
    if stopped is None or stopped in STOPPED_FROM_OUTSIDE:
        return "stopped"
    return "done"


@dataclass(frozen=True)
class Iterate:
    """The state of a run after one optimisation step."""

    step: int  # 0 is the starting image of a scale, then 1 .. steps
    steps: int  # iterations planned at this scale
    loss: float  # total weighted loss of `image`
    terms: Mapping[str, float]  # weighted loss terms of `image`, by name: "content", "style", "tv", …
    elapsed: float  # seconds since the run started (model building and image loading excluded)
    evaluations: int  # loss-and-gradient evaluations so far in this run
    size: tuple[int, int]  # (width, height) of `image`
    scale: int = 0  # index of the current scale, 0 .. scales - 1
    scales: int = 1  # number of scales in the run
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    """float32 RGB, shape (height, width, 3), values in 0..255: the image `loss` was measured on.
    Records kept in a `Result.history` carry no image."""

    def without_image(self) -> Iterate:
        return dataclasses.replace(self, image=None)


@dataclass(frozen=True)
class TileProgress:
    """Progress inside one loss-and-gradient evaluation of a tiled run (images too large to do whole)."""

    done: int  # tile computations finished in this evaluation: 1 .. total
    total: int  # twice the image's tiles: pass 1 adds up the loss's sums, pass 2 the gradient
    size: tuple[int, int]  # (width, height) of the image being evaluated
    scale: int = 0  # index of the current scale
    scales: int = 1  # number of scales in the run


@dataclass(frozen=True)
class Result:
    """What a finished (or interrupted) run returns."""

    image: np.ndarray  # float32 RGB (height, width, 3) in 0..255: the lowest-loss image of the last scale
    alpha: np.ndarray | None  # uint8 (height, width) alpha of the content image at output size, if it had one
    history: tuple[Iterate, ...]  # every step's record, without images
    metadata: Mapping[str, Any]  # settings, backbone, versions, timings: JSON-serialisable
    stopped: str  # one of `STOPS`: completed, converged, unchanged, cancelled, interrupted or terminated

    @property
    def best(self) -> Iterate:
        """The record of the returned image."""
        last_scale = [r for r in self.history if r.scale == self.history[-1].scale]
        return min(last_scale, key=lambda r: r.loss)
