"""painterly batch without Ray (--ray off): items, names, manifests, the record, reruns, bad items, Ctrl-C."""

import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import decode, shared_image
from painterly import batch
from painterly.batch import Item, pairs, read_manifest, run_batch
from painterly.cli import main
from painterly.errors import PainterlyError, SettingsError
from painterly.settings import Settings

FAST = Settings(method="fast", size=32)


@pytest.fixture
def pictures(tmp_path):
    """Three 48×32 content photos and two 40×40 style images cut from the shared test images."""
    folder = tmp_path / "in"
    (folder / "photos").mkdir(parents=True)
    (folder / "styles").mkdir()
    contents = []
    for name in ("tubingen", "chicago", "sailboat"):
        path = folder / "photos" / f"{name}.png"
        Image.open(shared_image("content", f"{name}.jpg")).convert("RGB").resize((48, 32)).save(path)
        contents.append(path)
    styles = []
    for name in ("starry_night", "candy"):
        path = folder / "styles" / f"{name}.png"
        Image.open(shared_image("style", f"{name}.jpg")).convert("RGB").resize((40, 40)).save(path)
        styles.append(path)
    return contents, styles


def test_pairs_names_every_content_with_every_style(pictures):
    contents, styles = pictures
    items = pairs([contents[0].parent], [str(styles[0].parent / "*.png")], FAST)
    assert [i.name for i in items] == ["chicago__candy.png", "chicago__starry_night.png", "sailboat__candy.png",
                                       "sailboat__starry_night.png", "tubingen__candy.png",
                                       "tubingen__starry_night.png"]
    assert all(i.settings == FAST for i in items)
    assert pairs([contents[0]], [styles[0]], FAST, format="jpg")[0].name == "tubingen__starry_night.jpg"


def test_names_that_would_collide_get_a_stable_suffix(pictures, tmp_path):
    contents, styles = pictures
    other = tmp_path / "other"
    other.mkdir()
    twin = other / "tubingen.png"
    twin.write_bytes(contents[0].read_bytes())
    names = [i.name for i in pairs([contents[0], twin, contents[1]], [styles[0]], FAST)]
    assert names[2] == "chicago__starry_night.png"  # no collision: the plain name
    assert names[0] != names[1] and all(n.startswith("tubingen__starry_night-") for n in names[:2])
    assert names == [i.name for i in pairs([contents[0], twin, contents[1]], [styles[0]], FAST)]  # predictable


def test_missing_folders_and_patterns_are_refused_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PainterlyError, match="has no images"):
        pairs([tmp_path / "empty"], [tmp_path / "x.png"])
    with pytest.raises(PainterlyError, match="matches no image"):
        pairs([str(tmp_path / "*.jpg")], [tmp_path / "x.png"])


def test_a_csv_manifest_gives_each_row_its_settings_styles_and_name(pictures, tmp_path):
    contents, styles = pictures
    manifest = tmp_path / "in" / "jobs.csv"
    manifest.write_text("content,style,output,size,style-strength,preserve_color\n"
                        f"photos/{contents[0].name},styles/{styles[0].name},,40,0.5,\n"
                        f"photos/{contents[1].name},styles/{styles[0].name};styles/{styles[1].name},mine.jpg,,,histogram\n"
                        f"photos/{contents[2].name},styles/{styles[1].name},,twelve,,\n")
    items = read_manifest(manifest, FAST)
    assert [i.name for i in items] == ["tubingen__starry_night.png", "mine.jpg", "sailboat__candy.png"]
    first, second, third = items
    assert first.settings.size == 40 and first.settings.style_strength == 0.5 and first.settings.method == "fast"
    assert second.styles == (styles[0], styles[1]) and second.settings.preserve_color == "histogram"
    assert second.settings.size == 32 and first.content == contents[0]  # paths relative to the manifest
    assert third.problem is not None and "line 4" in third.problem and "twelve" in third.problem


def test_a_jsonl_manifest_and_a_bad_column(pictures, tmp_path):
    contents, styles = pictures
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(json.dumps({"content": str(contents[0]), "styles": [str(s) for s in styles],
                                    "style_blend": [0.7, 0.3], "normalize": "false"}) + "\n")
    (item,) = read_manifest(manifest, FAST)
    assert item.settings.style_blend == (0.7, 0.3) and item.settings.normalize is False
    manifest.write_text(json.dumps({"content": str(contents[0]), "style": str(styles[0]), "sise": 64}) + "\n")
    with pytest.raises(SettingsError, match="unknown column 'sise': did you mean 'size'"):
        read_manifest(manifest, FAST)


