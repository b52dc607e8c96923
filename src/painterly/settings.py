"""One frozen, validated `Settings` object for a run, and the named presets.

The CLI's flags and the web form's fields are generated from the fields below (their metadata holds
the flag name and help), so the interfaces cannot drift apart. No heavy imports here.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import architectures
from .errors import SettingsError, did_you_mean  # noqa: F401 (did_you_mean: read from here too)
from .methods import NAMES as METHODS, check_name as check_method, get as get_method

STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
CONTENT_LAYERS = ("block4_conv2",)
STYLE_LOSSES = ("gram", "sliced", "w2")  # the style term (losses.Objective: Gram, sliced Wasserstein, Wasserstein-2)
LARGE = 512  # px: the finer scales above this take --large-iterations steps, and with --style-loss auto the w2 loss
GRAM_LARGE_STEPS, LARGE_STEPS = 3, 10  # --large-iterations auto: steps above 512 px with gram, with w2 or sliced
INITS = ("content", "fast", "noise", "style")  # or a path to an image file
RANDOM_MODELS = ("vgg19-random", "vgg16-random")  # random weights drawn from the seed: the library's tests only
OPTIMISE = ("optimise",)  # a field marked with this applies to the optimisation only
LEARNING_RATES = {"lbfgs": 1.0, "adam": 4.0, "sgd": 100.0}  # default per optimiser (pixel units)


def _opt(flag: str, help: str, *, methods: tuple[str, ...] = METHODS, **kwargs) -> dict:
    """A field's flag, help and argparse options; `methods`: the methods it applies to."""
    return {"flag": flag, "help": help, "methods": methods, **kwargs}


def applies(f: dataclasses.Field, method: str) -> bool:
    """Whether the settings field `f` changes what `method` computes."""
    return method in f.metadata["methods"]


def _optimise(flag: str, help: str, **kwargs) -> dict:
    """`_opt` for a field of the optimisation only (grouped apart in --help and the web form)."""
    return _opt(flag, help, methods=OPTIMISE, **kwargs)


