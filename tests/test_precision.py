"""--precision: the network computes in bfloat16 or float16, the losses stay float32 and agree with it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from painterly import Settings, backbones, stylize
from painterly.errors import SettingsError
from painterly.losses import Objective
from tests.conftest import LAYERS


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(1)
    return rng.uniform(0, 255, (1, 32, 40, 3)).astype(np.float32), rng.uniform(0, 255, (1, 24, 24, 3)).astype(np.float32)


def value_and_grad(precision, pair):
    backbone = backbones.build("vgg16-hed", LAYERS, precision=precision)
    content, style = pair
    objective = Objective(backbone, content, [style], content_layers=LAYERS[-1:], style_layers=LAYERS[:-1],
                          content_weight=1.0, style_weight=10.0, tv_weight=1.0)
    start = content + np.random.default_rng(2).normal(0, 20, content.shape).astype(np.float32)
    total, terms, grad = objective.value_and_grad(start)
    return backbone, float(total), grad.numpy()


@pytest.mark.parametrize("precision", ["bfloat16", "mixed_float16"])
def test_reduced_precision_gives_float32_losses_close_to_float32s(precision, pair):
    _, exact, exact_grad = value_and_grad("float32", pair)
    backbone, loss, grad = value_and_grad(precision, pair)
    assert backbone.precision == precision
    assert backbone(tf.zeros((1, 16, 16, 3)))["block1_conv1"].dtype == tf.float32
    assert loss == pytest.approx(exact, rel=0.02) and loss != exact  # close, but really computed in low precision
    assert np.all(np.isfinite(grad)) and grad.dtype == np.float32
    cosine = np.sum(grad * exact_grad) / (np.linalg.norm(grad) * np.linalg.norm(exact_grad))
    assert cosine > 0.98
    assert keras.config.dtype_policy().name == "float32"  # the global policy is put back


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(SettingsError, match="bfloat16"):
        Settings(precision="float8")
    with pytest.raises(SettingsError, match="optimizer adam"):  # L-BFGS stalls on bfloat16 (bench/)
        Settings(precision="bfloat16")
    Settings(precision="bfloat16", optimizer="adam"), Settings(precision="mixed_float16")
    with pytest.raises(SettingsError, match="float32 weights"):
        backbones.build("vgg16-random", ["block1_conv1"], dtype="float64", precision="bfloat16")


def test_a_bfloat16_run_records_its_precision(tiny_pair):
    content, style = tiny_pair
    result = stylize(content, style, model="vgg16-hed", size=32, iterations=2, precision="bfloat16", seed=0,
                     optimizer="adam")
    assert result.metadata["settings"]["precision"] == "bfloat16"
    assert np.isfinite(result.history[-1].loss) and len(result.history) == 3
