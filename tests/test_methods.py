"""The methods behind `Settings.method`: the fast method's run, --init fast, and what the CLI makes of them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from painterly import PRESETS, Settings, colors, images, memory, preset
from painterly.cli import main
from painterly.errors import PainterlyError, SettingsError
from painterly.methods import prepare
from painterly.methods.fast import FastRun, paint_picture
from painterly.methods.optimise import Transfer

from conftest import decode, shared_image

pytest.importorskip("onnxruntime")


def test_fast_run_is_one_record_without_a_loss(tiny_pair):
    content, style = tiny_pair
    run = prepare(content, style, Settings(method="fast", size=40))
    assert isinstance(run, FastRun) and run.size == (40, 27) and run.planned_steps == 0
    records = list(run)
    assert len(records) == 1
    record = records[0]
    assert record.step == 0 and np.isnan(record.loss) and record.image.shape == (27, 40, 3)
    result = run.result()
    assert result.stopped == "completed" and result.metadata["method"] == "fast"
    assert result.metadata["timings"]["paint_s"] > 0
    photo = images.resize(images.load_image(content).rgb, (40, 27))
    assert np.abs(result.image - photo).mean() > 10  # painted, not the photo


def test_style_strength_moves_from_the_photo_to_the_painting():
    content, style = shared_image("content", "tubingen.jpg"), shared_image("style", "starry_night.jpg")
    photo = images.resize(images.load_image(content).rgb, (256, 192))
    distance = [np.abs(list(FastRun(content, style, Settings(method="fast", size=256, style_strength=s)))[0].image
                       - photo).mean() for s in (0.0, 0.5, 1.0)]
    assert distance[0] < distance[1] < distance[2]  # measured 24.2, 27.4, 35.8 (at 160 px not monotone)


def test_luminance_mode_keeps_the_photos_colours(tiny_pair):
    content, style = tiny_pair
    out = list(FastRun(content, style, Settings(method="fast", size=48, preserve_color="luminance")))[0].image
    photo = images.resize(images.load_image(content).rgb, (48, 32))
    chroma = lambda rgb: colors._to_yiq(rgb)[..., 1:]  # noqa: E731
    assert np.abs(chroma(out) - chroma(photo)).mean() < 1.0
    plain = list(FastRun(content, style, Settings(method="fast", size=48)))[0].image
    assert np.abs(chroma(plain) - chroma(photo)).mean() > 3.0


def test_style_scale_paints_smaller_and_resizes(tiny_pair):
    content, style = tiny_pair
    run = FastRun(content, style, Settings(method="fast", size=48, style_scale=2.0))
    assert run.painted_size == (24, 16) and run.size == (48, 32)
    big = list(run)[0].image
    plain = list(FastRun(content, style, Settings(method="fast", size=48)))[0].image
    assert big.shape == plain.shape and np.abs(big - plain).mean() > 2.0


def test_two_styles_blend_between_them(tiny_pair, tmp_path):
    content, style = tiny_pair
    other = tmp_path / "other.png"
    images.save_image(other, np.full((40, 40, 3), (30, 160, 60), np.float32))
    one, two, mixed = (list(FastRun(content, styles, Settings(method="fast", size=48, style_blend=weights)))[0].image
                       for styles, weights in (([style], None), ([other], None), ([style, other], (1.0, 1.0))))
    assert np.abs(mixed - one).mean() < np.abs(two - one).mean()
    assert np.abs(mixed - two).mean() < np.abs(two - one).mean()


def test_memory_check_tiles_or_refuses(tiny_pair, monkeypatch):
    content, style = tiny_pair
    monkeypatch.setattr(memory, "available_bytes", lambda: 800_000_000)
    monkeypatch.setattr(memory, "current_rss_bytes", lambda: 100_000_000)
    with pytest.raises(PainterlyError, match="--tile auto"):
        FastRun(content, style, Settings(method="fast", size=2048, tile=None))
    run = FastRun(content, style, Settings(method="fast", size=2048))
    assert run.memory["tile"] is not None and run.memory["tile"] < 2048


def test_init_fast_starts_from_the_fast_picture(tiny_pair, random_vgg19):
    content, style = tiny_pair
    settings = Settings(model="vgg19", size=48, iterations=2, init="fast", init_photo=0.0, seed=0)
    run = Transfer(content, style, settings, backbone=random_vgg19)
    first = next(iter(run))
    expected = paint_picture(images.load_image(content).rgb, [images.load_image(style).rgb], settings, (48, 32))
    assert first.step == 0
    np.testing.assert_allclose(first.image, expected, atol=1e-3)
    photo = images.resize(images.load_image(content).rgb, (48, 32))
    assert np.abs(first.image - photo).mean() > 10


def test_method_and_strength_are_checked():
    with pytest.raises(SettingsError, match="did you mean optimise"):
        Settings(method="optimize")
    with pytest.raises(SettingsError, match="style strength 1.5"):
        Settings(style_strength=1.5)


def test_cli_fast_writes_picture_and_a_one_step_report(tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    out, report = tmp_path / "out.png", tmp_path / "report"
    code = main([str(content), str(style), "-o", str(out), "--method", "fast", "--size", "40",
                 "--report", str(report), "--iterations", "7"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "--iterations applies to --method optimise only" in err and "fast network" in err
    assert decode(out).shape == (27, 40, 3)
    written = {p.name for p in report.iterdir()}
    assert {"result.png", "content.png", "style.png", "metadata.json", "index.html"} <= written
    assert "table.csv" not in written and "loss.png" not in written  # nothing was minimised
    meta = json.loads((report / "metadata.json").read_text())
    assert meta["method"] == "fast" and meta["best"] is None and "onnxruntime" in meta["versions"]
    assert "Painted in one pass" in (report / "index.html").read_text()


def test_cli_fast_keeps_alpha(tmp_path):
    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[8:24, 8:40, 3] = 255
    from PIL import Image

    Image.fromarray(rgba, "RGBA").save(tmp_path / "c.png")
    Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(tmp_path / "s.png")
    out = tmp_path / "o.png"
    assert main([str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(out), "--method", "fast",
                 "--size", "48", "--quiet"]) == 0
    with Image.open(out) as image:
        assert image.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(image)[..., 3], rgba[..., 3])


def test_fast_run_never_imports_tensorflow(tiny_pair, tmp_path):
    content, style = tiny_pair
    code = ("import sys; from painterly.cli import main; "
            f"rc = main([{str(content)!r}, {str(style)!r}, '-o', {str(tmp_path / 'o.png')!r}, '--method', 'fast', "
            "'--size', '40', '--quiet']); "
            "sys.exit(rc or (3 if 'tensorflow' in sys.modules or 'keras' in sys.modules else 0))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o.png").is_file()


def test_init_photo_mixes_the_photo_into_the_fast_start(tiny_pair, random_vgg19):
    content, style = tiny_pair
    settings = Settings(model="vgg19", size=48, iterations=1, init="fast", init_photo=0.25, seed=0)
    first = next(iter(Transfer(content, style, settings, backbone=random_vgg19)))
    fast = paint_picture(images.load_image(content).rgb, [images.load_image(style).rgb], settings, (48, 32))
    photo = images.resize(images.load_image(content).rgb, (48, 32))
    np.testing.assert_allclose(first.image, np.clip(0.75 * fast + 0.25 * photo, 0, 255), atol=1e-3)
    with pytest.raises(SettingsError, match="init photo 2"):
        Settings(init_photo=2)


def test_the_default_start_is_the_fast_picture_with_a_quarter_of_the_photo(tiny_pair, random_vgg19):
    content, style = tiny_pair
    settings = Settings(model="vgg19", size=48, seed=0)
    assert (settings.init, settings.init_photo, settings.iterations) == ("fast", 0.25, 40)
    first = next(iter(Transfer(content, style, settings, backbone=random_vgg19)))
    fast = paint_picture(images.load_image(content).rgb, [images.load_image(style).rgb], settings, (48, 32))
    photo = images.resize(images.load_image(content).rgb, (48, 32))
    np.testing.assert_allclose(first.image, np.clip(0.75 * fast + 0.25 * photo, 0, 255), atol=1e-3)
    classic = Settings(**{**PRESETS["classic"], "model": "vgg19", "size": 48, "seed": 0})
    first = next(iter(Transfer(content, style, classic, backbone=random_vgg19)))
    np.testing.assert_allclose(first.image, photo, atol=1e-3)  # --preset classic: from the photo, as before
    assert classic.iterations == 100 and preset("paper").init == "content"


def test_the_default_moves_the_colours_to_the_paintings_and_classic_keeps_the_photos(tiny_pair, random_vgg19):
    from bench.looks import colour_ratio

    content, style = tiny_pair
    photo = images.resize(images.load_image(content).rgb, (48, 32))
    painting = images.load_image(style).rgb
    ratios = {}
    for name in ("default", "classic"):
        settings = preset(name, model="vgg19", size=48, iterations=3, seed=0)
        run = Transfer(content, style, settings, backbone=random_vgg19)
        for _ in run:
            pass
        ratios[name] = colour_ratio(run.result().image, photo, painting)
    assert ratios["default"] < 1 < ratios["classic"], ratios  # the default nearer the painting's palette, classic the photo's
    assert ratios["default"] < ratios["classic"] / 3, ratios


# --preset classic and --preset paper as they were before issue 22 changed the default (main at c2efd80),
# every field written out: a changed default must not change them (the new field keeps the old objective).
CLASSIC_BEFORE = {
    'method': 'optimise', 'style_strength': 1.0, 'model': 'auto', 'weights': None, 'size': 512, 'size_edge': 'long',
    'tile': 'auto', 'iterations': 100, 'multiscale': 'auto', 'min_size': 256, 'fine_iterations': None,
    'optimizer': 'lbfgs', 'learning_rate': None, 'content_weight': 1.0, 'style_weight': 10.0, 'tv_weight': 1.0,
    'content_layers': ['block5_conv2'],
    'style_layers': ['block1_conv1', 'block2_conv1', 'block3_conv1', 'block4_conv1', 'block5_conv1'],
    'style_layer_weights': None, 'style_blend': None, 'style_scale': 1.0, 'style_upscale': False,
    'preserve_color': 'none', 'pooling': 'max', 'border': 'mirror', 'precision': 'float32', 'normalize': True,
    'init': 'content', 'init_photo': 0.0, 'seed': None, 'save_every': 10, 'decay_steps': 100, 'decay_rate': 0.96,
}
PAPER_BEFORE = {
    **CLASSIC_BEFORE, 'size': 400, 'size_edge': 'height', 'iterations': 4000, 'multiscale': 'off', 'optimizer': 'sgd',
    'learning_rate': 100.0, 'content_weight': 2.5e-08, 'style_weight': 1e-06, 'tv_weight': 1e-06,
    'style_upscale': True, 'border': 'zero', 'normalize': False, 'init_photo': 0.25, 'save_every': 100,
}


@pytest.mark.parametrize("name, before", [("classic", CLASSIC_BEFORE), ("paper", PAPER_BEFORE)])
def test_classic_and_paper_presets_are_as_before_issue_22(name, before):
    settings = preset(name).to_dict()
    assert settings.pop("loss_balance") == "relative"  # the objective they had: relative style errors
    assert settings.pop("style_loss") == "gram"  # and its Gram matrices
    assert settings.pop("large_iterations") is None  # and half the iterations at every finer scale
    assert settings == before


def test_relative_preset_is_the_default_before_issue_22():
    assert preset("relative").to_dict() == {**CLASSIC_BEFORE, "init": "fast", "init_photo": 0.25, "iterations": 40,
                                            "loss_balance": "relative", "style_loss": "gram",
                                            "large_iterations": None}


def test_the_default_objective_falls_on_a_tiny_image(tiny_pair, random_vgg19):
    """The default (mean balance, content at block4_conv2, β 1e4, from the fast picture): L-BFGS lowers it,
    every term named as before."""
    content, style = tiny_pair
    settings = Settings(model="vgg19", size=48, iterations=6, seed=0)
    assert settings.loss_balance == "mean" and settings.content_layers == ("block4_conv2",)
    run = Transfer(content, style, settings, backbone=random_vgg19)
    records = list(run)
    assert set(records[0].terms) == {"content", "style", "tv"}
    assert run.result().best.loss < 0.9 * records[0].loss


def test_the_registry_names_each_method_once_and_refuses_an_unknown_one():
    from painterly import methods, settings

    assert methods.NAMES == settings.METHODS == ("optimise", "fast")
    assert [methods.get(name).name for name in methods.NAMES] == ["optimise", "fast"]
    assert methods.get("fast").iterative is False and methods.get("optimise").iterative is True
    with pytest.raises(SettingsError, match="unknown method 'optimize': did you mean optimise\\? choose optimise or fast"):
        methods.get("optimize")


def test_every_method_prepares_a_run_with_the_same_attributes(tiny_pair, random_vgg19):
    """What the front ends read of a run, whatever the method: the network it paints with, its name, the first
    picture (None before the fast method's one pass), and the CLI's last line from `Method.summary`."""
    from painterly import methods

    content, style = tiny_pair
    for settings, network in ((Settings(method="fast", size=40), None),
                              (Settings(size=40, iterations=2, model="vgg19", seed=0), random_vgg19)):
        method = methods.get(settings.method)
        run = method.prepare(content, style, settings, network=network)
        if network is not None:
            assert run.network is network and run.network_name == random_vgg19.name
            assert run.first_picture().shape == (27, 40, 3)
        else:
            assert run.network_name is None and run.first_picture() is None
        for _ in run:
            pass
        line = method.summary(run.result())
        assert ("fast network) in " in line) if network is None else (" s; loss " in line and "→" in line)


def test_networks_are_shared_exactly_when_their_key_matches(random_vgg19):
    from painterly.backbones import backbone_key
    from painterly.networks import Networks

    networks = Networks(keep=2)
    a = Settings(model="vgg19", seed=0)
    networks.put(a, random_vgg19)
    assert networks.get(a.replace(size=64, style_weight=3.0, iterations=9), build=False) is random_vgg19
    assert networks.get(a.replace(pooling="avg"), build=False) is None  # another network
    assert Networks.key(a) == ("optimise", backbone_key(a))
    assert Networks.key(Settings(model="vgg19-random", seed=None)) is None  # the run draws its weights
    networks.put(a.replace(pooling="avg"), "second")
    networks.put(a.replace(border="zero"), "third")  # keep=2: the least recently used goes
    assert len(networks) == 2 and networks.get(a, build=False) is None
    fast = Settings(method="fast")
    assert networks.get(fast) is networks.get(fast)  # the fast network, built once