def test_a_batch_paints_records_and_a_rerun_skips(pictures, tmp_path):
    contents, styles = pictures
    out = tmp_path / "out"
    items = pairs(contents[:2], styles, FAST)
    summary = run_batch(items, out, ray="off")
    assert sorted(summary.done) == sorted(i.name for i in items) and not summary.failed and summary.code == 0
    for item in items:
        assert decode(out / item.name).shape == (21, 32, 3)
    record = batch.read_record(out)
    assert {r["state"] for r in record.values()} == {"done"} and all(len(r["key"]) == 64 for r in record.values())
    stamps = {i.name: os.stat(out / i.name).st_mtime_ns for i in items}
    again = run_batch(items, out, ray="off")
    assert sorted(again.skipped) == sorted(stamps) and not again.done and not again.failed
    assert stamps == {i.name: os.stat(out / i.name).st_mtime_ns for i in items}
    # new settings: the old pictures are not replaced without --overwrite
    bigger = pairs(contents[:1], styles[:1], FAST.replace(size=40))
    refused = run_batch(bigger, out, ray="off")
    assert "painted from other inputs or settings" in refused.failed[bigger[0].name]
    replaced = run_batch(bigger, out, ray="off", overwrite=True)
    assert replaced.done == [bigger[0].name] and decode(out / bigger[0].name).shape == (27, 40, 3)


def test_a_bad_input_fails_its_own_item_and_is_retried(pictures, tmp_path):
    contents, styles = pictures
    broken = tmp_path / "in" / "photos" / "broken.png"
    broken.write_bytes(b"this is not a picture")
    missing = tmp_path / "in" / "photos" / "gone.png"
    out = tmp_path / "out"
    items = pairs([contents[0], broken, missing], styles[:1], FAST)
    summary = run_batch(items, out, ray="off")
    assert summary.done == ["tubingen__starry_night.png"]
    assert "broken.png" in summary.failed["broken__starry_night.png"]
    assert "does not exist" in summary.failed["gone__starry_night.png"]
    assert batch.read_record(out)["broken__starry_night.png"]["state"] == "failed"
    Image.open(contents[1]).save(broken)  # fixed: the rerun paints it and skips the one done
    again = run_batch(items, out, ray="off")
    assert again.done == ["broken__starry_night.png"] and again.skipped == ["tubingen__starry_night.png"]


def test_a_users_file_is_never_replaced(pictures, tmp_path):
    contents, styles = pictures
    out = tmp_path / "out"
    out.mkdir()
    (out / "tubingen__starry_night.png").write_bytes(b"mine")
    summary = run_batch(pairs(contents[:1], styles[:1], FAST), out, ray="off")
    assert "not written by this batch" in summary.failed["tubingen__starry_night.png"]
    assert (out / "tubingen__starry_night.png").read_bytes() == b"mine"


def test_ctrl_c_keeps_what_is_done_and_the_rerun_finishes(pictures, tmp_path):
    contents, styles = pictures
    out = tmp_path / "out"
    items = pairs(contents, styles[:1], FAST)

    def stop_after_first(entry):
        if entry["state"] == "done":
            raise KeyboardInterrupt()

    summary = run_batch(items, out, ray="off", listen=stop_after_first)
    assert summary.code == 130 and len(summary.done) == 1
    assert sorted(p.name for p in out.glob("*.png")) == summary.done
    assert list(batch.read_record(out)) == summary.done
    rest = run_batch(items, out, ray="off")
    assert rest.skipped == summary.done and len(rest.done) == 2


def test_the_optimisation_runs_in_a_batch_on_one_network_and_one_set_of_style_targets(pictures, tmp_path):
    from painterly import losses

    contents, styles = pictures
    settings = Settings(model="vgg16-hed", size=32, iterations=2)
    before = set(losses._STYLE_CACHE)
    items = pairs(contents[:2], styles[:1], settings)
    summary = run_batch(items, tmp_path / "out", ray="off")
    assert sorted(summary.done) == sorted(i.name for i in items), summary.failed
    assert len(set(losses._STYLE_CACHE) - before) == 1  # the second photo reused the first's style targets
    entry = batch.read_record(tmp_path / "out")[items[0].name]
    assert entry["settings"]["iterations"] == 2 and entry["seconds"] > 0
    assert np.ptp(decode(tmp_path / "out" / items[0].name)) > 0


def test_the_estimate_is_the_runs_own(pictures):
    """What a worker asks Ray for is the memory estimate the run itself makes (whole image, no tiles)."""
    from painterly.methods import prepare

    contents, styles = pictures
    settings = Settings(model="vgg16-hed", size=48, tile=None)
    item = Item("x.png", contents[0], (styles[0],), settings)
    assert batch.estimate_bytes(item) == prepare(contents[0], [styles[0]], settings).memory["estimated_peak_bytes"]


