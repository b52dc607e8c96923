"""Work per step, counted from the layer shapes, and the machine's matrix-multiply throughput.

A step's FLOPs are 2 × the multiply-adds of every 3×3 convolution it needs, at the size the network
actually sees: forward for each image in the batch up to the deepest layer a loss uses, and backward
to the convolution's input (the image gradient; no weight gradients) for each image in the batch, plus
the Gram matrices (2·H·W·C² forward, the same again backward). Channel counts are read from the
model's kernels. Pools, ReLUs, padding and the element-wise loss arithmetic are not counted (under
1 % of the total). Max pools are 2×2 with stride 2, so each block halves the size (rounding down).
"""

from __future__ import annotations

import time

import numpy as np

from painterly import backbones


def step_flops(model, height: int, width: int, *, deepest: str, batch: int = 1, backward_batch: int = 1,
               gram_layers=(), gram_images: int = 1, gram_crop: int = 0) -> int:
    """FLOPs of one loss-and-gradient evaluation of a VGG16/VGG19 `model` on (height, width) inputs.

    deepest: the last layer computed; batch / backward_batch: images run forward / backward;
    gram_layers: layers whose Gram matrix is taken for `gram_images` images (one of them backward);
    gram_crop: pixels of mirrored margin cropped off before the Gram (painterly's border).
    """
    architecture = "vgg19" if _has_layer(model, "block5_conv4") else "vgg16"
    h, w, flops = height, width, 0
    for name in backbones.layer_names(architecture):
        if name.endswith("_pool"):
            h, w = h // 2, w // 2
        else:
            kh, kw, cin, cout = model.get_layer(name).kernel.shape
            flops += 2 * h * w * kh * kw * cin * cout * (batch + backward_batch)
            if name in gram_layers:
                c = gram_crop // backbones.stride(name)
                flops += 2 * (h - 2 * c) * (w - 2 * c) * cout * cout * (gram_images + 1)
        if name == deepest:
            return flops
    raise ValueError(f"{deepest} is not a layer of {architecture}")


def _has_layer(model, name: str) -> bool:
    try:
        model.get_layer(name)
        return True
    except ValueError:
        return False


def gemm_gflops(n: int = 2048, dtype: str = "float32", repeats: int = 3) -> float:
    """TensorFlow's n×n matrix-multiply throughput in GFLOP/s (2·n³ per product), the median of `repeats`."""
    import tensorflow as tf

    a = tf.cast(tf.random.stateless_uniform((n, n), (1, 2)), dtype)
    b = tf.cast(tf.random.stateless_uniform((n, n), (3, 4)), dtype)
    product = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32)))
    product().numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        product().numpy()
        times.append(time.perf_counter() - started)
    return 2 * n**3 / float(np.median(times)) / 1e9
