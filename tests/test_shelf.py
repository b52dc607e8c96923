"""The shelf of paintings: names that work wherever a style image does, `painterly styles` and its sheet."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import painterly
from painterly import shelf
from painterly.cli import main
from painterly.errors import InputImageError

from conftest import decode

NAMES = ["starry_night", "the_scream", "shipwreck", "woman_with_hat", "great_wave", "composition_vii", "seaport"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def no_own_shelf(monkeypatch):
    monkeypatch.delenv(shelf.SHELF_ENV, raising=False)


def test_the_bundled_shelf_holds_seven_small_paintings_with_their_sources():
    listing = shelf.listing()
    assert [p["name"] for p in listing] == NAMES
    for entry in listing:
        assert entry["title"] and entry["artist"] and entry["year"] and ":" in entry["source"]
        with Image.open(entry["path"]) as image:
            assert max(image.size) <= 1024 and image.format == "JPEG"
    total = sum(Path(p["path"]).stat().st_size for p in listing)
    assert total < 3 * 2**20
    assert json.loads(json.dumps(listing)) == listing  # plain values, ready for the web app's JSON


def test_a_name_resolves_to_its_painting_ignoring_case_and_dashes():
    wave = shelf.resolve("great_wave")
    assert wave.name == "great_wave.jpg" and wave.is_file()
    assert shelf.resolve("Great-Wave") == wave
    assert shelf.find("nope") is None


def test_a_path_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (8, 8), "red").save(tmp_path / "great_wave", format="PNG")  # a file called like a painting
    assert shelf.resolve("great_wave") == Path("great_wave")


def test_an_unknown_name_is_one_line_with_the_closest_names_and_exit_2(tiny_pair, tmp_path, capsys):
    code, _, err = run(capsys, tiny_pair[0], "grate_wave", "-o", tmp_path / "o.png", "--method", "fast")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "grate_wave" in err and "did you mean great_wave" in err and "painterly styles" in err
    code, _, err = run(capsys, tiny_pair[0], tmp_path / "starry_nite.jpg", "-o", tmp_path / "o.png")
    assert code == 2 and "does not exist" in err and "starry_night" in err
    assert not (tmp_path / "o.png").exists()


def test_a_folder_in_the_environment_extends_the_shelf(tmp_path, monkeypatch):
    own = tmp_path / "mine"
    own.mkdir()
    Image.new("RGB", (20, 10), "blue").save(own / "my_painting.png")
    (own / "notes.txt").write_text("not a painting")
    monkeypatch.setenv(shelf.SHELF_ENV, str(own))
    assert shelf.names() == [*NAMES, "my_painting"]
    assert shelf.resolve("my_painting") == own / "my_painting.png"
    monkeypatch.setenv(shelf.SHELF_ENV, str(tmp_path / "gone"))
    with pytest.raises(InputImageError, match=f"{shelf.SHELF_ENV} folder .*gone"):
        shelf.names()


def test_painterly_styles_lists_the_shelf(capsys):
    code, out, _ = run(capsys, "styles")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["name", "title", "artist", "year"] and len(lines) == 8
    assert "great_wave" in out and "The Great Wave off Kanagawa" in out and "Katsushika Hokusai" in out


def test_the_styles_sheet_paints_the_photo_in_every_painting(tiny_pair, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    code, _, err = run(capsys, "styles", tiny_pair[0], "-o", sheet, "--size", "48", "--cell", "48")
    assert code == 0, err
    tiles = _result_row(decode(sheet))
    assert len(tiles) == 1 + len(NAMES), len(tiles)  # the photo, then the photo in each painting
    for a, b in itertools.combinations(tiles, 2):
        assert np.abs(a.astype(float) - b.astype(float)).mean() > 3
    code, _, err = run(capsys, "styles", tiny_pair[0], "-o", sheet, "--size", "48")
    assert code == 2 and "--overwrite" in err  # a sheet is not replaced without --overwrite


def _result_row(sheet: np.ndarray) -> list[np.ndarray]:
    """The pictures of the sheet's row with the most of them (the photo and its paintings), each cut out
    between the white columns that separate them, at one size."""
    ink = (sheet < 250).any(axis=2)
    best = []
    for rows in _runs(ink.any(axis=1)):
        band = sheet[rows]
        columns = _runs(ink[rows].any(axis=0))
        if len(columns) > len(best) and rows.stop - rows.start > 20:
            best = [np.asarray(Image.fromarray(band[:, c]).resize((32, 32))) for c in columns]
    return best


def _runs(mask: np.ndarray) -> list[slice]:
    """The runs of True in a 1-D mask, as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return [slice(a, b) for a, b in zip(edges[::2], edges[1::2])]


def test_the_library_takes_a_name_as_the_style(tiny_pair):
    by_name = painterly.stylize(tiny_pair[0], "great_wave", method="fast", size=32)
    by_path = painterly.stylize(tiny_pair[0], shelf.resolve("great_wave"), method="fast", size=32)
    np.testing.assert_array_equal(by_name.image, by_path.image)
    assert by_name.metadata["styles"][0]["path"].endswith("great_wave.jpg")


def test_batch_and_gallery_take_names(tiny_pair, tmp_path, capsys):
    from painterly import batch, gallery

    assert batch.expand(["great_wave", tiny_pair[1]], "style") == [shelf.resolve("great_wave"), tiny_pair[1]]
    with pytest.raises(InputImageError, match="did you mean great_wave"):
        batch.expand(["grate_wave"], "style")
    assert batch.expand([tmp_path / "missing.jpg"], "style") == [tmp_path / "missing.jpg"]  # fails its items only
    assert gallery.image_files("shelf", "style") == [Path(p["path"]) for p in shelf.listing()]
    out = tmp_path / "painted"
    code, _, err = run(capsys, "batch", tiny_pair[0], "--styles", "great_wave", "-o", out, "--method", "fast",
                       "--size", "32", "--quiet")
    assert code == 0, err
    painted = list(out.glob("*.png"))
    assert len(painted) == 1 and "great_wave" in painted[0].name


def test_video_takes_a_name(tiny_pair, tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(2):
        Image.open(tiny_pair[0]).rotate(k * 3).save(frames / f"{k:03d}.png")
    out = tmp_path / "out"
    code, _, err = run(capsys, "video", frames, "great_wave", "-o", out, "--size", "32", "--quiet")
    assert code == 0, err
    assert len(list(out.glob("*.png"))) == 2


def test_a_batch_manifest_takes_names(tiny_pair, tmp_path):
    from painterly.batch import read_manifest
    from painterly.settings import Settings

    manifest = tmp_path / "jobs.csv"
    manifest.write_text(f"content,style\n{tiny_pair[0]},great_wave;{tiny_pair[1].name}\n{tiny_pair[0]},nope\n")
    first, second = read_manifest(manifest, Settings(method="fast"))
    assert first.styles == (shelf.resolve("great_wave"), tiny_pair[1])  # a name, and a file beside the manifest
    assert second.styles == (tmp_path / "nope",)  # neither: that row's item fails when it is painted