@dataclass(frozen=True)
class Settings:
    """Everything that decides what a run computes. Defaults are painterly's tuned preset."""

    method: str = field(default="optimise", metadata=_opt(
        "--method", "optimise (Gatys et al.: the loss minimised step by step, minutes) or fast (a feed-forward "
        "network paints in one pass, about a second; Ghiasi et al. 2017)", choices=METHODS))
    style_strength: float = field(default=1.0, metadata=_opt(
        "--style-strength", "fast method and --init fast: how much of the painting's style, 0 (the photo's own) "
        "to 1 (the painting's); between, the two style vectors are mixed", metavar="S"))
    model: str = field(default="auto", metadata=_optimise(
        "--model", "feature network: auto (VGG19 ImageNet if available, else vgg16-hed), vgg19, vgg16, vgg16-hed",
        choices=architectures.MODELS))
    weights: str | None = field(default=None, metadata=_optimise(
        "--weights", "local keras weights file for vgg19/vgg16 instead of the ImageNet download", metavar="FILE"))
    size: int | str = field(default=512, metadata=_opt(
        "--size", "output size in pixels: the longest side, except that an image wider or taller than 2:1 gets "
        "the pixels of a 2:1 one (a 4:1 panorama at 384 is 543×136, not 384×96); or auto: the largest that fits "
        "in memory, at most the content's own size", metavar="PX", type=lambda text: _size_value(text)))
    size_edge: str = field(default="long", metadata=_opt(
        "--size-edge", "which side --size sets: long (default) or height (as keras.io)", choices=("long", "height")))
    tile: int | str | None = field(default="auto", metadata=_opt(
        "--tile", "compute the loss and gradient exactly, tile by tile, in bounded memory: the tile size in pixels "
        "(a multiple of 16), auto (tiles only when the whole image would not fit in memory) or off",
        metavar="PX", type=lambda text: _tile_value(text)))
    iterations: int = field(default=40, metadata=_optimise(
        "--iterations", "optimisation steps (at the first scale when multi-scale); the default paints at 256 px "
        "from the fast start in 40, from the photo (--preset classic) it needs about 100", metavar="N"))
    multiscale: str = field(default="on", metadata=_optimise(
        "--multiscale", "coarse to fine: optimise at --min-size first, then double up to --size (on, the "
        "default: the strokes are laid at the coarse scale, long, and sharpened at the finer ones); "
        "auto: on above 512 px", choices=("auto", "on", "off")))
    min_size: int = field(default=256, metadata=_optimise(
        "--min-size", "multi-scale: longest side of the first (coarsest) scale", metavar="PX"))
    fine_iterations: int | None = field(default=10, metadata=_optimise(
        "--fine-iterations", "multi-scale: steps at each finer scale up to 512 px (none: half of --iterations)",
        metavar="N"))
    large_iterations: int | str | None = field(default="auto", metadata=_optimise(
        "--large-iterations", "multi-scale: steps at each finer scale above 512 px; auto (the default): 10 with "
        "the w2 or sliced style loss there, 3 with gram, whose further steps lay the painting's pixel-level "
        "texture over the strokes as a fine ripple (the presets relative, classic and paper: as "
        "--fine-iterations)", metavar="N", type=lambda text: _steps_value(text)))
    optimizer: str = field(default="lbfgs", metadata=_optimise(
        "--optimizer", "lbfgs (SciPy L-BFGS-B), adam or sgd", choices=("lbfgs", "adam", "sgd")))
    learning_rate: float | None = field(default=None, metadata=_optimise(
        "--learning-rate", "Adam/SGD step size in pixel units (default: adam 4, sgd 100)", metavar="LR"))
    content_weight: float = field(default=1.0, metadata=_optimise(
        "--content-weight", "α, weight of the content loss", metavar="W"))
    style_weight: float = field(default=1e4, metadata=_optimise(
        "--style-weight", "β, weight of the style loss", metavar="W"))
    tv_weight: float = field(default=1.0, metadata=_optimise(
        "--tv-weight", "weight of the total-variation loss", metavar="W"))
    content_layers: tuple[str, ...] = field(default=CONTENT_LAYERS, metadata=_optimise(
        "--content-layers", "layers of the content loss", nargs="+", metavar="LAYER"))
    style_layers: tuple[str, ...] = field(default=STYLE_LAYERS, metadata=_optimise(
        "--style-layers", "layers of the style loss", nargs="+", metavar="LAYER"))
    style_layer_weights: tuple[float, ...] | None = field(default=None, metadata=_optimise(
        "--style-layer-weights", "one weight per style layer (default equal)", nargs="+", metavar="W", type=float))
    style_blend: tuple[float, ...] | None = field(default=None, metadata=_opt(
        "--style-weights", "one weight per style image when blending several (default equal)", nargs="+",
        metavar="W", type=float))
    style_scale: float = field(default=1.0, metadata=_opt(
        "--style-scale", "size of the style image relative to the output: above 1 gives larger brush strokes, "
        "below 1 smaller ones", metavar="S"))
    style_upscale: bool = field(default=False, metadata=_optimise(
        "--style-upscale", "let --style-scale enlarge a style image beyond its own pixels (--no-style-upscale, "
        "the default: never; an enlarged painting is blurred and so are the strokes it teaches, so at large "
        "outputs the strokes keep the painting's own pixel size)", boolean=True))
    preserve_color: str = field(default="none", metadata=_opt(
        "--preserve-color", "keep the content's colours: luminance (transfer on luminance, then the content's "
        "chroma) or histogram (match the style's colours to the content's first)",
        choices=("none", "luminance", "histogram")))
    pooling: str = field(default="max", metadata=_optimise("--pooling", "pooling in the network: max or avg",
                                                      choices=("max", "avg")))
    border: str = field(default="mirror", metadata=_optimise(
        "--border", "what the network sees beyond the image's edges: mirror (the image reflected; no stripes "
        "along the borders) or zero (keras.applications' zero padding, as the paper)", choices=("mirror", "zero")))
    precision: str = field(default="float32", metadata=_optimise(
        "--precision", "the network's arithmetic: float32, bfloat16 (about 1.6x faster per step on CPUs with "
        "AVX512-BF16 or AMX; needs --optimizer adam) or mixed_float16 (GPUs); the losses are summed in float32",
        choices=architectures.PRECISIONS))
    normalize: bool = field(default=True, metadata=_optimise(
        "--normalize-losses", "scale each loss term so weights mean the same on every backbone "
        "(--no-normalize-losses: the paper's raw sums)", boolean=True))
    loss_balance: str = field(default="mean", metadata=_optimise(
        "--loss-balance", "with normalised losses, how the terms are scaled: relative (each term's error relative "
        "to its target, so every style layer counts equally) or mean (jcjohnson's and Gatys' code: mean squared "
        "differences of features and of Grams divided by H·W·C, so the deep layers' long strokes count)",
        choices=("relative", "mean")))
    style_loss: str = field(default="auto", metadata=_optimise(
        "--style-loss", "the style term: gram (Gatys et al.'s Gram matrices), sliced (the sliced Wasserstein "
        "loss, Heitz et al. 2021: the features' whole distribution matched along random directions; the "
        "painting's palette more fully, longer strokes; never tiled), w2 (the Wasserstein-2 distance between "
        "the features' means and covariances, as crowsonkb's style-transfer-pytorch) or auto (the default: "
        "gram, and w2 at the finer scales above 512 px, which it sharpens without a ripple)",
        choices=("auto", *STYLE_LOSSES)))
    init: str = field(default="fast", metadata=_optimise(
        "--init", "starting image: fast (the default: the fast method's picture, repainted at once, then refined "
        "by the optimisation), content (the photo: the photo with the painting's texture over it, --preset "
        "classic), noise, style, or an image file", metavar="INIT"))
    init_photo: float = field(default=0.25, metadata=_optimise(
        "--init-photo", "with --init fast: how much of the photo is mixed into the fast picture the optimisation "
        "starts from, 0 (the fast picture) to 1 (the photo); some styles bury the photo's shapes, and a share of "
        "the photo lets the content term bring them back", metavar="P"))
    seed: int | None = field(default=None, metadata=_optimise("--seed", "random seed (a run records the one it used)",
                                                         metavar="N"))
    save_every: int = field(default=10, metadata=_optimise(
        "--save-every", "with --report: keep the image every N iterations (0: none)", metavar="N"))
    decay_steps: int = field(default=100, metadata=_optimise("--decay-steps", "SGD: decay the rate every N steps",
                                                        metavar="N"))
    decay_rate: float = field(default=0.96, metadata=_optimise("--decay-rate", "SGD: decay factor", metavar="F"))

    def __post_init__(self):
        for f in dataclasses.fields(self):  # a list where a tuple is meant: kept as the tuple (hashable, frozen)
            if isinstance(getattr(self, f.name), list) and "tuple" in str(f.type):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))
        _check_types(self)
        _check(self)
        _check_finite(self)

    def scale_sizes(self, size: int) -> list[int]:
        """Longest sides of the scales for an output of longest side `size`, coarse to fine."""
        on = self.multiscale == "on" or (self.multiscale == "auto" and size > 512)
        sides = [size]
        while on and sides[0] // 2 >= self.min_size:
            sides.insert(0, sides[0] // 2)
        return sides

    def scale_iterations(self, scale: int, side: int) -> int:
        """Iterations planned at scale `scale` (0 is the coarsest) of longest side `side` px: --iterations at the
        first, then --fine-iterations, and --large-iterations above 512 px; auto there: 10 with the w2 or sliced
        loss, 3 with gram, whose further steps lay the painting's pixel-level texture over the strokes as a
        fine ripple (docs/QUALITY.md, "At 1024 and 2048 px")."""
        if scale == 0:
            return self.iterations
        if side > LARGE and self.large_iterations is not None:
            if self.large_iterations != "auto":
                return self.large_iterations
            return GRAM_LARGE_STEPS if self.scale_style_loss(scale, side) == "gram" else LARGE_STEPS
        return self.fine_iterations if self.fine_iterations is not None else max(1, self.iterations // 2)

    def scale_style_loss(self, scale: int, side: int) -> str:
        """The style loss at scale `scale` (0 is the coarsest) of longest side `side` px: --style-loss, or with
        auto gram, and w2 at the finer scales above 512 px, which sharpen the coarser scale's picture
        (docs/QUALITY.md, "At 1024 and 2048 px")."""
        if self.style_loss != "auto":
            return self.style_loss
        return "w2" if scale > 0 and side > LARGE else "gram"

    @property
    def rate(self) -> float:
        """The learning rate in effect: the given one or the optimiser's default."""
        return LEARNING_RATES[self.optimizer] if self.learning_rate is None else self.learning_rate

    def replace(self, **changes) -> Settings:
        names = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            if name not in names:
                raise SettingsError(f"unknown setting '{name}': {did_you_mean(name, names)}"
                                    f"see painterly.Settings for the settings")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


# The default before issue 22 (relative style errors, content at block5_conv2, 40 L-BFGS steps at the output's
# size from the fast picture): the presets below that keep its look name these values, so that changing a
# default leaves them as they were.
RELATIVE: Mapping[str, Any] = {
    "loss_balance": "relative", "content_layers": ("block5_conv2",), "content_weight": 1.0, "style_weight": 10.0,
    "tv_weight": 1.0, "init": "fast", "init_photo": 0.25, "iterations": 40, "multiscale": "auto", "min_size": 256,
    "fine_iterations": None, "large_iterations": None, "style_loss": "gram",
}

PRESETS: Mapping[str, Mapping[str, Any]] = {
    # painterly's tuned defaults (docs/QUALITY.md: how they were chosen)
    "default": {},
    # the default before issue 22: relative style errors (every style layer counts equally), 40 steps at 512 px
    "relative": dict(RELATIVE),
    # the look of painterly before the fast start: the optimisation from the photo, 100 iterations
    "classic": {**RELATIVE, "init": "content", "init_photo": 0.0, "iterations": 100},
    # the paper's keras.io setup: height 400, α 2.5e-8, β 1e-6, TV 1e-6, SGD lr 100 decaying ×0.96 per 100 steps
    "paper": {
        "size": 400, "size_edge": "height", "optimizer": "sgd", "learning_rate": 100.0, "decay_steps": 100,
        "decay_rate": 0.96, "content_weight": 2.5e-8, "style_weight": 1e-6, "tv_weight": 1e-6,
        "normalize": False, "iterations": 4000, "save_every": 100, "init": "content", "border": "zero",
        "style_upscale": True,  # keras.io resizes the style image to the content's size
        "multiscale": "off",  # the paper optimises at one size (its 400 px height is 533 px wide for 4:3)
        **{k: RELATIVE[k] for k in ("loss_balance", "content_layers", "init_photo", "min_size", "fine_iterations",
                                     "large_iterations", "style_loss")},
    },
}


def preset(name: str, **overrides) -> Settings:
    """The named preset's settings with `overrides` on top."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset '{name}': {did_you_mean(name, PRESETS)}choose one of {', '.join(PRESETS)}")
    return Settings(**{**PRESETS[name], **overrides})


def _int_or_auto(text: str, message: str) -> int | str:
    """A flag's value that is a whole number or "auto"; otherwise argparse's error with `message`."""
    import argparse

    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(message.format(text=text)) from None


def _size_value(text: str) -> int | str:
    """--size's value: a number of pixels or "auto"."""
    return _int_or_auto(text, "size '{text}' is not a number of pixels or auto")


def _steps_value(text: str) -> int | str:
    """--large-iterations' value: a number of steps or "auto"."""
    return _int_or_auto(text, "'{text}' is not a number of steps or auto")


def _tile_value(text: str) -> int | str | None:
    """--tile's value: a number of pixels, "auto" or "off" (None: never tile)."""
    import argparse

    if text in ("auto", "off"):
        return None if text == "off" else text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"tile '{text}' is not a number of pixels, auto or off") from None


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _check_types(s: Settings) -> None:
    """Refuse a value of the wrong kind (text for a number, 2.5 iterations, one layer name for a list) before
    any range is compared, so the library's callers get the same one line as the command line; NumPy
    numbers are kept as Python's (so the settings stay JSON)."""
    for f in dataclasses.fields(s):
        value, kinds = getattr(s, f.name), {kind.strip() for kind in str(f.type).split("|")}
        name = f.name.replace("_", " ")
        if (value is None and "None" in kinds) or (isinstance(value, str) and "str" in kinds):
            continue
        if isinstance(value, tuple) and any(kind.startswith("tuple") for kind in kinds):
            item = "float" if any(kind.startswith("tuple[float") for kind in kinds) else "str"
            plain = tuple(_check_kind(name, v, item, finite=False) for v in value)
        else:
            kind = next((k for k in ("bool", "int", "float", "str") if k in kinds), None)
            if kind is None:  # a list field given something else
                raise SettingsError(f"{name} {value!r} is {_called(value)}: give a list of "
                                    f"{'numbers' if 'float' in str(f.type) else 'names'}")
            plain = _check_kind(name, value, kind, also="auto" if "str" in kinds else None, finite=False)
        object.__setattr__(s, f.name, plain)


def _check_kind(name: str, value, kind: str, also: str | None = None, finite: bool = True):
    """One value against its kind, as Python's own type: bool, int (a whole number), float (a number,
    with `finite` a finite one) or str."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingsError(f"{name} {value!r} is not True or False")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise SettingsError(f"{name} {value!r} is not text: give a name")
        return value
    if isinstance(value, str):
        raise SettingsError(f"{name} {value!r} is text: give {'a whole number' if kind == 'int' else 'a number'}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            pixels = f" of pixels or {also}" if also else ""
            raise SettingsError(f"{name} {value!r} is not a whole number{pixels}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SettingsError(f"{name} {value!r} is not a number")
    if finite and not math.isfinite(value):
        raise SettingsError(f"{name} {value} must be a finite number")
    return value if isinstance(value, int) else float(value)


def _check_finite(s: Settings) -> None:
    """Every number finite, also those whose own check (in `_check`, with its range) does not say so."""
    for f in dataclasses.fields(s):
        value = getattr(s, f.name)
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, float) and not math.isfinite(v):
                raise SettingsError(f"{f.name.replace('_', ' ')} {v} must be a finite number")


def _called(value) -> str:
    return "one text" if isinstance(value, str) else f"a {type(value).__name__}"


def check_video_options(settings: Settings, temporal: str, temporal_weight: float | None,
                        frame_iterations: int | None, most_iterations: int = 1_000_000) -> None:
    """The video's own numbers, checked once for `painterly video`, the web form and `VideoJob`: the temporal
    weight is the previous output's share (0 to 1) with the fast method or plain blending, else the temporal
    term's weight (0 to 10^6); frame iterations apply to the optimisation along the flow, 1 to `most_iterations`."""
    stepping = get_method(settings.method).iterative
    if temporal_weight is not None:
        _check_kind("temporal weight", temporal_weight, "float")
        share = not stepping or temporal == "blend"
        if not 0 <= temporal_weight <= (1 if share else 1e6):
            most = "1 (the previous output's share)" if share else "10^6"
            raise SettingsError(f"temporal weight {temporal_weight:g} is out of range: give 0 to {most}")
    if frame_iterations is not None:
        _check_kind("frame iterations", frame_iterations, "int")
        if not stepping or temporal != "flow":
            raise SettingsError(f"frame iterations apply to the optimise method along the flow only: leave them "
                                f"out with method {settings.method} and temporal mode {temporal}")
        if not 1 <= frame_iterations <= most_iterations:
            raise SettingsError(f"frame iterations {frame_iterations} is out of range: choose 1 to {most_iterations}")


def _check(s: Settings) -> None:
    """Refuse settings that cannot work, each with a one-line message that names the fix."""
    check_method(s.method)
    if not (isinstance(s.style_strength, (int, float)) and 0 <= s.style_strength <= 1):
        raise SettingsError(f"style strength {s.style_strength} is out of range: choose 0 (the photo's own style) "
                            f"to 1 (the painting's)")
    if not (isinstance(s.init_photo, (int, float)) and 0 <= s.init_photo <= 1):
        raise SettingsError(f"init photo {s.init_photo} is out of range: choose 0 (the fast picture) to 1 (the photo)")
    if s.model not in architectures.MODELS + RANDOM_MODELS:
        raise SettingsError(f"unknown model '{s.model}': {did_you_mean(s.model, architectures.MODELS)}"
                            f"choose one of {', '.join(architectures.MODELS)}")
    if s.size != "auto" and not (isinstance(s.size, int) and 16 <= s.size <= 16384):
        raise SettingsError(f"size {s.size} is out of range: choose 16 to 16384 pixels, or auto")
    if s.tile not in ("auto", None) and not (isinstance(s.tile, int) and 16 <= s.tile <= 16384 and s.tile % 16 == 0):
        raise SettingsError(f"tile {s.tile} is not a multiple of 16 from 16 to 16384 pixels: "
                            f"use e.g. --tile 512, auto or off")
    if not 16 <= s.min_size <= 16384:
        raise SettingsError(f"min size {s.min_size} is out of range: choose 16 to 16384 pixels")
    if s.fine_iterations is not None and not 1 <= s.fine_iterations <= 1_000_000:
        raise SettingsError(f"fine iterations {s.fine_iterations} is out of range: choose at least 1")
    if isinstance(s.large_iterations, str) and s.large_iterations != "auto":
        raise SettingsError(f"large iterations '{s.large_iterations}' is not a number of steps: choose one, or auto")
    if s.large_iterations not in (None, "auto") and not 1 <= s.large_iterations <= 1_000_000:
        raise SettingsError(f"large iterations {s.large_iterations} is out of range: choose at least 1")
    if s.multiscale not in ("auto", "on", "off"):
        raise SettingsError(f"unknown multiscale '{s.multiscale}': choose auto, on or off")
    if s.precision not in architectures.PRECISIONS:
        raise SettingsError(f"unknown precision '{s.precision}': choose {', '.join(architectures.PRECISIONS)}")
    if s.precision == "bfloat16" and s.optimizer == "lbfgs":  # measured in bench/: it stops at step 1
        raise SettingsError("bfloat16 needs --optimizer adam: L-BFGS's line search stalls on bfloat16's rounding "
                            "noise (or use --precision float32)")
    if s.border not in ("mirror", "zero"):
        raise SettingsError(f"unknown border '{s.border}': choose mirror or zero")
    if s.preserve_color not in ("none", "luminance", "histogram"):
        raise SettingsError(f"unknown preserve-color '{s.preserve_color}': choose none, luminance or histogram")
    if s.loss_balance not in ("relative", "mean"):
        raise SettingsError(f"unknown loss balance '{s.loss_balance}': choose relative or mean")
    if s.style_loss not in ("auto", *STYLE_LOSSES):
        raise SettingsError(f"unknown style loss '{s.style_loss}': {did_you_mean(s.style_loss, STYLE_LOSSES)}"
                            f"choose auto, {', '.join(STYLE_LOSSES)}")
    if s.style_loss == "sliced" and isinstance(s.tile, int):
        raise SettingsError(f"--style-loss sliced sorts the whole image's features and is never tiled: leave out "
                            f"--tile {s.tile}, or use --style-loss gram")
    if s.size_edge not in ("long", "height"):
        raise SettingsError(f"unknown size edge '{s.size_edge}': choose long or height")
    if not 1 <= s.iterations <= 1_000_000:
        raise SettingsError(f"iterations {s.iterations} is out of range: choose at least 1")
    if s.optimizer not in LEARNING_RATES:
        raise SettingsError(f"unknown optimizer '{s.optimizer}': "
                            f"{did_you_mean(s.optimizer, LEARNING_RATES)}choose lbfgs, adam or sgd")
    for name in ("content_weight", "style_weight", "tv_weight"):
        _non_negative(name, getattr(s, name))
    if s.learning_rate is not None and not (math.isfinite(s.learning_rate) and s.learning_rate > 0):
        raise SettingsError(f"learning rate {s.learning_rate} must be a positive number")
    if not (math.isfinite(s.style_scale) and 0.05 <= s.style_scale <= 8):
        raise SettingsError(f"style scale {s.style_scale} is out of range: choose 0.05 to 8")
    if s.save_every < 0:
        raise SettingsError(f"save-every {s.save_every} must be 0 (never) or a positive number of iterations")
    if s.decay_steps < 1 or not 0 < s.decay_rate <= 1:
        raise SettingsError(f"SGD decay needs --decay-steps ≥ 1 and 0 < --decay-rate ≤ 1, not {s.decay_steps} and "
                            f"{s.decay_rate}")
    if not s.content_layers:
        raise SettingsError("no content layers: give at least one with --content-layers")
    if not s.style_layers:
        raise SettingsError("no style layers: give at least one with --style-layers")
    for what in ("content", "style"):
        layers = getattr(s, f"{what}_layers")
        repeated = sorted({name for name in layers if layers.count(name) > 1})
        if repeated:
            raise SettingsError(f"{what} layer {repeated[0]} is given more than once: name each layer once "
                                f"(use --style-layer-weights to weigh one layer more)")
    architecture = architectures.architecture(s.model)
    architectures.validate_layers(architecture, s.content_layers, "content")
    architectures.validate_layers(architecture, s.style_layers, "style")
    for name in ("style_layer_weights", "style_blend"):
        values = getattr(s, name)
        if values is not None:
            for v in values:
                _non_negative(name, v)
            if sum(values) <= 0:
                raise SettingsError(f"{name.replace('_', ' ')} must not all be zero")
    if s.style_layer_weights is not None and len(s.style_layer_weights) != len(s.style_layers):
        raise SettingsError(f"{len(s.style_layer_weights)} style layer weights for {len(s.style_layers)} "
                            f"style layers: give one per layer")
    if s.seed is not None and not 0 <= s.seed < 2**32:
        raise SettingsError(f"seed {s.seed} is out of range: choose 0 to 4294967295")
    if s.init not in INITS and not s.init.strip():
        raise SettingsError("empty --init: use content, fast, noise, style or an image file")


def _non_negative(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise SettingsError(f"{name.replace('_', ' ')} {value} must be a finite number ≥ 0")
