"""Feature networks: preprocessing, layer checks, the HED weight mapping, cutting and pooling."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from painterly import backbones
from painterly.errors import BackboneError, SettingsError


def test_preprocessing_is_exactly_keras_applications():
    rgb = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input(rgb.copy())
    np.testing.assert_allclose(backbones.preprocess(tf.constant(rgb)).numpy(), expected, atol=1e-4)


def test_unknown_layer_lists_the_valid_names_and_the_closest():
    with pytest.raises(SettingsError) as error:
        backbones.build("vgg16-random", ["block5_conv4"])  # VGG19 has it, VGG16 does not
    message = str(error.value)
    assert "block5_conv4" in message and "block5_conv3" in message and "valid layers are" in message
    with pytest.raises(SettingsError, match="did you mean block1_conv1"):
        backbones.validate_layers("vgg19", ["block1_cnv1"], "style")


def test_unknown_model_and_bad_weights_file(tmp_path):
    with pytest.raises(SettingsError, match="unknown model"):
        backbones.build("resnet", ["block1_conv1"])
    with pytest.raises(BackboneError, match="does not exist"):
        backbones.build("vgg19", ["block1_conv1"], weights=str(tmp_path / "missing.h5"))
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not weights")
    with pytest.raises(BackboneError, match="does not fit vgg19"):
        backbones.build("vgg19", ["block1_conv1"], weights=str(junk))


def test_local_weights_file_is_loaded(tmp_path):
    keras.utils.set_random_seed(3)
    net = keras.applications.VGG16(weights=None, include_top=False)
    path = tmp_path / "vgg16.weights.h5"
    net.save_weights(path)
    backbone = backbones.build("vgg16", ["block1_conv1"], weights=str(path))
    np.testing.assert_array_equal(backbone.model.get_layer("block1_conv1").get_weights()[0],
                                  net.get_layer("block1_conv1").get_weights()[0])
    assert backbone.source == "local file vgg16.weights.h5"


def test_the_network_is_cut_after_the_deepest_layer_used():
    backbone = backbones.build("vgg19-random", ["block1_conv1", "block3_conv1"])
    names = [layer.name for layer in backbone.model.layers]
    assert names[-1] == "block3_conv1" and "block3_conv2" not in names
    features = backbone(tf.zeros((1, 32, 32, 3)))
    assert set(features) == {"block1_conv1", "block3_conv1"}
    assert features["block3_conv1"].shape == (1, 8, 8, 256)


def test_hed_weights_are_mapped_to_the_vgg16_layers(hed_backbone):
    with h5py.File(backbones.hed_weights_path(), "r") as f:
        np.testing.assert_array_equal(hed_backbone.model.get_layer("block3_conv3").get_weights()[0],
                                      f["block3/layers/conv2d_2/vars/0"][()])
        np.testing.assert_array_equal(hed_backbone.model.get_layer("block1_conv1").get_weights()[1],
                                      f["block1/layers/conv2d/vars/1"][()])
    assert hed_backbone.name == "vgg16-hed"


def test_average_pooling_replaces_every_max_pool():
    backbone = backbones.build("vgg16-random", ["block3_conv1"], pooling="avg")
    pools = [layer for layer in backbone.model.layers if layer.name.endswith("_pool")]
    assert len(pools) == 2 and all(isinstance(p, keras.layers.AveragePooling2D) for p in pools)
    x = tf.random.uniform((1, 16, 16, 3), 0, 255)
    maxed = backbones.build("vgg16-random", ["block3_conv1"])
    for name in ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1"):
        maxed.model.get_layer(name).set_weights(backbone.model.get_layer(name).get_weights())
    assert not np.allclose(backbone(x)["block3_conv1"], maxed(x)["block3_conv1"])


def test_auto_falls_back_to_offline_weights_with_a_notice(monkeypatch):
    monkeypatch.setattr(backbones, "_vgg19_cached", lambda: False)
    monkeypatch.setattr(backbones, "_can_download", lambda timeout=3.0: False)
    notices = []
    assert backbones.resolve_auto(None, notices.append) == "vgg16-hed"
    assert len(notices) == 1 and "vgg16-hed" in notices[0] and "VGG19" in notices[0]
    monkeypatch.setattr(backbones, "_vgg19_cached", lambda: True)
    assert backbones.resolve_auto(None, notices.append) == "vgg19"


def test_float64_backbone_after_a_float32_one_and_global_settings_restored():
    backbones.build("vgg16-random", ["block1_conv1"])
    exact = backbones.build("vgg16-random", ["block1_conv1"], dtype="float64")
    assert exact(tf.zeros((1, 8, 8, 3)))["block1_conv1"].dtype == tf.float64
    assert keras.config.floatx() == "float32" and keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("n, margin", [(7, 3), (5, 16), (2, 5), (1, 4)])
def test_mirror_pad_reflects_like_numpy_also_past_a_short_side(n, margin):
    x = np.arange(2 * n * 3, dtype=np.float32).reshape(1, 2, n, 3)
    padded = backbones.mirror_pad(tf.constant(x), margin, axis=2).numpy()
    expected = np.pad(x, ((0, 0), (0, 0), (margin, margin), (0, 0)), mode="reflect" if n > 1 else "edge")
    np.testing.assert_array_equal(padded, expected)


def test_mirror_border_sees_no_frame_and_keeps_the_unpadded_shapes():
    """A flat image through the mirrored border gives flat features everywhere (no frame to react to);
    through zero padding its features change along the borders: the cause of edge stripes."""
    layers = ["block1_conv1", "block3_conv1", "block4_conv1"]
    keras.utils.set_random_seed(1)
    mirror = backbones.build("vgg19-random", layers)
    zero = backbones.build("vgg19-random", layers, border="zero")
    zero.model.set_weights(mirror.model.get_weights())
    assert (mirror.margin, zero.margin) == (16, 0)
    flat = tf.fill((1, 48, 64, 3), 90.0)
    spread = {}
    for name in layers:
        m, z = mirror(flat)[name].numpy(), zero(flat)[name].numpy()
        assert m.shape == z.shape
        spread[name] = np.ptp(m, axis=(1, 2)).max(), np.ptp(z, axis=(1, 2)).max()
    # block3_conv1 sees 13 px around it, within the 16 px margin: exactly flat; with zeros, a frame
    for name in ("block1_conv1", "block3_conv1"):
        assert spread[name][0] <= 1e-5 * spread[name][1], (name, spread[name])
    # block4_conv1 sees 37 px: the frame is 16 px further out, so it responds far less
    assert spread["block4_conv1"][0] < 0.5 * spread["block4_conv1"][1], spread["block4_conv1"]
    # away from the borders both see the same pixels: block1_conv1 differs only on the outer ring
    picture = tf.random.uniform((1, 48, 64, 3), 0, 255, seed=3)
    m, z = mirror(picture)["block1_conv1"].numpy(), zero(picture)["block1_conv1"].numpy()
    np.testing.assert_allclose(m[:, 1:-1, 1:-1], z[:, 1:-1, 1:-1], rtol=1e-4, atol=1e-3)
    assert not np.allclose(m[:, 0], z[:, 0])


def test_paper_preset_uses_keras_zero_padding():
    from painterly import Settings, preset

    assert preset("paper").border == "zero" and Settings().border == "mirror"
    with pytest.raises(SettingsError, match="unknown border"):
        backbones.build("vgg16-random", ["block1_conv1"], border="wrap")


def test_builds_in_two_threads_keep_their_own_precision_and_seed():
    """Keras reads the dtype policy and the seed globally: concurrent builds must not mix them up."""
    import threading

    import keras

    layers = ["block1_conv1", "block2_conv1"]
    reference = {seed: backbones.build("vgg16-random", layers, seed=seed).model.get_weights()[0] for seed in (1, 2)}
    built, errors = {}, []

    def build(key, precision, seed):
        try:
            for _ in range(3):
                b = backbones.build("vgg16-random", layers, precision=precision, seed=seed)
                built.setdefault(key, []).append(
                    ({layer.dtype_policy.name for layer in b.model.layers if layer.weights}, b.model.get_weights()[0]))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=build, args=("bf16", "bfloat16", 1)),
               threading.Thread(target=build, args=("f32", "float32", 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for policies, weights in built["bf16"]:
        assert policies == {"mixed_bfloat16"}
        np.testing.assert_array_equal(weights, reference[1])
    for policies, weights in built["f32"]:
        assert policies == {"float32"}
        np.testing.assert_array_equal(weights, reference[2])
    assert keras.config.dtype_policy().name == "float32"
