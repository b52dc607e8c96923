"""`Settings` and the flags made from it: every value checked once, at construction, in one line."""

import math

import pytest

from painterly import settings as settings_module
from painterly.errors import SettingsError
from painterly.settings import Settings


@pytest.mark.parametrize("changes, message", [
    ({"iterations": "3"}, "iterations '3' is text: give a whole number"),
    ({"seed": "x"}, "seed 'x' is text: give a whole number"),
    ({"iterations": 2.5}, "iterations 2.5 is not a whole number"),
    ({"iterations": True}, "iterations True is not a whole number"),
    ({"style_layers": "block1_conv1"}, "style layers 'block1_conv1' is one text: give a list of names"),
    ({"content_layers": "block5_conv2"}, "content layers 'block5_conv2' is one text: give a list of names"),
    ({"style_weight": "10"}, "style weight '10' is text: give a number"),
    ({"style_weight": math.nan}, "style weight nan must be a finite number"),
    ({"decay_rate": math.inf}, "0 < --decay-rate ≤ 1"),
    ({"style_scale": math.nan}, "style scale nan is out of range"),
    ({"style_strength": math.nan}, "style strength nan is out of range"),
    ({"learning_rate": math.inf}, "learning rate inf must be a positive number"),
    ({"style_layer_weights": (1.0, "x", 1.0, 1.0, 1.0)}, "style layer weights"),
    ({"style_upscale": "yes"}, "style upscale 'yes' is not True or False"),
    ({"init": 5}, "init 5 is not text"),
    ({"size": 512.0}, "size 512.0 is not a whole number of pixels or auto"),
])
def test_the_library_refuses_wrong_types_at_construction(changes, message):
    with pytest.raises(SettingsError) as refused:
        Settings(**changes)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_lists_are_taken_as_tuples_and_numpy_numbers_as_numbers():
    import numpy as np

    s = Settings(style_layers=["block1_conv1", "block2_conv1"], style_weight=np.float32(2.0), iterations=np.int64(3))
    assert s.style_layers == ("block1_conv1", "block2_conv1") and s.iterations == 3
    assert hash(s) == hash(Settings(style_layers=("block1_conv1", "block2_conv1"), style_weight=2.0, iterations=3))


def test_stylize_refuses_a_callback_that_cannot_be_called_and_a_misspelt_setting(tiny_pair):
    from painterly.engine import stylize

    content, style = tiny_pair
    with pytest.raises(SettingsError, match="callback 5 cannot be called: give a function"):
        stylize(content, style, method="fast", size=32, callback=5)
    with pytest.raises(SettingsError, match="unknown setting 'iteratons': did you mean iterations?"):
        stylize(content, style, iteratons=3)


@pytest.mark.parametrize("flag", ["--style-weight", "--style-scale", "--decay-rate", "--style-strength"])
@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_every_float_flag_refuses_what_is_not_finite(flag, text, tiny_pair, tmp_path, capsys):
    from painterly.cli import main

    content, style = tiny_pair
    code = main([str(content), str(style), "-o", str(tmp_path / "out.png"), f"{flag}={text}", "--size", "32"])
    err = capsys.readouterr().err
    assert code == 2 and f" {text}" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("method, temporal, weight, frames, message", [
    ("fast", "flow", math.nan, None, "temporal weight nan must be a finite number"),
    ("optimise", "flow", math.inf, None, "temporal weight inf must be a finite number"),
    ("fast", "flow", 1.5, None, "temporal weight 1.5 is out of range: give 0 to 1"),
    ("optimise", "flow", -1.0, None, "temporal weight -1 is out of range"),
    ("optimise", "flow", None, 0, "frame iterations 0 is out of range: choose 1 to"),
    ("optimise", "flow", None, 2.5, "frame iterations 2.5 is not a whole number"),
    ("fast", "flow", None, 5, "frame iterations apply to the optimise method along the flow only"),
    ("optimise", "blend", None, 5, "frame iterations apply to the optimise method along the flow only"),
])
def test_the_video_options_are_checked_in_one_place(method, temporal, weight, frames, message):
    with pytest.raises(SettingsError, match=message):
        settings_module.check_video_options(Settings(method=method), temporal, weight, frames)
    settings_module.check_video_options(Settings(method=method), temporal, None, None)