def test_cli_paints_and_says_so(pictures, tmp_path, capsys):
    contents, styles = pictures
    out = tmp_path / "out"
    code = main(["batch", str(contents[0].parent), "--styles", str(styles[0]), "-o", str(out), "--ray", "off",
                 "--method", "fast", "--size", "32"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "3 painted, 0 skipped" in err and "pictures an hour" in err
    assert len(list(out.glob("*.png"))) == 3
    assert main(["batch", str(contents[0].parent), "--styles", str(styles[0]), "-o", str(out), "--ray", "off",
                 "--method", "fast", "--size", "32", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, message", [
    (["photo.jpg", "-o", "out"], "give CONTENT photos and --styles"),
    (["--manifest", "nope.csv", "-o", "out"], "manifest 'nope.csv' does not exist"),
    (["photo.jpg", "--styles", "s.jpg", "-o", "no/such/folder/out"], "does not exist: create it first"),
    (["photo.jpg", "--styles", "s.jpg", "-o", "out", "--workers", "0"], "--workers 0 must be at least 1"),
    (["photo.jpg", "--styles", "s.jpg", "-o", "out", "--size", "huge"], "--size"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["batch", *argv, "--ray", "off"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_without_ray_the_message_says_what_to_install(monkeypatch):
    from painterly import cluster

    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    with pytest.raises(PainterlyError, match=r"pip install 'painterly\[cluster\]'"):
        cluster.require_ray()


def test_a_batch_report_never_replaces_a_report_or_the_users_files_without_overwrite(pictures, tmp_path):
    """Issue 23 item 2: --report wrote into REPORT/<picture>/ without a check; now as the still command."""
    contents, styles = pictures
    items = pairs(contents[:2], styles[:1], FAST)
    report = tmp_path / "report"
    mine = report / items[0].name.removesuffix(".png")
    mine.mkdir(parents=True)
    (mine / "content.png").write_bytes(b"my own picture")
    (mine / "metadata.json").write_text("my notes")
    first = run_batch(items, tmp_path / "out", ray="off", report=report)
    assert first.done == [items[1].name] and "no painterly report wrote" in first.failed[items[0].name]
    assert (mine / "content.png").read_bytes() == b"my own picture"
    assert (mine / "metadata.json").read_text() == "my notes"
    assert not (tmp_path / "out" / items[0].name).exists()
    # a report of an earlier run is replaced with --overwrite only (the picture was painted elsewhere)
    theirs = report / items[1].name.removesuffix(".png")
    page = (theirs / "index.html").read_bytes()
    again = run_batch(items[1:], tmp_path / "elsewhere", ray="off", report=report)
    assert "already holds a report" in again.failed[items[1].name] and (theirs / "index.html").read_bytes() == page
    replaced = run_batch(items[1:], tmp_path / "elsewhere", ray="off", report=report, overwrite=True)
    assert replaced.done == [items[1].name]
    # a rerun of the same batch that repaints an item whose picture was removed may replace its own report
    (tmp_path / "out" / items[1].name).unlink()
    rerun = run_batch(items[1:], tmp_path / "out", ray="off", report=report)
    assert rerun.done == [items[1].name], rerun.failed


def test_a_batch_into_its_own_input_folder_does_not_repaint_its_outputs(pictures, tmp_path, capsys):
    """Issue 23 item 18: with OUT_DIR the input folder, each rerun painted the previous outputs as new inputs."""
    contents, styles = pictures
    photos = contents[0].parent
    argv = ["batch", str(photos), "--styles", str(styles[0]), "-o", str(photos), "--ray", "off", "--method", "fast",
            "--size", "32"]
    assert main(argv) == 0
    painted = sorted(p.name for p in photos.glob("*__*.png"))
    assert len(painted) == 3
    assert main(argv) == 0
    assert "0 painted, 3 skipped" in capsys.readouterr().err
    assert sorted(p.name for p in photos.glob("*__*.png")) == painted
    assert [i.name for i in pairs([photos / "*.png"], styles[:1], FAST)] == painted  # a glob leaves them out too
    named = pairs([photos / painted[0]], styles[:1], FAST)  # named on its own, a painted picture is a content
    assert [i.content.name for i in named] == [painted[0]]


def test_a_full_disk_fails_each_picture_alone_then_stops_the_batch_in_one_line(tmp_path):
    """Issue 23 item 9: a write that fails (here for real: the process may write no file over 3000 bytes, as on
    a full disk) failed with a traceback in the record's append and left the rest unpainted."""
    import resource
    import signal
    import subprocess

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("chicago", "sailboat", "tubingen", "golden_gate"):
        picture = Image.open(shared_image("content", f"{name}.jpg")).convert("RGB").resize((192, 128))
        picture.save(photos / f"{name}.png")
    style = tmp_path / "candy.png"
    Image.open(shared_image("style", "candy.jpg")).convert("RGB").resize((40, 40)).save(style)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "painterly", "batch", str(photos), "--styles", str(style), "-o", str(out),
            "--ray", "off", "--method", "fast", "--size", "128", "--quiet"]

    def full_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TF_CPP_MIN_LOG_LEVEL": "2"}
    full = subprocess.run(argv, capture_output=True, text=True, env=env, preexec_fn=full_disk, timeout=300)
    lines = full.stderr.strip().splitlines()
    assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr
    assert lines[-1].startswith("painterly: error: the batch's record") and "batch.jsonl" in lines[-1], lines
    assert "run the same command again" in lines[-1]
    failed = [line for line in lines if line.startswith("painterly: failed: ")]
    assert failed and all("could not be written" in line or "Cannot write" in line for line in failed), lines
    record = (out / "batch.jsonl").read_text()
    assert record.endswith("\n") and all(json.loads(line)["state"] == "failed" for line in record.splitlines())
    assert not list(out.glob("*.png"))
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)  # space again
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{p.stem}__candy.png" for p in photos.iterdir())
    assert {entry["state"] for entry in batch.read_record(out).values()} == {"done"}


def test_a_batch_draws_a_random_networks_weights_from_each_items_seed(pictures, tmp_path):
    """Issue 21 item 9: the batch built (and cached) random-weight networks without the seed."""
    from painterly.engine import stylize
    from painterly.images import to_uint8

    contents, styles = pictures
    settings = [Settings(model="vgg19-random", seed=seed, size=32, iterations=2, init="content") for seed in (1, 2)]
    items = batch.named([(contents[0], (styles[0],), s, f"seed{s.seed}.png", None) for s in settings])
    summary = run_batch(items, tmp_path / "out", ray="off")
    assert sorted(summary.done) == ["seed1.png", "seed2.png"], summary.failed
    for s in settings:
        alone = to_uint8(stylize(contents[0], styles[0], s).image)
        painted = decode(tmp_path / "out" / f"seed{s.seed}.png")
        assert np.abs(painted.astype(int) - alone).max() <= 1
    assert np.abs(decode(tmp_path / "out" / "seed1.png").astype(int) - decode(tmp_path / "out" / "seed2.png")).max() > 8


def test_a_corrupt_picture_fails_alone_in_a_gallery_and_the_sheet_is_written(pictures, tmp_path, capsys):
    """Issue 21 item 8: one corrupt picture stopped the gallery half way, with no sheet."""
    contents, styles = pictures
    (contents[0].parent / "broken.png").write_bytes(b"not a picture at all")  # sorted between chicago and sailboat
    sheet = tmp_path / "sheet.png"
    code = main(["gallery", str(contents[0].parent), str(styles[0].parent), "-o", str(sheet), "--method", "fast",
                 "--size", "32", "--cell", "32"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    failed = [line for line in err.splitlines() if line.startswith("painterly: failed: ")]
    assert len(failed) == 2 and all("broken.png" in line for line in failed), err  # one per style
    assert "6 of 8 pairs" in err and "2 failed" in err
    picture = decode(sheet)
    assert picture.shape[1] >= 3 * 32  # the two styles and the row labels
    assert (picture == 128).all(axis=2).sum() >= 32 * 32  # the unreadable photo's grey place in its row


def test_a_painter_builds_each_network_once_for_the_settings_that_make_it():
    """A batch Painter's networks (`networks.Networks`): one feature network per `backbone_key`, one held at a
    time, and random weights drawn from the seed."""
    from painterly.backbones import backbone_key

    painter = batch.Painter(threads=1)
    first = Settings(model="vgg19-random", seed=1, size=32, iterations=2)
    network = painter.networks.get(first)
    assert painter.networks.get(first.replace(size=64, iterations=5, style_weight=3.0)) is network
    assert backbone_key(Settings(seed=1)) == backbone_key(Settings(seed=2))  # real weights: the seed changes nothing
    assert backbone_key(first) != backbone_key(first.replace(seed=2))
    assert painter.networks.get(first.replace(seed=2)) is not network
    assert len(painter.networks) == 1 and painter.networks.get(first, build=False) is None  # one network held at a time
    assert painter.networks.get(first.replace(seed=None)) is None  # unseeded random weights: the run draws its own
    fast = Settings(method="fast")
    assert painter.networks.get(fast) is painter.networks.get(fast)
