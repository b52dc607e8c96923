"""The layout of the VGG networks: model names, layers, strides, channels, context. No TensorFlow.

Everything that needs to know which layers a model has, how far apart a layer's feature positions
are, or how many channels it has, asks here: the settings' checks, the memory estimate, the tiled
objective and the network builder.
"""

from __future__ import annotations

from typing import Sequence

from .errors import SettingsError

MODELS = ("auto", "vgg19", "vgg16", "vgg16-hed")
# The network's arithmetic -> the Keras dtype policy its layers use (weights stay float32, features
# come back in the backbone's dtype, so the losses are computed in float32).
PRECISIONS = ("float32", "bfloat16", "mixed_float16")
BLOCK_CHANNELS = (64, 128, 256, 512, 512)  # VGG block b -> channels; spatial size is halved by each block's pool
VGG19_CONV = {1: 2, 2: 2, 3: 4, 4: 4, 5: 4}  # block -> number of conv layers
VGG16_CONV = {1: 2, 2: 2, 3: 3, 4: 3, 5: 3}


def conv_layer_names(architecture: str) -> list[str]:
    """Every convolution layer of a VGG, in order: block1_conv1 ... block5_conv3/4."""
    blocks = VGG19_CONV if architecture == "vgg19" else VGG16_CONV
    return [f"block{b}_conv{k}" for b, n in blocks.items() for k in range(1, n + 1)]


def layer_names(architecture: str) -> list[str]:
    """Every layer a loss may use, in network order (convolutions and pools)."""
    names = []
    for b in range(1, 6):
        names += [n for n in conv_layer_names(architecture) if n.startswith(f"block{b}_")]
        names.append(f"block{b}_pool")
    return names


def architecture(model: str) -> str:
    """The VGG layout of a model name: "vgg16", "vgg16-hed", "vgg16-random" -> vgg16; "vgg19*", "auto" -> vgg19."""
    if model == "auto" or model.startswith("vgg19"):
        return "vgg19"
    if model.startswith("vgg16"):
        return "vgg16"
    raise SettingsError(f"unknown model '{model}': choose one of {', '.join(MODELS)}")


def channels(layer: str) -> int:
    """Feature channels of a layer: those of its block."""
    return BLOCK_CHANNELS[int(layer[len("block")]) - 1]


def stride(layer: str) -> int:
    """How many image pixels one step in a layer's feature map is: 2 per pool before it."""
    block = int(layer[len("block")])
    return 2 ** (block if layer.endswith("_pool") else block - 1)


def required_halo(architecture: str, layers: Sequence[str]) -> int:
    """Pixels of context a tile needs around its core for exact features at `layers`.

    A tile's outermost pixels see the network's zero padding where the whole image has real
    neighbours. Each 3×3 convolution carries that error one feature pixel further in (its stride in
    image pixels); a 2×2 pool spoils a pooled pixel if any of its inputs is spoilt. The halo is how
    far the error reaches at the deepest layer, rounded up to that layer's stride so tiles start on
    its grid. VGG16 to block5_conv1: 64 px; VGG19 to block5_conv2: 96 px.
    """
    order = layer_names(architecture)
    deepest = max(order.index(name) for name in layers)
    reach, step = 0, 1  # pixels spoilt from a tile's edge; image pixels per feature pixel
    for name in order[: deepest + 1]:
        if name.endswith("_pool"):
            step *= 2
            reach = -(-reach // step) * step
        else:
            reach += step
    return -(-reach // step) * step


def border_margin(layers: Sequence[str]) -> int:
    """The mirrored margin for these layers: 16 pixels, or the deepest stride if that is larger."""
    return max([16] + [stride(name) for name in layers])


def validate_layers(architecture: str, layers: Sequence[str], what: str) -> None:
    """Refuse layer names the network does not have, listing the valid ones (and the closest)."""
    import difflib

    valid = layer_names(architecture)
    for name in layers:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise SettingsError(
                f"unknown {what} layer '{name}' for {architecture}: {hint}valid layers are {', '.join(valid)}"
            )