def test_frame_iterations_zero_is_refused_by_the_api_as_by_the_cli(tmp_path):
    """The API took 0 as "the default, 10"; the CLI refused it: now both refuse it (issue 21 item 10)."""
    from painterly.video.run import VideoJob, VideoRun

    clip = tmp_path / "in.mp4"
    clip.write_bytes(b"")
    job = VideoJob(clip, (tmp_path / "style.png",), Settings(method="optimise"), output=tmp_path / "out.mp4",
                   frame_iterations=0)
    with pytest.raises(SettingsError, match="frame iterations 0 is out of range"):
        VideoRun(job)


@pytest.mark.parametrize("argv, message", [
    (["--temporal-weight", "nan"], "temporal weight nan must be a finite number"),
    (["--method", "optimise", "--frame-iterations", "0"], "frame iterations 0 is out of range"),
])
def test_the_video_command_refuses_a_temporal_weight_that_is_not_a_number(argv, message, tmp_path, capsys):
    from painterly.cli import main

    clip, style = tmp_path / "in.mp4", tmp_path / "style.png"
    clip.write_bytes(b"")
    style.write_bytes(b"")
    assert main(["video", str(clip), str(style), "-o", str(tmp_path / "out.mp4"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("word, value", [("yes", True), ("off", False), ("1", True), ("FALSE", False)])
def test_text_means_the_same_in_a_manifest_a_web_form_and_on_the_command_line(word, value, tmp_path):
    """Issue 21: text became Settings three ways (the web took true/false only, manifests also yes/no/on/off/1/0)."""
    from painterly.batch import row_settings
    from painterly.cli import parse
    from painterly.web.forms import Limits, parse_settings

    text = {"normalize": word, "style_layers": "block1_conv1, block2_conv1", "style_weight": "2.5", "size": "64"}
    manifest = row_settings()({"preset": None, **text})
    form = parse_settings("default", text, Limits())
    flag = "--normalize-losses" if value else "--no-normalize-losses"
    _, cli, _, _ = parse(["a.jpg", "b.jpg", "-o", "x.png", flag, "--style-layers", "block1_conv1", "block2_conv1",
                          "--style-weight", "2.5", "--size", "64"])
    assert manifest == form == cli
    assert cli.normalize is value and cli.style_layers == ("block1_conv1", "block2_conv1")


def test_text_that_is_no_setting_is_refused_the_same_way_everywhere():
    from painterly.batch import row_settings
    from painterly.web.forms import Limits, parse_settings

    for parse in (row_settings(), lambda values: parse_settings("default", values, Limits())):
        with pytest.raises(SettingsError, match="setting --normalize-losses: 'maybe' is not true or false"):
            parse({"normalize": "maybe"})
        with pytest.raises(SettingsError, match="setting --iterations: invalid int value: 'many'"):
            parse({"iterations": "many"})


def test_large_iterations_take_a_number_or_auto_from_every_front_end():
    from painterly.flags import settings_from_text

    assert Settings().large_iterations == "auto" and Settings().style_loss == "auto"
    assert settings_from_text({"large_iterations": "auto"}).large_iterations == "auto"
    assert settings_from_text({"large_iterations": "7"}).large_iterations == 7
    with pytest.raises(SettingsError, match="^setting --large-iterations: 'many' is not a number of steps or auto$"):
        settings_from_text({"large_iterations": "many"})
    with pytest.raises(SettingsError, match="^large iterations 'many' is not a number of steps: choose one, or auto$"):
        Settings(large_iterations="many")
    with pytest.raises(SettingsError, match="^unknown style loss 'w3': choose auto, gram, sliced, w2$"):
        Settings(style_loss="w3")
