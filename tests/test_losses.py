"""Loss terms against hand computation in NumPy, and the objective's targets and weights."""

import numpy as np
import pytest
import tensorflow as tf

from painterly import backbones
from painterly.errors import SettingsError
from painterly.losses import (
    Objective,
    Term,
    content_loss,
    gram,
    relative_squared_error,
    style_grams,
    style_loss,
    total_variation,
)

rng = np.random.default_rng(0)


def test_gram_matches_hand_computation():
    f = rng.normal(size=(1, 3, 4, 5))
    flat = f.reshape(12, 5)
    expected = np.array([[sum(flat[k, i] * flat[k, j] for k in range(12)) for j in range(5)] for i in range(5)]) / 12
    np.testing.assert_allclose(gram(tf.constant(f)).numpy(), expected, rtol=1e-12)


def test_gram_of_a_tiny_map_by_hand():
    # two pixels, two channels: F = [[1, 2], [3, 4]] -> F^T F = [[10, 14], [14, 20]], / (H W = 2)
    f = tf.constant([[[[1.0, 2.0], [3.0, 4.0]]]], tf.float64)
    np.testing.assert_allclose(gram(f).numpy(), [[5.0, 7.0], [7.0, 10.0]])


def test_content_loss_is_the_sum_of_squares():
    a, b = rng.normal(size=(1, 4, 4, 8)), rng.normal(size=(1, 4, 4, 8))
    assert content_loss(tf.constant(a), tf.constant(b)).numpy() == pytest.approx(((a - b) ** 2).sum(), rel=1e-12)


def test_style_loss_uses_each_layers_channels_and_size():
    h, w, c = 3, 5, 7
    style_f, comb_f = rng.normal(size=(1, h, w, c)), rng.normal(size=(1, h, w, c))
    s, g = style_f.reshape(-1, c), comb_f.reshape(-1, c)
    paper = ((s.T @ s - g.T @ g) ** 2).sum() / (4.0 * c**2 * (h * w) ** 2)  # Gatys: 1/(4 N^2 M^2)
    target = gram(tf.constant(style_f))
    assert style_loss(tf.constant(comb_f), target).numpy() == pytest.approx(paper, rel=1e-10)


def test_style_loss_does_not_depend_on_the_style_images_size():
    # the same texture tiled twice has the same normalised Gram, so the loss against it is the same
    f = rng.normal(size=(1, 4, 4, 3))
    tiled = np.concatenate([f, f], axis=2)
    comb = tf.constant(rng.normal(size=(1, 4, 4, 3)))
    assert style_loss(comb, gram(tf.constant(tiled))).numpy() == pytest.approx(
        style_loss(comb, gram(tf.constant(f))).numpy(), rel=1e-12)


def test_total_variation_matches_keras_io_formula():
    x = rng.uniform(0, 255, size=(1, 4, 6, 3))
    a = (x[:, :-1, :-1] - x[:, 1:, :-1]) ** 2
    b = (x[:, :-1, :-1] - x[:, :-1, 1:]) ** 2
    expected = ((a + b) ** 1.25).sum()
    assert total_variation(tf.constant(x)).numpy() == pytest.approx(expected, rel=1e-12)


def test_normalized_total_variation_is_a_mean_in_unit_pixels():
    x = rng.uniform(0, 255, size=(1, 5, 5, 3))
    y = x / 255.0
    a = (y[:, :-1, :-1] - y[:, 1:, :-1]) ** 2
    b = (y[:, :-1, :-1] - y[:, :-1, 1:]) ** 2
    expected = ((a + b + 1e-8) ** 1.25).sum() / 16
    assert total_variation(tf.constant(x), normalize=True).numpy() == pytest.approx(expected, rel=1e-9)


