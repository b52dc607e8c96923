"""The engine on tiny images with random weights: losses fall, images change, runs stop and reproduce."""

import numpy as np
import pytest

import painterly
from painterly import Settings
from painterly.engine import Transfer
from painterly.errors import NumericalError, SettingsError

FAST = dict(size=48, iterations=8, model="vgg19", style_weight=10.0)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam", "sgd"])
def test_each_optimizer_lowers_the_loss_and_changes_the_image(optimizer, tiny_pair, random_vgg19):
    content, style = tiny_pair
    rate = {"lbfgs": None, "adam": 4.0, "sgd": 3e4}[optimizer]
    result = painterly.stylize(content, style, backbone=random_vgg19, optimizer=optimizer, learning_rate=rate,
                               **{**FAST, "iterations": 12})
    losses = [r.loss for r in result.history]
    assert len(losses) == 13  # the starting image, then one record per iteration
    assert result.best.loss < 0.8 * losses[0], losses
    start = Transfer(content, style, Settings(**FAST), backbone=random_vgg19).start_image(result.image.shape[1::-1])
    assert np.abs(result.image - start).mean() > 0.5
    assert result.image.min() >= 0 and result.image.max() <= 255
    assert result.stopped in ("completed", "converged")


def test_records_are_consistent_and_the_result_is_the_best(tiny_pair, random_vgg19):
    seen = []
    result = painterly.stylize(*tiny_pair, backbone=random_vgg19, callback=seen.append, optimizer="adam", **FAST)
    assert [r.step for r in seen] == list(range(9))
    assert all(r.image.shape == (32, 48, 3) and r.size == (48, 32) for r in seen)
    for r in seen:  # each record's total is the sum of its weighted terms
        assert r.loss == pytest.approx(sum(r.terms.values()), rel=1e-5)
    best = min(seen, key=lambda r: r.loss)
    np.testing.assert_array_equal(result.image, best.image)
    assert result.best.step == best.step
    assert all(r.image is None for r in result.history)
    assert seen[-1].evaluations == 9  # one evaluation per record, thanks to the cache


def test_metadata_records_settings_backbone_seed_and_timings(tiny_pair, random_vgg19):
    result = painterly.stylize(*tiny_pair, backbone=random_vgg19, seed=7, **FAST)
    meta = result.metadata
    assert meta["seed"] == 7
    assert meta["settings"]["size"] == 48 and meta["settings"]["optimizer"] == "lbfgs"
    assert meta["backbone"] == {"name": "vgg19-random", "weights": "random initialisation"}
    assert meta["output_size"] == [48, 32]
    assert meta["timings"]["optimize_s"] > 0 and meta["iterations_run"] == len(result.history) - 1
    assert meta["versions"]["keras"].startswith("3.")


def test_a_seed_makes_a_noise_run_reproducible(tiny_pair, random_vgg19):
    runs = [painterly.stylize(*tiny_pair, backbone=random_vgg19, init="noise", seed=s, **FAST) for s in (3, 3, 4)]
    np.testing.assert_allclose(runs[0].image, runs[1].image, atol=1e-3)
    assert np.abs(runs[0].image - runs[2].image).mean() > 1.0


@pytest.mark.parametrize("init", ["content", "style", "noise", "file"])
def test_init_choices(init, tiny_pair, random_vgg19, tmp_path):
    content, style = tiny_pair
    if init == "file":
        init = str(style)
    run = Transfer(content, style, Settings(**{**FAST, "init": init}, seed=1), backbone=random_vgg19)
    first = next(iter(run))
    assert first.step == 0 and first.image.shape == (32, 48, 3)
    if init == "content":
        np.testing.assert_allclose(first.image, painterly.images.resize(run.content.rgb, (48, 32)))


def test_leaving_the_loop_stops_the_run_and_keeps_the_best_so_far(tiny_pair, random_vgg19):
    for optimizer in ("lbfgs", "adam"):
        run = Transfer(*tiny_pair, Settings(**{**FAST, "optimizer": optimizer, "iterations": 1000}),
                       backbone=random_vgg19)
        for record in run:
            if record.step == 3:
                break
        result = run.result()
        assert result.stopped == "interrupted"
        assert len(result.history) == 4
        assert result.best.loss == min(r.loss for r in result.history)


def test_several_styles_are_blended(tiny_pair, random_vgg19, tmp_path):
    content, style = tiny_pair
    result = painterly.stylize(content, [style, content], backbone=random_vgg19, style_blend=(0.7, 0.3), **FAST)
    assert len(result.metadata["styles"]) == 2
    with pytest.raises(SettingsError, match="one per style image"):
        Transfer(content, [style], Settings(**FAST, style_blend=(0.5, 0.5)), backbone=random_vgg19)


def test_alpha_is_carried_to_the_output_size(tmp_path, random_vgg19, tiny_pair):
    rgba = np.zeros((32, 64, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[:, :32, 3] = 255  # left half opaque, right half transparent
    result = painterly.stylize(rgba, tiny_pair[1], backbone=random_vgg19, **{**FAST, "size": 32, "iterations": 2})
    assert result.alpha.shape == (16, 32)
    assert result.alpha[:, :12].min() > 250 and result.alpha[:, 20:].max() < 5


def test_a_nan_loss_stops_with_a_clear_error(tiny_pair, random_vgg19):
    with pytest.raises(NumericalError, match="loss became"):
        painterly.stylize(*tiny_pair, backbone=random_vgg19, normalize=False, content_weight=1e300, **FAST)


def test_iterate_is_a_generator_of_records(tiny_pair):
    records = painterly.iterate(*tiny_pair, size=32, iterations=2, model="vgg16-hed")
    assert [r.step for r in records] == [0, 1, 2]
