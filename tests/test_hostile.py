"""What a hostile or careless user found (issue 13): nothing they had is lost, no wrong answers."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from painterly import images
from painterly.cli import main
from painterly.errors import OutputError
from painterly.reports import Report

from conftest import decode

RUN = ["--model", "vgg16-hed", "--size", "32", "--iterations", "3", "--quiet"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err


def test_a_report_never_replaces_the_users_own_files(tiny_pair, tmp_path, capsys):
    content, style = tiny_pair
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "content.png").write_bytes(b"my own picture")
    (folder / "metadata.json").write_text("my notes")
    for extra in ([], ["--overwrite"]):
        code, err = run_cli(capsys, content, style, "-o", tmp_path / "o.png", *RUN, "--report", folder, *extra)
        assert code == 2 and "no painterly report wrote" in err and err.count("\n") == 1
    assert (folder / "content.png").read_bytes() == b"my own picture"
    assert (folder / "metadata.json").read_text() == "my notes"
    assert not (tmp_path / "o.png").exists()


def test_a_report_never_replaces_an_input_even_with_overwrite(tiny_pair, tmp_path):
    content, _ = tiny_pair
    folder = content.parent
    (folder / "index.html").write_text("an old report")
    named = folder / "style.png"
    Image.new("RGB", (8, 8), "red").save(named)
    with pytest.raises(OutputError, match="inputs are never overwritten"):
        Report(folder, overwrite=True, inputs=[content, named])
    assert decode(named).shape == (8, 8, 3)


@pytest.mark.parametrize("size", ["16", "20"])
def test_sizes_too_small_for_the_deepest_layer_are_refused_with_the_real_limit(size, tiny_pair, tmp_path, capsys):
    code, err = run_cli(capsys, *tiny_pair, "-o", tmp_path / "o.png", *RUN, "--size", size)
    assert code == 2 and "needs at least 16 px" in err and "learning-rate" not in err
    code, _ = run_cli(capsys, *tiny_pair, "-o", tmp_path / "o.png", *RUN, "--size", "24")
    assert code == 0  # 24×16: each side reaches block5


def test_duplicate_layers_are_refused(tiny_pair, tmp_path, capsys):
    code, err = run_cli(capsys, *tiny_pair, "-o", tmp_path / "o.png", *RUN,
                        "--style-layers", "block1_conv1", "block1_conv1")
    assert code == 2 and "more than once" in err and err.count("\n") == 1


def test_a_run_whose_image_did_not_move_says_so(tiny_pair, tmp_path, capsys):
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, *tiny_pair, "-o", out, *RUN, "--optimizer", "adam", "--learning-rate", "1e30")
    assert code == 2 and "no step lowered the loss" in err and "--learning-rate" in err
    assert out.is_file()  # the starting image is still written, as asked


def test_bad_init_file_is_refused_before_tensorflow(tiny_pair, tmp_path):
    probe = ("import sys; from painterly.cli import main; "
             f"code = main([{str(tiny_pair[0])!r}, {str(tiny_pair[1])!r}, '-o', {str(tmp_path / 'o.png')!r}, "
             f"'--init', {str(tmp_path / 'missing.png')!r}]); "
             "print(code, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "False"], done.stderr


def test_bare_painterly_prints_usage_and_help_lists_subcommands_and_defaults(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: painterly") and "painterly gallery" in err and "painterly serve" in err
    assert "(default: 512)" in err and "(default: lbfgs)" in err


def test_free_space_is_checked_before_the_run(tmp_path):
    images.check_space([(tmp_path, 1024)])
    with pytest.raises(OutputError, match="MB free"):
        images.check_space([(tmp_path, 2**62)])


def test_a_failed_final_write_keeps_the_result_elsewhere(tmp_path, monkeypatch):
    gone = tmp_path / "gone" / "out.png"  # its folder vanished during the run: the write fails
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    written = images.save_or_rescue(gone, np.full((4, 6, 3), 200.0, np.float32))
    assert written != gone and written.parent == tmp_path and "rescued" in written.name
    assert decode(written).shape == (4, 6, 3)


def test_sigterm_saves_the_best_image_and_the_report(tiny_pair, tmp_path):
    content, style = tiny_pair
    out, report = tmp_path / "out.png", tmp_path / "report"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "painterly", content, style, "-o", out, "--model", "vgg16-hed", "--size", "48",
         "--iterations", "100000", "--report", report, "--save-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((report / "iterations").glob("*.png"))) < 3:
        time.sleep(0.2)
    assert len(list((report / "iterations").glob("*.png"))) >= 3, "the run saved no steps in 300 s"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 143, err.decode()
    assert b"Traceback" not in err
    assert decode(out).shape == (32, 48, 3)
    meta = json.loads((report / "metadata.json").read_text())
    assert meta["stopped"] == "terminated" and meta["iterations_run"] >= 2


def test_a_rerun_with_a_mistyped_input_keeps_the_previous_reports_snapshots(tiny_pair, tmp_path, capsys):
    """Issue 21 item 3: --overwrite removed the old report's snapshots before the inputs were checked."""
    content, style = tiny_pair
    report = tmp_path / "report"
    code, err = run_cli(capsys, content, style, "-o", tmp_path / "o.png", *RUN, "--report", report, "--save-every", "1")
    assert code == 0, err
    snapshots = sorted(p.name for p in (report / "iterations").iterdir())
    assert len(snapshots) >= 3
    code, err = run_cli(capsys, tmp_path / "contnet.png", style, "-o", tmp_path / "o.png", *RUN, "--report", report,
                        "--overwrite")
    assert code == 2 and "contnet.png" in err and err.count("\n") == 1
    assert sorted(p.name for p in (report / "iterations").iterdir()) == snapshots