def test_relative_squared_error_by_hand_and_scale_free():
    x, t = tf.constant([1.0, -2.0, 3.0], tf.float64), tf.constant([1.0, 0.0, 1.0], tf.float64)
    assert relative_squared_error(x, t).numpy() == pytest.approx((0 + 4 + 4) / 2.0)
    f, p = rng.normal(size=(1, 4, 4, 8)), rng.normal(size=(1, 4, 4, 8))
    for scale in (1e-3, 1e4):  # features k times larger (another backbone): the same normalised losses
        assert content_loss(tf.constant(scale * f), tf.constant(scale * p), normalize=True).numpy() == pytest.approx(
            content_loss(tf.constant(f), tf.constant(p), normalize=True).numpy(), rel=1e-9)
        a = gram(tf.constant(scale * p))
        assert style_loss(tf.constant(scale * f), a, normalize=True).numpy() == pytest.approx(
            style_loss(tf.constant(f), gram(tf.constant(p)), normalize=True).numpy(), rel=1e-9)


@pytest.fixture(scope="module")
def tiny_backbone():
    import keras

    keras.utils.set_random_seed(1)
    return backbones.build("vgg16-random", ["block1_conv1", "block2_conv1", "block3_conv1"], dtype="float64")


def _objective(backbone, content, styles, **kw):
    options = dict(content_layers=["block3_conv1"], style_layers=["block1_conv1", "block2_conv1"],
                   content_weight=1.0, style_weight=1.0, tv_weight=0.0)
    options.update(kw)
    return Objective(backbone, content, styles, **options)


def test_objective_terms_are_weighted_sums_of_the_pure_losses(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 32, 32, 3)))
    style = tf.constant(rng.uniform(0, 255, (1, 40, 24, 3)))
    image = tf.constant(rng.uniform(0, 255, (1, 32, 32, 3)))
    obj = _objective(tiny_backbone, content, [style], content_weight=3.0, style_weight=5.0, tv_weight=7.0,
                     style_layer_weights=[1.0, 3.0], normalize=False)
    terms = obj.terms(image)
    fi, fc, fs = tiny_backbone(image), tiny_backbone(content), tiny_backbone(style)
    expected_content = 3.0 * content_loss(fi["block3_conv1"], fc["block3_conv1"])
    expected_style = 5.0 * (0.25 * style_loss(fi["block1_conv1"], gram(fs["block1_conv1"]))
                            + 0.75 * style_loss(fi["block2_conv1"], gram(fs["block2_conv1"])))
    np.testing.assert_allclose(terms["content"].numpy(), expected_content.numpy(), rtol=1e-9)
    np.testing.assert_allclose(terms["style"].numpy(), expected_style.numpy(), rtol=1e-9)
    np.testing.assert_allclose(terms["tv"].numpy(), 7.0 * total_variation(image).numpy(), rtol=1e-9)


