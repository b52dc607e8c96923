"""The fast method: the photo painted in one pass by a feed-forward network (see `painterly.feedforward`).

    run = FastRun("photo.jpg", ["starry.jpg"], Settings(method="fast"))
    for record in run:   # exactly one record: the painted picture (step 0, no loss: nothing is minimised)
        ...
    result = run.result()

The settings that apply (see `Settings`; the rest belong to the optimisation): size and size edge;
several styles mixed by `style_blend` (their style vectors are blended); `style_strength` (the
blend moved toward the photo's own style vector); `style_scale` (the photo is painted at the output's
size divided by it and resized, so the strokes grow with it); `preserve_color` (histogram: each style
recoloured to the photo's colours before its vector is taken; luminance: the painted picture's
luminance with the photo's chroma); `tile` (painted window by window with shared normalisation
statistics when the whole would not fit). No TensorFlow is imported: only onnxruntime.

`paint_picture` is the same painting for the optimisation's `--init fast`.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Iterator

import numpy as np

from .. import colors, feedforward, images, memory
from ..errors import PainterlyError, SettingsError
from ..events import Iterate, Result
from ..settings import Settings
from ..version import __version__
from .base import Method, describe_picture, load_inputs, shown_inputs, versions

IMAGE_BYTES = 5 * 4 * 3  # float32 RGB copies held beside the network's own memory: input, output, resized, shown
PROCESS_BYTES = 120_000_000  # a process with NumPy and onnxruntime, besides the network (a Ray worker's peak with
# the network loaded, painting 32 px: 210 MB; at 512 px: 275 MB against 305 estimated: bench/batch.py)


def painted_size(content_size: tuple[int, int], size: tuple[int, int], style_scale: float) -> tuple[int, int]:
    """The size the network paints at for an output of `size`: the output's, divided by the style scale
    (the network's strokes have a fixed size in its own pixels, so painting smaller makes them larger)."""
    if style_scale == 1:
        return size
    return images.fit_size(content_size, max(16, round(max(size) / style_scale)))


def paint_picture(content: np.ndarray, styles: list[np.ndarray], settings: Settings, size: tuple[int, int], *,
                  network: feedforward.FastNetwork | None = None, tile: int | None = None,
                  vector: np.ndarray | None = None) -> np.ndarray:
    """`content` (RGB, 0..255) painted in `styles` at `size` (width, height) as `settings` say:
    float32 RGB (height, width, 3) in 0..255. `vector`: the style vector to paint with instead of the
    styles' (a video's, taken once for all its frames: `video.temporal.FastFrames`)."""
    s = settings
    photo = images.resize(content, size)
    at = painted_size((content.shape[1], content.shape[0]), size, s.style_scale)
    source = photo if at == size else images.resize(content, at)
    if vector is not None:
        out = (network if network is not None else feedforward.network()).paint(source, vector, tile=tile)
    else:
        if s.preserve_color == "histogram":
            styles = [colors.match_colors(style, photo) for style in styles]
        out = feedforward.paint(source, styles, weights=s.style_blend, strength=s.style_strength, tile=tile,
                                network=network)
    if at != size:
        out = images.resize(out, size)
    if s.preserve_color == "luminance":
        out = colors.recombine(out, photo)
    return np.clip(out, 0.0, 255.0).astype(np.float32)


def check_memory(painted: tuple[int, int], size: tuple[int, int], tile) -> dict:
    """The peak estimate of painting at `painted` (width, height) for an output of `size`; with `tile` "auto",
    tiles when the whole would not fit. PainterlyError (one line) when even that does not fit; else
    {estimated_peak_bytes, available_bytes, tile} with the tile side to paint with (None: whole)."""
    width, height = painted
    out_w, out_h = size
    available = memory.available_bytes() + memory.current_rss_bytes()
    held = memory.current_rss_bytes() + IMAGE_BYTES * (width * height + out_w * out_h)
    whole = feedforward.estimate_peak_bytes(width, height) + held
    if tile == "auto":
        tile = None if whole <= available else feedforward.largest_tile(available - held)
    if tile is not None and tile >= max(width, height):
        tile = None  # one window is the whole picture
    if tile is not None and tile < feedforward.MIN_TILE:
        raise SettingsError(f"--tile {tile} is too small for the fast method: give {feedforward.MIN_TILE} or "
                            f"more ({4 * feedforward.OVERLAP} or more keeps the joins invisible), auto or off")
    estimate = whole if tile is None else feedforward.estimate_peak_bytes(tile, tile) + held
    if estimate > available:
        raise PainterlyError(
            f"painting {width}×{height} needs about {memory.format_bytes(estimate)} of memory but "
            f"{memory.format_bytes(available)} is available: use a smaller --size, or --tile auto")
    return {"estimated_peak_bytes": estimate, "available_bytes": available, "tile": tile}


class FastRun:
    """One fast-method run, prepared: inputs loaded and sizes and memory checked; the network is
    loaded on first iteration (or first use of `network`)."""

    planned_steps = 0  # no optimisation steps: the one record is the painted picture

    def __init__(self, content, style, settings: Settings | None = None, *,
                 network: feedforward.FastNetwork | None = None, notice: Callable[[str], None] | None = None):
        """content: a path, array or Picture; style: one of those or a list of them (blended).
        network: a loaded `FastNetwork` to reuse (default: the process-wide one)."""
        self.settings = settings = settings or Settings(method="fast")
        started = time.perf_counter()
        self.content, self.styles = load_inputs(content, style, settings)
        if settings.size == "auto":  # the network's memory is linear in pixels and it tiles: the photo's own size
            self.size = self.content.size
        else:
            self.size = images.output_size(self.content.size, settings.size, settings.size_edge)
        self.scales = [self.size]
        self.painted_size = painted_size(self.content.size, self.size, settings.style_scale)
        self.memory = self._check_memory()
        self._network = network
        self.alpha = None
        if self.content.alpha is not None:
            self.alpha = images.to_uint8(images.resize(self.content.alpha, self.size))
        self.history: list[Iterate] = []
        self.best: Iterate | None = None
        self.stopped = "not started"
        self.timings = {"setup_s": time.perf_counter() - started}

    network_name = None  # one network: nothing to choose or report

    @property
    def network(self) -> feedforward.FastNetwork:
        if self._network is None:
            started = time.perf_counter()
            self._network = feedforward.network()
            self.timings["load_s"] = time.perf_counter() - started
        return self._network

    def _check_memory(self) -> dict:
        return check_memory(self.painted_size, self.size, self.settings.tile)

    def describe(self) -> str:
        """One line before the work starts: size, the network, the memory it will need."""
        width, height = self.size
        at = self.painted_size
        return (f"painterly: {width}×{height} with the fast network (Magenta arbitrary style)"
                + (f", painted at {at[0]}×{at[1]}" if at != self.size else "")
                + f"; estimated peak memory {memory.format_bytes(self.memory['estimated_peak_bytes'])} "
                  f"of {memory.format_bytes(self.memory['available_bytes'])} available"
                + (f", in tiles of {self.memory['tile']} px" if self.memory["tile"] else ""))

    def __iter__(self) -> Iterator[Iterate]:
        network = self.network  # loaded before the clock starts, as the optimisation builds its network
        started = time.perf_counter()
        self.stopped = "interrupted"
        self.history, self.best = [], None
        image = paint_picture(self.content.rgb, [p.rgb for p in self.styles], self.settings, self.size,
                              network=network, tile=self.memory["tile"])
        elapsed = time.perf_counter() - started
        self.timings["paint_s"] = elapsed
        record = Iterate(step=0, steps=0, loss=math.nan, terms={}, elapsed=elapsed, evaluations=0,
                         size=self.size, image=image)
        self.history.append(record.without_image())
        self.best = record
        self.stopped = "completed"
        yield record

    def first_picture(self) -> None:
        """Nothing to show before the one pass (the optimisation's is its starting image)."""
        return None

    def inputs(self) -> dict[str, np.ndarray]:
        """The content and style images at the output's size, as a report shows them (name -> RGB)."""
        return shown_inputs(self.content, self.styles, self.size)

    def result(self) -> Result:
        if self.best is None:
            raise PainterlyError("the run stopped before the picture was painted: nothing to save")
        return Result(image=self.best.image, alpha=self.alpha, history=tuple(self.history),
                      metadata=self.metadata(), stopped=self.stopped)

    def metadata(self) -> dict:
        return {
            "painterly": __version__,
            "method": "fast",
            "settings": self.settings.to_dict(),
            "network": {"name": feedforward.WEIGHTS["name"], "files": feedforward.WEIGHTS["files"],
                        "licence": feedforward.WEIGHTS["licence"]},
            "content": describe_picture(self.content),
            "styles": [describe_picture(p) for p in self.styles],
            "output_size": list(self.size),
            "painted_size": list(self.painted_size),
            "memory": {**self.memory, "peak_rss_bytes": memory.peak_rss_bytes()},
            "stopped": self.stopped,
            "timings": dict(self.timings),
            "peak_memory_mb": memory.peak_rss_bytes() / 2**20,
            "versions": versions("onnxruntime", "onnx"),
        }


class Fast(Method):
    """The fast method in the registry (`painterly.methods`)."""

    name = "fast"
    title = "the fast network"
    iterative = False

    def prepare(self, content, style, settings, *, network=None, notice=None, on_tile=None) -> FastRun:
        return FastRun(content, style, settings, network=network, notice=notice)

    def build_network(self, settings, *, notice=None, threads=None) -> feedforward.FastNetwork:
        return feedforward.network(threads)

    def uses_fast_picture(self, settings) -> bool:
        return True

    def estimate_bytes(self, settings, size, style_sizes) -> int:
        width, height = size
        return int(PROCESS_BYTES + feedforward.estimate_peak_bytes(width, height) + IMAGE_BYTES * width * height)

    def summary(self, result) -> str:
        return f"fast network) in {result.metadata['timings']['paint_s']:.2f} s"


METHOD = Fast()
