"""The command line end to end: files written, reports decode, every bad input gets one line and exit 2."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from painterly import __version__
from painterly.cli import main
from painterly.images import demo_pair

from conftest import decode

RUN = ["--model", "vgg16-hed", "--size", "32", "--iterations", "3", "--quiet"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_end_to_end_with_a_report(tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    out, report = tmp_path / "out.png", tmp_path / "report"
    code, _, err = run_cli(capsys, content, style, "-o", out, *RUN, "--report", report, "--save-every", "1")
    assert code == 0, err
    assert decode(out).shape == (21, 32, 3)
    assert not np.array_equal(decode(out), np.asarray(Image.open(content).convert("RGB").resize((32, 21))))
    for name in ("index.html", "table.csv", "table.json", "loss.png", "improvement.png", "contact_sheet.png",
                 "metadata.json", "result.png", "content.png", "style.png"):
        assert (report / name).is_file(), name
    for png in report.glob("*.png"):
        Image.open(png).load()
    rows = json.loads((report / "table.json").read_text())["rows"]
    assert [r["iteration"] for r in rows] == [0, 1, 2, 3]
    meta = json.loads((report / "metadata.json").read_text())
    assert meta["backbone"]["name"] == "vgg16-hed" and meta["settings"]["iterations"] == 3
    assert len(list((report / "iterations").glob("*.png"))) == 4


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--model", "--weights", "--size", "--iterations", "--optimizer", "--content-weight",
                 "--style-weight", "--tv-weight", "--content-layers", "--style-layers", "--init", "--seed",
                 "--preset", "--save-every", "--report", "--overwrite", "--quiet"):
        assert flag in text, flag


def test_demo_pair_is_shipped():
    for path in demo_pair():
        assert path.is_file() and Image.open(path).size[0] == 512


def test_paper_preset_applies_its_settings_and_flags_override_it():
    from painterly.cli import parse

    _, settings, _, _ = parse(["a.jpg", "b.jpg", "-o", "x.png", "--preset", "paper", "--iterations", "10"])
    assert settings.optimizer == "sgd" and settings.rate == 100.0 and settings.content_weight == 2.5e-8
    assert settings.size == 400 and settings.size_edge == "height" and not settings.normalize
    assert settings.iterations == 10


# ---- bad input: one line on stderr, exit code 2, no traceback ------------------------------------


def expect_error(capsys, argv, *needles):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("painterly: error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def make_bad_file(tmp_path, kind: str) -> Path:
    path = tmp_path / f"bad_{kind}.png"
    if kind == "zero":
        path.write_bytes(b"")
    elif kind == "text":
        path = tmp_path / "notes.jpg"
        path.write_text("this is not a picture\n")
    elif kind == "truncated":
        good = tmp_path / "good.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(good)
        path.write_bytes(good.read_bytes()[:600])
    elif kind == "bomb":
        Image.new("1", (12000, 9000)).save(path)  # 108 megapixels in a few kilobytes
    return path


@pytest.mark.parametrize("kind,needle", [("zero", "empty"), ("text", "not an image"),
                                         ("truncated", "truncated or corrupt"), ("bomb", "too large")])
def test_bad_content_and_style_files(kind, needle, tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    bad = make_bad_file(tmp_path, kind)
    expect_error(capsys, [bad, style, "-o", tmp_path / "o.png", *RUN], bad.name, needle)
    expect_error(capsys, [content, bad, "-o", tmp_path / "o.png", *RUN], bad.name, "style")


def test_missing_and_unreadable_inputs(tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    expect_error(capsys, [tmp_path / "nope.jpg", style, "-o", tmp_path / "o.png", *RUN], "nope.jpg", "does not exist")
    expect_error(capsys, [tmp_path, style, "-o", tmp_path / "o.png", *RUN], "folder")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.png"
        locked.write_bytes(content.read_bytes())
        locked.chmod(0)
        expect_error(capsys, [locked, style, "-o", tmp_path / "o.png", *RUN], "locked.png")


@pytest.mark.parametrize("flags,needle", [
    (["--style-layers", "block1_conv1", "block9_conv1"], "block9_conv1"),
    (["--content-layers", "block5_conv5"], "valid layers are"),
    (["--style-weight", "-1"], "≥ 0"),
    (["--content-weight", "nan"], "≥ 0"),
    (["--iterations", "0"], "iterations 0"),
    (["--size", "5"], "size 5"),
    (["--size", "100000"], "size 100000"),
    (["--size", "big"], "not a number of pixels"),
    (["--optimizer", "lbgfs"], "invalid choice"),
    (["--preset", "papr"], "did you mean paper"),
    (["--learning-rate", "0"], "learning rate"),
])
def test_bad_settings(flags, needle, tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    expect_error(capsys, [content, style, "-o", tmp_path / "o.png", *RUN, *flags], needle)
    assert not (tmp_path / "o.png").exists()


def test_bad_outputs_and_nothing_is_overwritten(tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    expect_error(capsys, [content, style, "-o", tmp_path / "missing" / "o.png", *RUN], "missing")
    expect_error(capsys, [content, style, "-o", tmp_path / "o.unknownext", *RUN], "o.unknownext")
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"precious")
    expect_error(capsys, [content, style, "-o", existing, *RUN], "--overwrite")
    assert existing.read_bytes() == b"precious"
    before = content.read_bytes()
    expect_error(capsys, [content, style, "-o", content, *RUN, "--overwrite"], "content.png")
    assert content.read_bytes() == before
    report = tmp_path / "report"
    assert run_cli(capsys, content, style, "-o", tmp_path / "a.png", *RUN, "--report", report)[0] == 0
    expect_error(capsys, [content, style, "-o", tmp_path / "b.png", *RUN, "--report", report], "--overwrite")
    assert not (tmp_path / "b.png").exists()
    assert run_cli(capsys, content, style, "-o", existing, *RUN, "--overwrite")[0] == 0
    assert decode(existing).shape == (21, 32, 3)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_output_folder(tiny_pair, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    expect_error(capsys, [*tiny_pair, "-o", locked / "o.png", *RUN], "locked")


def test_unwritable_output_folder_as_root(tiny_pair, tmp_path, capsys, monkeypatch):
    # root ignores permissions, so make the folder check fail the way a read-only folder does
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)
    expect_error(capsys, [*tiny_pair, "-o", tmp_path / "o.png", *RUN], "not writable", tmp_path.name)


def test_a_nan_loss_keeps_the_best_image_and_exits_2(tiny_pair, tmp_path, capsys):
    out = tmp_path / "o.png"
    code, _, err = run_cli(capsys, *tiny_pair, "-o", out, *RUN, "--no-normalize-losses", "--content-weight", "1e300")
    assert code == 2 and "loss became" in err and "Traceback" not in err


def test_ctrl_c_saves_the_best_image_and_the_report(tiny_pair, tmp_path):
    content, style = tiny_pair
    out, report = tmp_path / "out.png", tmp_path / "report"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "painterly", content, style, "-o", out, "--model", "vgg16-hed", "--size", "48",
         "--iterations", "100000", "--report", report, "--save-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 300  # generous: CI machines can be busy
        while time.monotonic() < deadline and len(list((report / "iterations").glob("*.png"))) < 3:
            time.sleep(0.2)
        assert len(list((report / "iterations").glob("*.png"))) >= 3, "the run saved no steps in 300 s"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=300)
    finally:  # a run that failed the test is not left painting its 100000 steps
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted" in err
    assert decode(out).shape == (32, 48, 3)
    assert (report / "index.html").is_file()
    meta = json.loads((report / "metadata.json").read_text())
    assert meta["stopped"] == "interrupted" and meta["iterations_run"] >= 2


# ---- a newcomer's frictions (issue 24) -----------------------------------------------------------


def test_without_o_the_output_is_named_after_the_inputs_and_never_replaces_a_file(tiny_pair, tmp_path, capsys,
                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    precious = tmp_path / "content_great_wave.png"
    precious.write_bytes(b"precious")
    for expected in ("content_great_wave_2.png", "content_great_wave_3.png"):
        code, _, err = run_cli(capsys, tiny_pair[0], "great_wave", "--method", "fast", "--size", "32")
        assert code == 0, err
        assert expected in err and decode(tmp_path / expected).shape == (21, 32, 3)
    assert precious.read_bytes() == b"precious"


@pytest.mark.parametrize("argv,needle", [
    (["--sise", "64"], "did you mean --size?"),
    (["--style-strenght", "0.5"], "did you mean --style-strength?"),
])
def test_a_mistyped_flag_gets_the_closest_flag(argv, needle, tiny_pair, tmp_path, capsys):
    expect_error(capsys, [*tiny_pair, "-o", tmp_path / "o.png", *argv], needle)


def test_a_mistyped_command_gets_the_closest_command(tmp_path, capsys):
    expect_error(capsys, ["vidoe", tmp_path / "clip.mp4", "great_wave"], "unknown command 'vidoe'",
                 "did you mean painterly video?")
    expect_error(capsys, ["styels"], "did you mean painterly styles?")


def test_style_strength_with_init_content_is_said_to_be_ignored(tiny_pair, tmp_path, capsys):
    code, _, err = run_cli(capsys, *tiny_pair, "-o", tmp_path / "o.png", "--model", "vgg16-hed", "--size", "32",
                           "--iterations", "1", "--init", "content", "--style-strength", "0.5")
    assert code == 0, err
    assert "--style-strength applies to --method fast and --init fast only: ignored with --init content" in err
    code, _, err = run_cli(capsys, *tiny_pair, "-o", tmp_path / "p.png", "--method", "fast", "--size", "32",
                           "--style-strength", "0.5")
    assert code == 0 and "ignored" not in err


def test_video_of_a_photo_says_it_is_a_photo(tiny_pair, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    expect_error(capsys, ["video", *tiny_pair, "-o", out], "is a photo, not a video", "painterly")
    assert not out.exists()


def test_vgg19_offline_is_refused_at_once_in_one_line(tiny_pair, tmp_path, capsys, monkeypatch):
    from painterly import backbones

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # nothing cached
    monkeypatch.setattr(backbones, "_can_download", lambda timeout=3.0: False)  # as offline
    line = expect_error(capsys, [*tiny_pair, "-o", tmp_path / "o.png", "--model", "vgg19", "--size", "32"],
                        "vgg19 ImageNet weights", "--model vgg16-hed")
    assert "Exception" not in line and "Downloading" not in line
    assert not (tmp_path / "o.png").exists()


def test_the_library_prints_no_tensorflow_start_up_lines(tiny_pair):
    probe = ("import painterly, sys; r = painterly.stylize(sys.argv[1], sys.argv[2], size=32, iterations=1, "
             "model='vgg16-hed'); print(r.image.shape)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", probe, *map(str, tiny_pair)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0 and "(21, 32, 3)" in done.stdout, done.stderr
    for chatter in ("absl", "oneDNN", "cuInit", "cuda", "I0000", "E0000"):
        assert chatter not in done.stderr, done.stderr


def test_the_time_is_estimated_before_the_first_step_and_measured_at_the_second(tiny_pair, tmp_path, capsys):
    code, _, err = run_cli(capsys, *tiny_pair, "-o", tmp_path / "o.png", "--model", "vgg16-hed", "--size", "32",
                           "--iterations", "3")
    assert code == 0, err
    lines = err.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("painterly: at most "))
    assert "for 3 steps (from the first evaluation" in lines[first]
    assert any(line.startswith("painterly: about ") and "in all" in line for line in lines[first + 1:])


def test_batch_runs_here_unless_ray_is_asked_for():
    from painterly.batch import build_parser

    assert build_parser().parse_args(["a.jpg", "--styles", "b.jpg", "-o", "out"]).ray == "off"


def test_an_interrupted_gallery_writes_a_sheet_that_says_so(tiny_pair, tmp_path):
    contents, styles = tmp_path / "c", tmp_path / "s"
    contents.mkdir(), styles.mkdir()
    for k in range(3):
        Image.open(tiny_pair[0]).rotate(90 * k).save(contents / f"c{k}.png")
        Image.open(tiny_pair[1]).rotate(90 * k).save(styles / f"s{k}.png")
    sheet = tmp_path / "sheet.png"
    process = subprocess.Popen(
        [sys.executable, "-m", "painterly", "gallery", contents, styles, "-o", sheet, "--model", "vgg16-hed",
         "--size", "32", "--iterations", "30", "--cell", "48"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    first = process.stderr.readline()  # the first pair is done: the second is being painted
    assert first.startswith("painterly: 1/9"), first + process.stderr.read()
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=300)
    assert process.returncode == 130, rest
    last = rest.strip().splitlines()[-1]
    assert "(interrupted)" in last and "of 9 pairs" in last, rest
    grid = decode(sheet)
    assert (np.abs(grid[:20].astype(int) - [176, 0, 32]).sum(axis=2) < 60).any()  # the red title line
