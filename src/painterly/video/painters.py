"""The frame painters: one frame at a time, given the previous output and the flow — one painter class per
method that paints videos (`PAINTERS`, by the method's name).

    painter = make_painter(job, styles, size, network=network)      # styles: loaded pictures
    image, error, reliable, terms = paint_frame(painter, flow, pool, index, frame, previous_input, previous_output)

A painter has `paint(index, frame, previous_output, pair, earlier)` → (image, the loss terms), `seen(frame)`
for a frame a resumed run has already, `weight` (its temporal weight), `describe()` for the metadata, and
`long_term` (whether it takes `--long-term`'s terms). `FastPainter` is here; `optimise.OptimisePainter` is the
optimisation's. Both a run in one process (`runner.VideoRun`) and a Ray actor (`chunked.ChunkPainter`) paint
with these.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .. import images, methods
from ..errors import SettingsError
from ..methods.fast import check_memory, painted_size
from .flow import Flow, FlowPair, warp, warping_error
from .optimise import OptimisePainter
from .temporal import DEFAULT_WEIGHT, TEMPORAL, FastFrames


def paint_frame(painter, flow: Flow, pool: ThreadPoolExecutor, index: int, frame: np.ndarray,
                previous_input: np.ndarray | None, previous_output: np.ndarray | None, earlier=()):
    """One link of the chain: frame `index` painted after the previous one (None: the chain starts here),
    its flow measured on `pool` while the painter works. (uint8 image, warping error, reliable share, terms);
    the error and share are None where the chain starts. `earlier`: the long-term frames (`--long-term`)."""
    pending = pool.submit(flow.pair, previous_input, frame) if previous_input is not None else None
    image, terms = painter.paint(index, frame, previous_output, pending, earlier)
    pair = pending.result() if pending is not None else None
    image = images.to_uint8(image)
    error = reliable = None
    if pair is not None:
        error = warping_error(image, warp(previous_output, pair.backward), pair.mask)
        reliable = float(pair.mask.mean())
    return image, error, reliable, terms


class FastPainter:
    """The fast network per frame, then the temporal mode's blend with the previous output. A frame takes a
    fraction of a second: it is stopped between frames (`stop` is not asked)."""

    long_term = False

    def __init__(self, job, styles, size, *, network=None, notice=None, stop=None):
        self.job, self.styles, self.size, self.network = job, styles, size, network
        self.weight = DEFAULT_WEIGHT[job.temporal] if job.temporal_weight is None else job.temporal_weight
        self.combine = TEMPORAL[job.temporal](self.weight)
        self.frames = self.painted = None
        # a still's memory check and --tile, for one frame (the frames come at the output's size)
        self.memory = check_memory(painted_size(size, size, job.settings.style_scale), size, job.settings.tile)

    def seen(self, frame: np.ndarray) -> None:
        """A frame before the resumed part: the first one still sets the style vector."""
        if self.frames is None:
            self.start(frame)

    def start(self, first: np.ndarray) -> None:
        """The style vector, from the video's first frame (`temporal.FastFrames`)."""
        self.frames = FastFrames([s.rgb for s in self.styles], self.job.settings, self.size, first,
                                 network=self.network, tile=self.memory["tile"])

    def paint(self, index: int, frame, previous_output, pair: "Future[FlowPair] | None", earlier=()):
        """The network paints `frame` while `pair`, the flow from the previous frame, is measured beside it
        (`earlier`, the long-term frames, is the optimisation's only)."""
        if self.frames is None:
            self.start(frame)
        painted = self.painted = self.frames.paint(frame)  # kept: the flicker meter's frame-by-frame baseline
        return self.combine(painted, previous_output, pair.result() if pair is not None else None), {}

    def describe(self) -> dict:
        return {"name": "fast", "network": "Magenta arbitrary image stylization (Ghiasi et al. 2017)",
                "tile": self.memory["tile"], "estimated_peak_bytes": self.memory["estimated_peak_bytes"]}


PAINTERS = {"fast": FastPainter, "optimise": OptimisePainter}  # method name -> its frame painter


def painter_class(method: str) -> type:
    """The frame painter of the method named `method`; SettingsError (one line) for a method with none."""
    painter = PAINTERS.get(method)
    if painter is None:
        raise SettingsError(f"--method {method} does not paint videos: choose {' or '.join(PAINTERS)}")
    return painter


def make_painter(job, styles, size, *, network=None, notice=None, stop=None):
    """The job's painter; styles: loaded pictures; `network`: the method's network to reuse (None: the painter
    builds its own); `stop`: asked between a frame's steps, where the method steps."""
    painter = painter_class(job.settings.method)
    methods.get(job.settings.method).load_libraries()
    return painter(job, styles, size, network=network, notice=notice or (lambda message: None), stop=stop)


def resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 RGB at `size`: area averaging to shrink, bicubic to enlarge."""
    import cv2

    if (frame.shape[1], frame.shape[0]) == size:
        return np.ascontiguousarray(frame)
    shrink = size[0] * size[1] < frame.shape[0] * frame.shape[1]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