def test_objective_gradient_matches_finite_differences(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    style = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    obj = _objective(tiny_backbone, content, [style], tv_weight=1e-3, normalize=True)
    x = rng.uniform(0, 255, (1, 16, 16, 3))
    total, _, grad = obj.value_and_grad(x)
    direction = rng.normal(size=x.shape)
    eps = 1e-4
    plus = obj.value_and_grad(x + eps * direction)[0].numpy()
    minus = obj.value_and_grad(x - eps * direction)[0].numpy()
    assert (plus - minus) / (2 * eps) == pytest.approx((grad.numpy() * direction).sum(), rel=1e-5)


def test_style_blend_weights_1_0_give_the_single_styles_targets(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    a, b = (tf.constant(rng.uniform(0, 255, (1, 16, 16, 3))) for _ in range(2))
    single = _objective(tiny_backbone, content, [a])
    blended = _objective(tiny_backbone, content, [a, b], style_blend=[1.0, 0.0])
    halves = _objective(tiny_backbone, content, [a, b])
    for name in single.style_targets:
        np.testing.assert_allclose(blended.style_targets[name].numpy(), single.style_targets[name].numpy())
        ga, gb = gram(tiny_backbone(a)[name]), gram(tiny_backbone(b)[name])
        np.testing.assert_allclose(halves.style_targets[name].numpy(), (0.5 * (ga + gb)).numpy(), rtol=1e-9)


def test_wrong_number_of_layer_weights_is_refused(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    with pytest.raises(SettingsError, match="one per"):
        _objective(tiny_backbone, content, [content], style_layer_weights=[1.0])


class MeanSquare(Term):
    """A made-up pixel term, mean(x²) in 0..1 units: what a new term needs to write, and nothing more."""

    name = "mean_square"

    def __init__(self, weight):
        self.weight = weight

    def sum_shapes(self):
        return {"mean_square": ()}

    def sums(self, maps, pixels, targets):
        return {"mean_square": tf.reduce_sum(tf.square(pixels / 255.0))}

    def value(self, sums, shape, counts):
        return sums["mean_square"] / tf.cast(shape[0] * shape[1] * 3, sums["mean_square"].dtype)


def test_an_extra_named_term_is_weighted_reported_by_name_and_differentiated(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    image = rng.uniform(0, 255, (1, 16, 16, 3))
    plain = _objective(tiny_backbone, content, [content])
    extra = _objective(tiny_backbone, content, [content], extra_terms=[MeanSquare(2.0)])
    terms = extra.terms(tf.constant(image))
    assert list(terms) == ["content", "style", "tv", "mean_square"]
    assert terms["mean_square"].numpy() == pytest.approx(2.0 * np.mean((image / 255.0) ** 2), rel=1e-12)
    for name, value in plain.terms(tf.constant(image)).items():
        assert terms[name].numpy() == pytest.approx(value.numpy(), rel=1e-12)
    _, _, with_term = extra.value_and_grad(image)
    _, _, without = plain.value_and_grad(image)
    np.testing.assert_allclose((with_term - without).numpy(), 2.0 * 2.0 * image / 255.0**2 / image.size, rtol=1e-6)


def test_two_terms_of_one_name_are_refused(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    with pytest.raises(ValueError, match="share a name"):
        _objective(tiny_backbone, content, [content], extra_terms=[MeanSquare(1.0), MeanSquare(1.0)])


def test_a_term_that_is_not_tileable_is_refused_by_the_tiled_objective(tiny_backbone):
    from painterly.errors import PainterlyError
    from painterly.tiling import TiledObjective

    content = rng.uniform(0, 255, (32, 32, 3))
    options = dict(content_layers=["block3_conv1"], style_layers=["block1_conv1"], content_weight=1.0,
                   style_weight=1.0, tv_weight=0.0)
    with pytest.raises(PainterlyError, match="mean_square term needs the whole image"):
        TiledObjective(tiny_backbone, content, [content], tile=16, extra_terms=[MeanSquare(1.0)], **options)


def test_style_targets_are_computed_once_per_network_styles_layers_and_blend(tiny_backbone):
    a, b = rng.uniform(0, 255, (1, 16, 16, 3)), rng.uniform(0, 255, (1, 16, 16, 3))
    calls = []

    def grams_of(style):
        calls.append(style)
        return {"block1_conv1": gram(tiny_backbone(style)["block1_conv1"])}

    first = style_grams(tiny_backbone, [a], ["block1_conv1"], [1.0], grams_of)
    again = style_grams(tiny_backbone, [a.copy()], ["block1_conv1"], [1.0], grams_of)
    assert len(calls) == 1  # the same pixels: the cached targets
    np.testing.assert_array_equal(first["block1_conv1"].numpy(), again["block1_conv1"].numpy())
    style_grams(tiny_backbone, [b], ["block1_conv1"], [1.0], grams_of)
    style_grams(tiny_backbone, [a, b], ["block1_conv1"], [0.5, 0.5], grams_of)
    style_grams(tiny_backbone, [a], ["block1_conv1"], [1.0], grams_of, how="tiled")
    assert len(calls) == 1 + 1 + 2 + 1  # other pixels, a blend, another way of computing: computed anew
    changed = a.copy()
    changed[0, 0, 0, 0] += 1.0
    style_grams(tiny_backbone, [changed], ["block1_conv1"], [1.0], grams_of)
    assert len(calls) == 6


def test_mean_balance_is_the_mean_squared_feature_gram_and_pixel_difference_by_hand(tiny_backbone):
    """balance "mean": content Σ(F−P)²/(H·W·C); each style layer Σ((G−A)/C)²/C² with Grams over H·W (so
    divided by H·W·C); the layers weighted by their shares; TV the mean of (dx² + dy²)/3 in 0..1 units."""
    content = rng.uniform(0, 255, (1, 16, 16, 3))
    style = rng.uniform(0, 255, (1, 24, 20, 3))
    image = rng.uniform(0, 255, (1, 16, 16, 3))
    obj = _objective(tiny_backbone, tf.constant(content), [tf.constant(style)], content_weight=3.0,
                     style_weight=5.0, tv_weight=7.0, style_layer_weights=[1.0, 3.0], balance="mean")
    terms = obj.terms(tf.constant(image))
    fi, fc, fs = (tiny_backbone(tf.constant(x)) for x in (image, content, style))

    def by_hand_gram(f):  # (1, h, w, c) → F^T F / (h w c), in NumPy
        f = f.numpy()[0]
        flat = f.reshape(-1, f.shape[-1])
        return flat.T @ flat / flat.size

    p, f = fc["block3_conv1"].numpy(), fi["block3_conv1"].numpy()
    content_by_hand = np.mean((f - p) ** 2)
    style_by_hand = sum(w * np.mean((by_hand_gram(fi[n]) - by_hand_gram(fs[n])) ** 2)
                        for n, w in (("block1_conv1", 0.25), ("block2_conv1", 0.75)))
    x = image[0] / 255.0
    dx, dy = x[1:, :-1] - x[:-1, :-1], x[:-1, 1:] - x[:-1, :-1]
    tv_by_hand = np.mean(dx**2 + dy**2)  # the mean over pairs and channels
    assert terms["content"].numpy() == pytest.approx(3.0 * content_by_hand, rel=1e-9)
    assert terms["style"].numpy() == pytest.approx(5.0 * style_by_hand, rel=1e-9)
    assert terms["tv"].numpy() == pytest.approx(7.0 * tv_by_hand, rel=1e-9)


def test_mean_balance_gradient_matches_finite_differences(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    style = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    obj = _objective(tiny_backbone, content, [style], tv_weight=1.0, balance="mean")
    x = rng.uniform(0, 255, (1, 16, 16, 3))
    _, _, grad = obj.value_and_grad(x)
    direction = rng.normal(size=x.shape)
    eps = 1e-4
    plus = obj.value_and_grad(x + eps * direction)[0].numpy()
    minus = obj.value_and_grad(x - eps * direction)[0].numpy()
    assert (plus - minus) / (2 * eps) == pytest.approx((grad.numpy() * direction).sum(), rel=1e-5)


def test_mean_balance_tiled_equals_whole(tiny_backbone):
    from painterly.tiling import TiledObjective

    content, style = rng.uniform(0, 255, (32, 32, 3)), rng.uniform(0, 255, (24, 24, 3))
    options = dict(content_layers=["block3_conv1"], style_layers=["block1_conv1", "block2_conv1"],
                   content_weight=2.0, style_weight=3.0, tv_weight=4.0, balance="mean")
    whole = Objective(tiny_backbone, tf.constant(content[None]), [tf.constant(style[None])], **options)
    tiled = TiledObjective(tiny_backbone, content, [style], tile=16, **options)
    x = rng.uniform(0, 255, (1, 32, 32, 3))
    a, b = whole.value_and_grad(x), tiled.value_and_grad(x)
    assert float(b[0]) == pytest.approx(float(a[0]), rel=1e-7)
    np.testing.assert_allclose(np.asarray(b[2]), np.asarray(a[2]), rtol=1e-6, atol=1e-12)


def test_an_unknown_balance_is_refused(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 16, 16, 3)))
    with pytest.raises(ValueError, match="unknown loss balance 'gatys'"):
        _objective(tiny_backbone, content, [content], balance="gatys")


def _sliced(style_maps, blend=(1.0,), seed=0):
    from painterly.wasserstein import SlicedStyleTerm

    return SlicedStyleTerm(1.0, [{"a": tf.constant(m)} for m in style_maps], [1.0], blend, seed)


def _sliced_value(term, picture):
    return term.value(term.sums({"a": picture}, None, {}), None, None)


def test_the_sliced_style_loss_in_one_dimension_is_the_difference_of_sorted_vectors():
    """One channel: one direction (±1), so the loss is the mean squared difference of the two sorted vectors."""
    term = _sliced([np.array([[[3.0], [1.0]], [[2.0], [5.0]]])])
    sign = float(np.sign(term.directions["a"].numpy()[0, 0]))
    style, picture = sign * np.array([3.0, 1.0, 2.0, 5.0]), sign * np.array([0.0, 4.0, 1.0, 2.0])
    expected = np.mean((np.sort(picture) - np.sort(style)) ** 2)  # (0,1,2,4) against (1,2,3,5): 1
    value = _sliced_value(term, tf.constant([[[0.0], [4.0]], [[1.0], [2.0]]], tf.float64))
    assert float(value) == pytest.approx(expected, rel=1e-12) and expected == pytest.approx(1.0)


def test_the_sliced_style_loss_value_and_gradient_match_numpy():
    """Projections on the term's directions, sorted; the painting's sorted projections at the picture's quantiles
    (20 rows taken at 12); the gradient: each sorted value pulls its own feature row along its direction."""
    style, picture = rng.normal(size=(5, 4, 3)), rng.normal(size=(3, 4, 3))
    term = _sliced([style])
    p = term.directions["a"].numpy()
    assert np.allclose(np.linalg.norm(p, axis=0), 1.0)  # unit directions, as many as the channels
    target = np.sort(style.reshape(-1, 3) @ p, axis=0)
    index = np.minimum(((np.arange(12) + 0.5) * 20 / 12).astype(int), 19)
    projected = picture.reshape(-1, 3) @ p
    expected = np.mean((np.sort(projected, axis=0) - target[index]) ** 2)
    x = tf.Variable(picture)
    with tf.GradientTape() as tape:
        value = _sliced_value(term, x)
    grad = tape.gradient(value, x).numpy()
    hand = np.zeros_like(projected)
    order = np.argsort(projected, axis=0)
    for k in range(projected.shape[1]):
        hand[order[:, k], k] = 2 * (np.sort(projected[:, k]) - target[index, k]) / projected.size
    assert float(value) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, (hand @ p.T).reshape(picture.shape), atol=1e-14)
    assert float(_sliced_value(term, tf.constant(style))) == pytest.approx(0.0, abs=1e-24)  # the painting itself


def test_sliced_targets_of_two_paintings_are_their_blended_quantile_functions():
    a, b = rng.normal(size=(4, 4, 3)), rng.normal(loc=2.0, size=(4, 4, 3))
    mixed = _sliced([a, b], blend=(0.25, 0.75)).targets["a"].numpy()
    p = _sliced([a]).directions["a"].numpy()  # the same seed: the same directions
    qa, qb = (np.sort(m.reshape(-1, 3) @ p, axis=0) for m in (a, b))
    np.testing.assert_allclose(mixed, 0.25 * qa + 0.75 * qb, rtol=1e-12)


def test_the_objective_takes_the_sliced_style_loss(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 32, 32, 3)))
    style = tf.constant(rng.uniform(0, 255, (1, 24, 40, 3)))
    sliced = _objective(tiny_backbone, content, [style], style_loss="sliced")
    terms = sliced.terms(content)
    assert set(terms) == {"content", "style", "tv"} and float(terms["style"]) > 0 and float(terms["content"]) == 0
    assert set(sliced.style_targets) == {"block1_conv1", "block2_conv1"} and not sliced.term("style").tileable
    assert float(_objective(tiny_backbone, style, [style], style_loss="sliced").terms(style)["style"]) < 1e-20


def test_a_run_with_the_sliced_style_loss_paints_and_a_tiled_one_is_refused_in_one_line(tiny_pair, random_vgg19,
                                                                                        monkeypatch):
    from painterly import Settings, memory
    from painterly.methods.optimise import Transfer

    content, style = tiny_pair
    settings = Settings(size=48, iterations=4, multiscale="off", model="vgg19", seed=0, style_loss="sliced")
    run = Transfer(content, style, settings, network=random_vgg19)
    records = list(run)
    assert records[-1].loss < records[0].loss and set(records[-1].terms) == {"content", "style", "tv"}
    with pytest.raises(SettingsError, match="^--style-loss sliced sorts the whole image's features and is never "
                                            "tiled: leave out --tile 256, or use --style-loss gram$"):
        settings.replace(tile=256)
    big = np.zeros((1200, 1600, 3), np.uint8)
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 50)  # not what this machine has free now
    whole = Transfer(big, style, settings.replace(size=1600, tile=None, style_loss="gram"), network=random_vgg19)
    monkeypatch.setattr(memory, "available_bytes", lambda: whole.memory["estimated_peak_bytes"] * 3 // 4)
    monkeypatch.setattr(memory, "current_rss_bytes", lambda: 0)
    assert Transfer(big, style, settings.replace(size=1600, style_loss="gram"), network=random_vgg19).memory["tile"]
    with pytest.raises(SettingsError, match="^a 1600×1200 run does not fit in memory whole, and --style-loss sliced "
                                            "sorts the whole image's features: use a smaller --size, or --style-loss "
                                            "auto \\(it tiles\\)$"):
        Transfer(big, style, settings.replace(size=1600), network=random_vgg19)


def _gaussian(style_maps, blend=(1.0,)):
    from painterly.wasserstein import GaussianStyleTerm

    flats = [m.reshape(-1, m.shape[-1]) for m in style_maps]
    mean = sum(b * f.mean(axis=0) for f, b in zip(flats, blend))
    second = sum(b * f.T @ f / len(f) for f, b in zip(flats, blend))
    return GaussianStyleTerm(1.0, {"a": (mean, second)}, [1.0])


def _gaussian_value(term, picture):
    counts = {"a": int(np.prod(picture.shape[:2]))}
    return term.value(term.sums({"a": picture}, None, {}), None, counts)


def _w2_by_hand(picture, mean_t, cov_t):
    """The Wasserstein-2 distance between two Gaussians, from scipy's matrix square root, per channel; both
    covariances with the ridge ε (GAUSSIAN_RIDGE times the painting's mean variance) on their diagonals."""
    from scipy.linalg import sqrtm

    from painterly.wasserstein import GAUSSIAN_RIDGE

    flat = picture.reshape(-1, picture.shape[-1])
    mean, cov = flat.mean(axis=0), np.cov(flat, rowvar=False, bias=True)
    ridge = GAUSSIAN_RIDGE * np.trace(cov_t) / len(cov_t) * np.eye(len(cov_t))
    cov, cov_t = cov + ridge, cov_t + ridge
    root = sqrtm(cov_t).real
    cross = np.trace(sqrtm(root @ cov @ root).real)
    return (np.sum((mean - mean_t) ** 2) + np.trace(cov) + np.trace(cov_t) - 2 * cross) / flat.shape[1]


def test_the_w2_style_loss_value_and_gradient_match_scipy():
    """(|μ − μ_t|² + tr(Σ + Σ_t − 2 (Σ_t^½ Σ Σ_t^½)^½)) / C, with scipy's sqrtm; its gradient against central
    differences of that hand computation; zero for the painting itself."""
    style, picture = rng.normal(size=(6, 5, 3)) * [1.0, 2.0, 0.5], rng.normal(loc=0.3, size=(4, 5, 3))
    flat = style.reshape(-1, 3)
    mean_t, cov_t = flat.mean(axis=0), np.cov(flat, rowvar=False, bias=True)
    term = _gaussian([style])
    x = tf.Variable(picture)
    with tf.GradientTape() as tape:
        value = _gaussian_value(term, x)
    grad = tape.gradient(value, x).numpy()
    assert float(value) == pytest.approx(_w2_by_hand(picture, mean_t, cov_t), rel=1e-9)
    hand = np.zeros_like(picture)
    for index in np.ndindex(picture.shape):
        step = np.zeros_like(picture)
        step[index] = 1e-6
        hand[index] = (_w2_by_hand(picture + step, mean_t, cov_t) - _w2_by_hand(picture - step, mean_t, cov_t)) / 2e-6
    np.testing.assert_allclose(grad, hand, rtol=1e-5, atol=1e-8)
    assert float(_gaussian_value(term, tf.constant(style))) == pytest.approx(0.0, abs=1e-7)


def test_the_w2_targets_of_two_paintings_are_their_mixture_moments():
    """Blended as Grams are: the mixture's mean, and its covariance (which holds the spread between the means)."""
    from painterly.wasserstein import GAUSSIAN_RIDGE

    a, b = rng.normal(size=(4, 4, 3)), rng.normal(loc=2.0, size=(4, 4, 3))
    term = _gaussian([a, b], blend=(0.25, 0.75))
    both = np.concatenate([a.reshape(-1, 3)] + [b.reshape(-1, 3)] * 3)  # 1 : 3, as 0.25 : 0.75
    np.testing.assert_allclose(term.means["a"].numpy(), both.mean(axis=0), rtol=1e-12)
    cov = np.cov(both, rowvar=False, bias=True)
    ridge = term.ridges["a"]
    assert ridge == pytest.approx(GAUSSIAN_RIDGE * np.trace(cov) / 3, rel=1e-12)
    np.testing.assert_allclose(term.covariances["a"].numpy(), cov + ridge * np.eye(3), atol=1e-12)


def test_the_objective_takes_the_w2_style_loss(tiny_backbone):
    content = tf.constant(rng.uniform(0, 255, (1, 32, 32, 3)))
    style = tf.constant(rng.uniform(0, 255, (1, 24, 40, 3)))
    w2 = _objective(tiny_backbone, content, [style], style_loss="w2")
    terms = w2.terms(content)
    assert set(terms) == {"content", "style", "tv"} and float(terms["style"]) > 0 and float(terms["content"]) == 0
    assert float(_objective(tiny_backbone, style, [style], style_loss="w2").terms(style)["style"]) < 1e-6


def test_the_w2_style_loss_tiled_equals_whole(tiny_backbone):
    """Its sums (the features' sum and FᵀF) add up over tiles: value and gradient as the whole image's."""
    from painterly.tiling import TiledObjective

    content = rng.uniform(0, 255, (1, 32, 32, 3))
    style = rng.uniform(0, 255, (1, 24, 40, 3))
    options = dict(content_layers=["block3_conv1"], style_layers=["block1_conv1", "block2_conv1"],
                   content_weight=1.0, style_weight=1.0, tv_weight=1.0, balance="mean", style_loss="w2")
    whole = Objective(tiny_backbone, tf.constant(content), [tf.constant(style)], **options)
    tiled = TiledObjective(tiny_backbone, content, [style], tile=16, **options)
    x = rng.uniform(0, 255, (1, 32, 32, 3))
    a, b = whole.value_and_grad(x), tiled.value_and_grad(x)
    assert float(a[1]["style"]) > 0
    assert float(b[0]) == pytest.approx(float(a[0]), rel=1e-6)
    np.testing.assert_allclose(np.asarray(b[2]), np.asarray(a[2]), rtol=1e-4, atol=1e-9)
