"""The optimisation method (Gatys et al.): the loss over a VGG network's features minimised step by step.

    run = Transfer(content, style, settings)   # loads images, plans sizes and memory
    for record in run:                         # builds the backbone, optimises, one record per step
        ...                                    # leave the loop (or Ctrl-C) to stop early
    result = run.result()                      # the best image so far, history and metadata

It never prints. `painterly.engine.stylize()` runs any method with an optional callback.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import math
import time
import warnings
from typing import Callable, Iterator

import numpy as np

from .. import architectures, backbones, colors, images, memory
from ..errors import NumericalError, PainterlyError, SettingsError
from ..events import Iterate, Result, TileProgress
from ..optimizers import OPTIMIZERS, OptimizerSettings
from ..settings import INITS, Settings
from ..version import __version__
from .base import Method, describe_picture, load_inputs, shown_inputs, versions

ImageInput = "str | os.PathLike | np.ndarray | images.Picture"
AUTO_TILES = (1024, 512, 256, 128)  # --tile auto: the largest of these that fits (larger tiles waste less on halos)


class Transfer:
    """One style-transfer run, prepared: inputs loaded, network built, ready to iterate."""

    def __init__(
        self,
        content,
        style,
        settings: Settings | None = None,
        *,
        backbone: backbones.Backbone | None = None,
        notice: Callable[[str], None] | None = None,
        on_tile: Callable[[TileProgress], None] | None = None,
        network: backbones.Backbone | None = None,
        start: np.ndarray | None = None,
        extra_terms=(),
    ):
        """content: a path, array or Picture; style: one of those or a list of them (blended).

        backbone (or network, its name in every method): a prebuilt feature network to reuse across runs (it
            must return the settings' layers).
        notice: called with one-line messages worth telling the user (e.g. the backbone fallback).
        on_tile: called after every tile of a tiled evaluation (large images; see --tile), possibly from
            the optimiser's worker thread.
        start: the starting image (RGB 0..255, any size) instead of the one `settings.init` names (a video's
            frame starts from the previous output, warped).
        extra_terms: more named loss terms (`terms.Term`), e.g. a video's temporal term; they need the whole
            image, so a run that would have to tile is refused.
        """
        self.settings = settings = settings or Settings()
        self.on_tile = on_tile
        self.start, self.extra_terms = start, tuple(extra_terms)
        started = time.perf_counter()
        self.content, self.styles = load_inputs(content, style, settings)
        self.init_image = None
        if settings.init not in INITS:  # an image file: checked now, before any network is built
            self.init_image = images.load_image(settings.init, role="init image")
        self.seed = settings.seed if settings.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
        self.layers = layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
        self.size = self._output_size(layers)
        self.scales = self._scales()
        _check_small(self.scales, layers)
        self.memory = self._check_memory(layers)
        if self.memory.get("tile") and settings.style_loss == "sliced":  # (--tile N is refused by the settings)
            raise SettingsError(f"a {self.size[0]}×{self.size[1]} run does not fit in memory whole, and --style-loss "
                                f"sliced sorts the whole image's features: use a smaller --size, or --style-loss "
                                f"auto (it tiles)")
        self._notice = notice
        self._backbone = None
        self._first = None  # the first scale's starting image, once `first_picture` has made it
        backbone = backbone if backbone is not None else network
        if backbone is not None:
            self._use(backbone)
        elif settings.model in backbones.KERAS_FILES and settings.weights is None:
            backbones.check_imagenet(settings.model)  # offline: one line now, not a failed download later
        self.alpha = None
        if self.content.alpha is not None:
            self.alpha = images.to_uint8(images.resize(self.content.alpha, self.size))
        self.history: list[Iterate] = []
        self.best: Iterate | None = None
        self.evaluations = 0
        self.stopped = "not started"
        self.timings = {"setup_s": time.perf_counter() - started}

    @property
    def backbone(self) -> backbones.Backbone:
        """The feature network, built on first use: everything about the inputs and settings is
        checked in the constructor first, so bad input is refused before TensorFlow is even imported."""
        if self._backbone is None:
            s = self.settings
            self._use(backbones.build(s.model, self.layers, weights=s.weights, pooling=s.pooling, border=s.border,
                                      notice=self._notice, precision=s.precision, seed=self.seed))
        return self._backbone

    network = backbone  # every method's run names the network it paints with `network`

    @property
    def network_name(self) -> str:
        """The feature network's name (with --model auto: the one it chose)."""
        return self.backbone.name

    @property
    def planned_steps(self) -> int:
        """Optimisation steps planned over all scales."""
        return sum(self.settings.scale_iterations(i, max(size)) for i, size in enumerate(self.scales))

    def describe(self) -> str:
        """One line before the work starts: sizes, scales, backbone, the memory it will need."""
        width, height = self.size
        scales = " → ".join(f"{w}×{h}" for w, h in self.scales)
        return (f"painterly: {scales if len(self.scales) > 1 else f'{width}×{height}'} with {self.backbone.name}"
                + (", from the fast method's picture" if self.settings.init == "fast" else "")
                + f"; estimated peak memory {memory.format_bytes(self.memory['estimated_peak_bytes'])} "
                  f"of {memory.format_bytes(self.memory['available_bytes'])} available"
                + (f", in tiles of {self.memory['tile']} px" if self.memory.get("tile") else ""))

    def _use(self, backbone: backbones.Backbone) -> None:
        missing = [name for name in self.layers if name not in backbone.layers]
        if missing:
            raise SettingsError(f"the given backbone does not return {', '.join(missing)}: build it with these layers")
        self._backbone = backbone

    def _output_size(self, layers) -> tuple[int, int]:
        s = self.settings
        if s.size != "auto":
            return images.output_size(self.content.size, s.size, s.size_edge)
        budget = memory.available_bytes() + memory.current_rss_bytes()
        size = images.output_size(self.content.size, self._largest_size_value(layers, budget), s.size_edge)
        return size if max(size) <= max(self.content.size) else self.content.size  # never enlarged

    def _largest_size_value(self, layers, budget: int) -> int:
        """The largest --size value whose run fits in `budget` bytes."""
        def planned(value: int) -> int:
            side = max(images.output_size(self.content.size, value, self.settings.size_edge))
            return self._planned_estimate(side, layers, budget)

        return memory.largest_fitting_side(planned, budget)

    def _scales(self) -> list[tuple[int, int]]:
        """Sizes of the scales, coarse to fine: halvings of the output's longest side down to min_size."""
        sides = self.settings.scale_sizes(max(self.size))
        return [images.fit_size(self.content.size, side) for side in sides[:-1]] + [self.size]

    def _style_sizes(self, side: int) -> list[tuple[int, int]]:
        """Each style image's (width, height) at an output of longest side `side`: side × style scale,
        but not enlarged beyond the image's own pixels unless --style-upscale."""
        s = self.settings
        return [images.style_shape(p.size, side, s.style_scale, s.style_upscale) for p in self.styles]

    def _estimate(self, side: int, layers, tile: int | None = None) -> int:
        """Estimated peak bytes of this run with an output of longest side `side` (styles included),
        the network seeing the whole image or tiles of `tile` pixels."""
        size = images.fit_size(self.content.size, side)
        return peak_bytes(self.settings, size, self._style_sizes(side), layers, tile)

    def _tile_for(self, side: int, layers, budget: int) -> int | None:
        """The tile size at longest side `side`, None for the whole image: --tile, or with auto the
        largest of AUTO_TILES that fits in `budget` when the whole image does not."""
        tile = self.settings.tile
        if tile == "auto":
            if self._estimate(side, layers) <= budget:
                return None
            fitting = [t for t in AUTO_TILES if self._estimate(side, layers, t) <= budget]
            tile = fitting[0] if fitting else AUTO_TILES[-1]
        return tile if tile is not None and tile < side else None  # one tile is the whole image

    def _planned_estimate(self, side: int, layers, budget: int) -> int:
        return self._estimate(side, layers, self._tile_for(side, layers, budget))

    def _check_memory(self, layers) -> dict:
        """Estimate the run's peak memory and refuse at once a run that cannot fit."""
        width, height = self.size
        available = memory.available_bytes() + memory.current_rss_bytes()
        tile = self._tile_for(max(self.size), layers, available)
        estimate = self._estimate(max(self.size), layers, tile)
        if estimate > available:
            fits = self._largest_size_value(layers, available)
            raise PainterlyError(
                f"a {width}×{height} run needs about {memory.format_bytes(estimate)} of memory but "
                f"{memory.format_bytes(available)} is available: use --size {fits} or less (or --size auto)")
        return {"estimated_peak_bytes": estimate, "available_bytes": available, "tile": tile}

    def __iter__(self) -> Iterator[Iterate]:
        self.backbone  # built before the clock starts
        started = time.perf_counter()
        self.stopped = "interrupted"  # until the loop finishes by itself
        self.history, self.best, self.evaluations = [], None, 0  # a second pass is a new run, not more of the first
        x = None
        converged = False
        improved = False  # whether any step lowered the loss below its scale's starting image's
        for scale, size in enumerate(self.scales):
            planned = self.settings.scale_iterations(scale, max(size))
            objective = self.objective(size, scale)
            start = (self._first if self._first is not None else self.start_image(size)) if x is None \
                else images.resize(x, size)
            x = np.clip(start, 0.0, 255.0)  # Lanczos overshoots the pixel range the optimisers keep to
            evaluate = _Cache(objective, self)
            self.best, best_x = None, x
            step = 0
            for step, x in enumerate(self._optimize(x, evaluate, planned)):
                loss, terms = evaluate.measure(x)
                record = Iterate(step=step, steps=planned, loss=loss, terms=terms,
                                 elapsed=time.perf_counter() - started, evaluations=self.evaluations,
                                 size=size, scale=scale, scales=len(self.scales), image=self._shown(x, size))
                self.history.append(record.without_image())
                if self.best is None or loss <= self.best.loss:
                    improved = improved or (step > 0 and loss < self.best.loss)
                    self.best, best_x = record, x
                yield record
            x = best_x  # the next scale starts from this scale's best
            converged = step < planned
        self.stopped = "unchanged" if not improved else "converged" if converged else "completed"
        self.timings["optimize_s"] = time.perf_counter() - started

    def _optimize(self, image: np.ndarray, evaluate, iterations: int) -> Iterator[np.ndarray]:
        """The starting image, then the optimiser's iterates."""
        yield image
        s = self.settings
        run = OPTIMIZERS[s.optimizer]
        yield from run(image, evaluate, OptimizerSettings(iterations, s.rate, s.decay_steps, s.decay_rate))

    def _shown(self, x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The image as the user sees it: in luminance mode, with the content's colours put back."""
        if self.settings.preserve_color != "luminance":
            return x
        return colors.recombine(x, images.resize(self.content.rgb, size))

    def _inputs(self, size: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Content and style images at this scale, as the losses see them (colour modes applied)."""
        s = self.settings
        content = images.resize(self.content.rgb, size)
        styles = [images.resize(p.rgb, shape) for p, shape in zip(self.styles, self._style_sizes(max(size)))]
        if s.preserve_color == "histogram":
            styles = [colors.match_colors(style, content) for style in styles]
        elif s.preserve_color == "luminance":
            content = colors.luminance(content)
            styles = [colors.match_luminance(colors.luminance(style), content) for style in styles]
        return content, styles

    def objective(self, size: tuple[int, int], scale: int = 0):
        """The loss at this scale: whole-image, or tiled (the same numbers in bounded memory)."""
        from ..losses import Objective
        from ..tiling import TiledObjective

        s = self.settings
        content, styles = self._inputs(size)
        options = dict(
            content_layers=s.content_layers, style_layers=s.style_layers,
            content_weight=s.content_weight, style_weight=s.style_weight, tv_weight=s.tv_weight,
            style_layer_weights=s.style_layer_weights, style_blend=s.style_blend, normalize=s.normalize,
            balance=s.loss_balance, style_loss=s.scale_style_loss(scale, max(size)),
        )
        layers = list(dict.fromkeys(s.content_layers + s.style_layers))
        tile = self._tile_for(max(size), layers, self.memory["available_bytes"])
        if tile is None:
            return Objective(self.backbone, content[None], [st[None] for st in styles], extra_terms=self.extra_terms,
                             seed=self.seed, **options)
        if self.extra_terms:
            raise SettingsError(f"a {size[0]}×{size[1]} image does not fit in memory whole, and the "
                                f"{' and '.join(t.name for t in self.extra_terms)} term needs the whole image: "
                                f"use a smaller --size")
        on_tile = self.on_tile
        progress = None if on_tile is None else (
            lambda done, total: on_tile(TileProgress(done, total, size, scale, len(self.scales))))
        return TiledObjective(self.backbone, content, styles, tile=tile, progress=progress, **options)

    def start_image(self, size: tuple[int, int]) -> np.ndarray:
        """The starting image at `size`: the given `start`, or what `settings.init` names."""
        init = self.settings.init
        if self.start is not None:
            image = images.resize(self.start, size)
        elif init == "content":
            image = images.resize(self.content.rgb, size)
        elif init == "style":
            image = images.resize(self.styles[0].rgb, size)
        elif init == "fast":  # the fast method's picture at this scale (see methods/fast.py)
            from .fast import paint_picture

            started = time.perf_counter()
            image = paint_picture(self.content.rgb, [p.rgb for p in self.styles], self.settings, size)
            share = self.settings.init_photo  # a share of the photo, so the content term can bring shapes back
            if share:
                image = (1.0 - share) * image + share * images.resize(self.content.rgb, size)
            self.timings["fast_start_s"] = time.perf_counter() - started
        elif init == "noise":
            rng = np.random.default_rng(self.seed)
            image = np.clip(rng.normal(127.5, 40.0, (size[1], size[0], 3)), 0, 255).astype(np.float32)
        else:
            image = images.resize(self.init_image.rgb, size)
        return colors.luminance(image) if self.settings.preserve_color == "luminance" else image

    def first_picture(self) -> np.ndarray:
        """The first scale's starting image as the user sees it (with --init fast: the fast method's picture,
        about a second), made before the feature network is built, so a page can show it at once; the run
        then starts from this same image."""
        if self._first is None:
            self._first = self.start_image(self.scales[0])
        return self._shown(self._first, self.scales[0])

    def inputs(self) -> dict[str, np.ndarray]:
        """The content and style images at the output's size, as a report shows them (name -> RGB)."""
        return shown_inputs(self.content, self.styles, self.size)

    def result(self) -> Result:
        """The best image of the last scale reached so far, with the history and metadata."""
        if self.best is None:
            raise PainterlyError("the run stopped before its first step: nothing to save")
        return Result(image=self.best.image, alpha=self.alpha, history=tuple(self.history),
                      metadata=self.metadata(), stopped=self.stopped)

    def metadata(self) -> dict:
        steps = sum(1 for r in self.history if r.step > 0)
        optimize_s = self.timings.get("optimize_s", self.history[-1].elapsed if self.history else 0.0)
        return {
            "painterly": __version__,
            "method": "optimise",
            "settings": self.settings.to_dict(),
            "seed": self.seed,
            "backbone": {"name": self.backbone.name, "weights": self.backbone.source},
            "content": describe_picture(self.content),
            "styles": [describe_picture(p) for p in self.styles],
            "output_size": list(self.size),
            "scales": [list(s) for s in self.scales],
            "memory": {**self.memory, "peak_rss_bytes": memory.peak_rss_bytes()},
            "iterations_run": steps,
            "evaluations": self.evaluations,
            "stopped": self.stopped,
            "timings": {**self.timings, "optimize_s": optimize_s,
                        "per_iteration_s": optimize_s / steps if steps else None},
            "peak_memory_mb": memory.peak_rss_bytes() / 2**20,
            "versions": versions("keras", "scipy", "tensorflow"),
        }


def peak_bytes(s: Settings, size: tuple[int, int], style_sizes, layers, tile: int | None,
               iterations: int | None = None) -> int:
    """The peak memory of optimising an output of `size` (width, height) with the styles at `style_sizes` (as the
    run scales them), the network seeing the whole image or tiles of `tile` px (`memory.estimate_peak_bytes`);
    with --init fast, the fast network loaded beside it (counted at this size, an upper bound)."""
    width, height = size
    model = s.model if s.model != "auto" else "vgg19"
    halo = backbones.required_halo(architectures.architecture(model), layers) if tile else 0
    estimate = memory.estimate_peak_bytes(width, height, style_sizes=style_sizes, layers=layers, model=model,
                                          optimizer=s.optimizer, iterations=iterations, tile=tile, halo=halo)
    if s.init == "fast":
        from .. import feedforward

        estimate += feedforward.estimate_peak_bytes(width, height)
    return estimate


class _Cache:
    """The objective as NumPy in / NumPy out, remembering its last evaluation.

    L-BFGS reports the point it last evaluated, and Adam/SGD evaluate the point the engine just
    measured, so with this cache every step costs exactly one evaluation.
    """

    def __init__(self, objective, run: Transfer):
        self.objective, self.run = objective, run
        self.x = self.loss = self.terms = self.grad = None

    def _evaluate(self, x: np.ndarray) -> None:
        if self.x is not None and np.array_equal(x, self.x):
            return
        with warnings.catch_warnings():  # an overflow (e.g. a weight of 1e300) ends in the NumericalError below
            warnings.simplefilter("ignore", RuntimeWarning)
            total, terms, grad = self.objective.value_and_grad(x[None])
        self.run.evaluations += 1
        loss = float(total)
        if not np.isfinite(loss):
            raise NumericalError(f"the loss became {loss} after {self.run.evaluations} evaluations: "
                                 f"lower --learning-rate or the loss weights")
        self.x, self.loss = x.copy(), loss
        self.terms = {name: float(value) for name, value in terms.items()}
        self.grad = np.asarray(grad)[0]

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self._evaluate(x)
        return self.loss, self.grad

    def measure(self, x: np.ndarray) -> tuple[float, dict[str, float]]:
        self._evaluate(x)
        return self.loss, dict(self.terms)


def _check_small(scales: list[tuple[int, int]], layers) -> None:
    """Refuse a scale with a side the deepest layer cannot see: the network halves the image before
    each block, so a side shorter than that layer's stride leaves it an empty feature map."""
    need = max(backbones.stride(name) for name in layers)
    for width, height in scales:
        if min(width, height) < need:
            deepest = max(layers, key=backbones.stride)
            grow = need / min(width, height)
            raise SettingsError(
                f"a {width}×{height} image is too small for {deepest}, which needs at least {need} px on each side: "
                f"use a --size{' and --min-size' if len(scales) > 1 else ''} of at least "
                f"{math.ceil(max(width, height) * grow)} (or shallower layers)")


class Optimise(Method):
    """The optimisation in the registry (`painterly.methods`)."""

    name = "optimise"
    title = "the optimisation"
    iterative = True

    def prepare(self, content, style, settings, *, network=None, notice=None, on_tile=None) -> Transfer:
        return Transfer(content, style, settings, network=network, notice=notice, on_tile=on_tile)

    def network_key(self, settings) -> tuple | None:
        if settings.model.endswith("-random") and settings.seed is None:
            return None  # the run draws its seed, and its weights with it
        return backbones.backbone_key(settings)

    def build_network(self, settings, *, notice=None, threads=None) -> backbones.Backbone:
        backbones.import_tensorflow_quietly()
        if threads is not None:
            import tensorflow as tf

            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:  # TensorFlow already ran something in this process: it keeps its threads
                pass
        s = settings
        layers = list(dict.fromkeys(s.content_layers + s.style_layers))
        return backbones.build(s.model, layers, weights=s.weights, pooling=s.pooling, border=s.border,
                               notice=notice, precision=s.precision, seed=s.seed)

    def load_libraries(self) -> None:
        backbones.import_tensorflow_quietly()

    def resolve(self, settings, notice=None):
        if settings.model != "auto":
            return settings
        return settings.replace(model=backbones.resolve_auto(settings.weights, notice))

    def estimate_bytes(self, settings, size, style_sizes) -> int:
        s = settings
        layers = list(dict.fromkeys(s.content_layers + s.style_layers))
        sizes = [images.style_shape(own, max(size), s.style_scale, s.style_upscale) for own in style_sizes]
        tile = s.tile if isinstance(s.tile, int) else None
        return int(peak_bytes(s, size, sizes, layers, tile, iterations=s.iterations))

    def summary(self, result) -> str:
        best = result.best
        first = next(r for r in result.history if r.scale == best.scale)  # losses are comparable within a scale
        return (f"{result.metadata['backbone']['name']}) in {result.metadata['timings']['optimize_s']:.1f} s; "
                f"loss {first.loss:.4g} → {best.loss:.4g}")


METHOD = Optimise()
