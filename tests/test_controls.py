"""Quality controls: original colours, style scale, multi-scale, preview, gallery, memory checks."""

import numpy as np
import pytest
from PIL import Image

import painterly
from painterly import Settings, colors, images, memory
from painterly.cli import main
from painterly.engine import Transfer
from painterly.errors import PainterlyError

from conftest import decode

FAST = dict(size=48, iterations=6, model="vgg19")


def test_luminance_mode_keeps_the_contents_chroma(tiny_pair, random_vgg19):
    content, style = tiny_pair
    result = painterly.stylize(content, style, backbone=random_vgg19, preserve_color="luminance",
                               **{**FAST, "iterations": 10})
    reference = painterly.images.resize(painterly.images.load_image(content).rgb, result.image.shape[1::-1])
    out, ref = colors.rgb_to_yiq(result.image), colors.rgb_to_yiq(reference)
    unclipped = (result.image > 1).all(axis=-1) & (result.image < 254).all(axis=-1)
    assert unclipped.mean() > 0.5
    np.testing.assert_allclose(out[unclipped][:, 1:], ref[unclipped][:, 1:], atol=1.0)
    assert np.abs(out[..., 0] - ref[..., 0]).mean() > 1.0  # while the luminance was repainted


def test_histogram_mode_gives_the_style_the_contents_colours(tiny_pair, random_vgg19):
    content, style = tiny_pair
    plain = Transfer(content, style, Settings(**FAST), backbone=random_vgg19)
    matched = Transfer(content, style, Settings(**FAST, preserve_color="histogram"), backbone=random_vgg19)
    c, [s_plain] = plain._inputs((48, 32))
    _, [s_matched] = matched._inputs((48, 32))
    assert np.abs(s_matched.reshape(-1, 3).mean(0) - c.reshape(-1, 3).mean(0)).max() < 3.0
    assert np.abs(s_plain.reshape(-1, 3).mean(0) - c.reshape(-1, 3).mean(0)).max() > 10.0


def test_style_scale_changes_the_style_targets(tiny_pair, random_vgg19):
    content, style = tiny_pair
    targets = []
    for scale in (1.0, 0.5):
        run = Transfer(content, style, Settings(**FAST, style_scale=scale), backbone=random_vgg19)
        targets.append(run.objective(run.size).style_targets["block1_conv1"].numpy())
    assert np.abs(targets[0] - targets[1]).mean() > 1e-3 * np.abs(targets[0]).mean()


def test_a_style_image_is_not_enlarged_unless_asked(tiny_pair, random_vgg19):
    content, style = tiny_pair  # the style painting is 40×40
    capped = Transfer(content, style, Settings(**{**FAST, "size": 96}), backbone=random_vgg19)
    enlarged = Transfer(content, style, Settings(**{**FAST, "size": 96}, style_upscale=True), backbone=random_vgg19)
    assert [s.shape[:2] for s in capped._inputs((96, 64))[1]] == [(40, 40)]
    assert [s.shape[:2] for s in enlarged._inputs((96, 64))[1]] == [(96, 96)]
    assert [s.shape[:2] for s in capped._inputs((24, 16))[1]] == [(24, 24)]  # shrinking is unchanged
    halved = Transfer(content, style, Settings(**{**FAST, "size": 96}, style_scale=0.25), backbone=random_vgg19)
    assert [s.shape[:2] for s in halved._inputs((96, 64))[1]] == [(24, 24)]
    assert painterly.preset("paper").style_upscale  # keras.io resizes the style to the content's size


def test_multiscale_runs_every_scale_coarse_to_fine_and_returns_the_requested_size(tiny_pair, random_vgg19):
    content, style = tiny_pair
    seen = []
    result = painterly.stylize(content, style, backbone=random_vgg19, callback=seen.append, size=96, min_size=24,
                               multiscale="on", iterations=4, fine_iterations=2, model="vgg19")
    assert result.image.shape == (64, 96, 3)
    sizes = [r.size for r in seen]
    assert list(dict.fromkeys(sizes)) == [(24, 16), (48, 32), (96, 64)]
    assert [sum(1 for r in seen if r.scale == k) for k in range(3)] == [5, 3, 3]  # start + iterations
    assert all(r.scales == 3 for r in seen) and result.metadata["scales"] == [[24, 16], [48, 32], [96, 64]]


def test_multiscale_auto_is_on_above_512_only_and_the_default_is_on():
    assert Settings(multiscale="auto").scale_sizes(512) == [512]
    assert Settings(multiscale="auto").scale_sizes(1024) == [256, 512, 1024]
    assert Settings().scale_sizes(512) == [256, 512] and Settings().scale_sizes(1024) == [256, 512, 1024]
    assert Settings(multiscale="off").scale_sizes(2048) == [2048]
    assert Settings(min_size=128, multiscale="on").scale_sizes(512) == [128, 256, 512]
    assert Settings(iterations=100, fine_iterations=None).scale_iterations(1, 512) == 50
    assert Settings().scale_iterations(0, 256) == 40 and Settings().scale_iterations(1, 512) == 10
    assert painterly.preset("paper").scale_sizes(533) == [533]  # the paper's 4:3 output at height 400: one scale


def test_a_run_that_cannot_fit_stops_at_once_naming_a_size_that_fits(tiny_pair, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 0)
    monkeypatch.setattr(memory, "current_rss_bytes", lambda: 2 * 2**30)
    with pytest.raises(PainterlyError, match=r"needs about .* but .* is available: use --size \d+ or less"):
        Transfer(*tiny_pair, Settings(size=4096, model="vgg16-hed"))


def test_size_auto_picks_what_fits_and_never_upscales(tiny_pair, random_vgg19, monkeypatch):
    run = Transfer(*tiny_pair, Settings(size="auto", model="vgg19"), backbone=random_vgg19)
    assert run.size == (48, 32)  # the content's own size: it fits easily
    big = np.zeros((2000, 6000, 3), np.uint8)
    whole = dict(model="vgg19", tile=None)  # the whole image at once (--tile auto would tile instead)
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 50)  # not what this machine has free now
    fixed = Transfer(big, tiny_pair[1], Settings(size=3000, **whole), backbone=random_vgg19)
    budget = fixed.memory["estimated_peak_bytes"]  # exactly what a 3000 px run of this pair needs
    monkeypatch.setattr(memory, "available_bytes", lambda: budget)
    monkeypatch.setattr(memory, "current_rss_bytes", lambda: 0)
    run = Transfer(big, tiny_pair[1], Settings(size="auto", **whole), backbone=random_vgg19)
    # the largest --size (a multiple of 16) that fits; a 3:1 image gets the pixels of a 2:1 one
    assert run.size == images.output_size((6000, 2000), 2992) == (3664, 1221)
    with pytest.raises(PainterlyError, match=r"use --size 2992 or less"):
        Transfer(big, tiny_pair[1], Settings(size=3200, **whole), backbone=random_vgg19)


@pytest.mark.parametrize("shape", [(24, 96), (40, 40)], ids=["panorama-4to1", "grayscale"])
def test_panorama_and_grayscale_content_end_to_end(shape, tiny_pair, tmp_path, capsys):
    content = tmp_path / "content.png"
    rng = np.random.default_rng(0)
    if shape == (24, 96):
        Image.fromarray(rng.integers(0, 255, (*shape, 3), np.uint8)).save(content)
    else:
        Image.fromarray(rng.integers(0, 255, shape, np.uint8), mode="L").save(content)
    out = tmp_path / "out.png"
    code = main([str(content), str(tiny_pair[1]), "-o", str(out), "--model", "vgg16-hed", "--size", "64",
                 "--iterations", "2", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert decode(out).shape == ((23, 91, 3) if shape == (24, 96) else (64, 64, 3))  # 4:1: the pixels of 64×32


def test_preview_is_rewritten_during_the_run(tiny_pair, tmp_path, capsys):
    out, preview = tmp_path / "out.png", tmp_path / "preview.png"
    code = main([*map(str, tiny_pair), "-o", str(out), "--model", "vgg16-hed", "--size", "32", "--iterations",
                 "4", "--preview", str(preview), "--preview-every", "2", "--quiet"])
    assert code == 0 and decode(preview).shape == (21, 32, 3)


def test_gallery_renders_every_pair_into_one_labelled_sheet(tiny_pair, tmp_path, capsys):
    contents, styles = tmp_path / "c", tmp_path / "s"
    contents.mkdir(), styles.mkdir()
    for k in range(2):
        Image.open(tiny_pair[0]).rotate(90 * k).save(contents / f"c{k}.png")
    for k in range(3):
        Image.open(tiny_pair[1]).rotate(90 * k).save(styles / f"s{k}.jpg")
    (styles / "notes.txt").write_text("not an image")
    sheet = tmp_path / "sheet.png"
    code = main(["gallery", str(contents), str(styles), "-o", str(sheet), "--model", "vgg16-hed", "--size", "32",
                 "--iterations", "2", "--cell", "64", "--quiet"])
    assert code == 0, capsys.readouterr().err
    grid = decode(sheet)
    assert grid.shape[1] > 4 * 64 and grid.shape[0] > 3 * 64  # 1 + 3 columns, 1 + 2 rows
    assert main(["gallery", str(tmp_path / "none"), str(styles), "-o", str(tmp_path / "x.png")]) == 2


def test_multiscale_closing_line_compares_losses_within_the_last_scale(tiny_pair, tmp_path, capsys):
    import re

    out = tmp_path / "out.png"
    code = main([*map(str, tiny_pair), "-o", str(out), "--model", "vgg16-hed", "--size", "64", "--min-size", "32",
                 "--multiscale", "on", "--iterations", "3", "--fine-iterations", "3"])
    err = capsys.readouterr().err
    assert code == 0, err
    first, best = map(float, re.search(r"loss (\S+) → (\S+)", err).groups())
    assert best < first  # the last scale's start and its best, not the first scale's start
