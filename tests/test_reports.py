"""Tests for painterly.reports: tables, the report folder, and every file `finish` writes."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from PIL import Image

from painterly.errors import OutputError
from painterly.events import Iterate, Result
from painterly.reports import COLUMNS, MAX_TILES, TILE_MIN, Report, _subsample, loss_table

SIZE = (16, 16)
RNG = np.random.default_rng(0)


def random_image(size=SIZE) -> np.ndarray:
    width, height = size
    return RNG.uniform(0, 255, (height, width, 3)).astype(np.float32)


def record(step, loss, *, scale=0, scales=1, steps=5, size=SIZE, image=True, terms=None) -> Iterate:
    return Iterate(
        step=step,
        steps=steps,
        loss=loss,
        terms={"content": loss * 0.25, "style": loss * 0.7, "tv": loss * 0.05} if terms is None else terms,
        elapsed=0.1 * step,
        evaluations=step,
        size=size,
        scale=scale,
        scales=scales,
        image=random_image(size) if image else None,
    )


def run(report: Report, records, *, metadata=None, stopped="completed") -> tuple[Result, dict]:
    for r in records:
        report.add(r)
    result = Result(
        image=random_image(records[-1].size),
        alpha=None,
        history=tuple(r.without_image() for r in records),
        metadata={"settings": {"steps": 5, "style_weight": 1e-6}} if metadata is None else metadata,
        stopped=stopped,
    )
    inputs = {"content": random_image().astype(np.uint8), "style": random_image(), "style 2": random_image((20, 12))}
    return result, inputs


def six_steps():
    return [record(step, loss) for step, loss in enumerate([400.0, 200.0, 150.0, 120.0, 110.0, 100.0])]


# ----------------------------------------------------------------------------------------- loss_table


def test_improvement_is_the_drop_from_the_previous_step():
    rows = loss_table([record(i, loss, image=False) for i, loss in enumerate([200.0, 150.0, 120.0])])
    assert [row["improvement_pct"] for row in rows] == pytest.approx([0.0, 25.0, 20.0])
    assert [row["iteration"] for row in rows] == [0, 1, 2]


def test_improvement_restarts_at_zero_on_each_scale():
    history = [
        record(0, 200.0, scale=0, scales=2, image=False),
        record(1, 100.0, scale=0, scales=2, image=False),
        record(0, 400.0, scale=1, scales=2, size=(32, 24), image=False),
        record(1, 300.0, scale=1, scales=2, size=(32, 24), image=False),
    ]
    rows = loss_table(history)
    assert [row["improvement_pct"] for row in rows] == pytest.approx([0.0, 50.0, 0.0, 25.0])
    assert (rows[2]["scale"], rows[2]["width"], rows[2]["height"]) == (1, 32, 24)


def test_loss_rising_gives_negative_improvement_and_zero_loss_gives_zero():
    rows = loss_table([record(i, loss, image=False) for i, loss in enumerate([100.0, 110.0, 0.0, 5.0])])
    assert [row["improvement_pct"] for row in rows] == pytest.approx([0.0, -10.0, 100.0, 0.0])


def test_rows_carry_every_column_and_missing_terms_are_zero():
    rows = loss_table([record(3, 80.0, terms={"style": 60.0}, image=False)])
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["total"] == 80.0 and rows[0]["style"] == 60.0
    assert rows[0]["content"] == 0.0 and rows[0]["tv"] == 0.0
    assert rows[0]["elapsed_s"] == pytest.approx(0.3) and rows[0]["evaluations"] == 3


def test_a_further_term_gets_a_column_by_its_name_in_the_table_csv_and_html(tmp_path):
    terms = {"content": 1.0, "style": 2.0, "tv": 0.5, "temporal": 0.25}
    records = [record(0, 4.0, terms=terms), record(1, 3.75, terms={**terms, "temporal": 0.0})]
    rows = loss_table(records)
    assert list(rows[0]) == ["scale", "iteration", "width", "height", "total", "content", "style", "tv", "temporal",
                             "improvement_pct", "elapsed_s", "evaluations"]
    assert [row["temporal"] for row in rows] == [0.25, 0.0]
    report = Report(tmp_path / "r")
    result, inputs = run(report, records)
    report.finish(result, inputs)
    header = (tmp_path / "r" / "table.csv").read_text().splitlines()[0]
    assert header.split(",")[8] == "temporal"
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<th>Temporal</th>" in page and "<th>TV</th>" in page


# ----------------------------------------------------------------------------------------- the folder


def test_existing_report_folder_is_refused_without_overwrite(tmp_path):
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "index.html").write_text("old")
    with pytest.raises(OutputError, match="--overwrite") as caught:
        Report(folder)
    assert str(folder) in str(caught.value) and "\n" not in str(caught.value)
    Report(folder, overwrite=True)  # accepted


def test_folder_with_only_a_table_is_a_report_too(tmp_path):
    (tmp_path / "table.csv").write_text("old")
    with pytest.raises(OutputError):
        Report(tmp_path)


def test_existing_folder_without_a_report_is_accepted(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    Report(tmp_path)


def test_missing_parent_is_refused(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        Report(tmp_path / "missing" / "report")
    assert not (tmp_path / "missing").exists()


def test_folder_is_created(tmp_path):
    Report(tmp_path / "report")
    assert (tmp_path / "report").is_dir()


def test_overwrite_removes_the_previous_runs_snapshots(tmp_path):
    first = Report(tmp_path, save_every=1)
    first.finish(*run(first, six_steps()))
    second = Report(tmp_path, save_every=5, overwrite=True)
    second.finish(*run(second, six_steps()[:3]))
    assert sorted(p.name for p in (tmp_path / "iterations").iterdir()) == ["s0_00000.png", "s0_00002.png"]


# --------------------------------------------------------------------------------------------- add()


def saved_steps(folder):
    return sorted(p.name for p in (folder / "iterations").glob("*.png"))


def test_add_saves_every_nth_step_and_finish_adds_the_last(tmp_path):
    report = Report(tmp_path, save_every=2)
    result, inputs = run(report, six_steps())
    assert saved_steps(tmp_path) == ["s0_00000.png", "s0_00002.png", "s0_00004.png"]
    report.finish(result, inputs)
    assert saved_steps(tmp_path) == ["s0_00000.png", "s0_00002.png", "s0_00004.png", "s0_00005.png"]
    with Image.open(tmp_path / "iterations" / "s0_00005.png") as image:
        assert image.size == SIZE
    assert not list(tmp_path.glob("**/*.tmp"))


def test_last_step_of_each_scale_is_kept(tmp_path):
    report = Report(tmp_path, save_every=2)
    records = [record(s, 10.0 - s, scale=0, scales=2) for s in range(4)]
    records += [record(s, 20.0 - s, scale=1, scales=2, size=(24, 20)) for s in range(4)]
    report.finish(*run(report, records))
    assert saved_steps(tmp_path) == [f"s{c}_{s:05d}.png" for c in (0, 1) for s in (0, 2, 3)]


# ------------------------------------------------------------------------------------------ finish()

EXPECTED_PNGS = {
    "result.png": SIZE,
    "content.png": SIZE,
    "style.png": SIZE,
    "style_2.png": (20, 12),
}


def test_finish_writes_every_file(tmp_path):
    report = Report(tmp_path / "out", save_every=2)
    index = report.finish(*run(report, six_steps()))
    folder = tmp_path / "out"
    assert index == folder / "index.html"
    for name, size in EXPECTED_PNGS.items():
        with Image.open(folder / name) as image:
            assert image.size == size, name
    for name in ("loss.png", "improvement.png", "contact_sheet.png"):
        with Image.open(folder / name) as image:
            image.load()
            assert image.width > 100 and image.height > 50, name
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*"))


def test_tables_hold_one_row_per_record_at_full_precision(tmp_path):
    report = Report(tmp_path)
    records = six_steps()
    records[3] = record(3, 120.123456789012)
    report.finish(*run(report, records))
    with open(tmp_path / "table.csv", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    table = json.loads((tmp_path / "table.json").read_text())
    assert table["columns"] == list(COLUMNS)
    assert len(csv_rows) == len(table["rows"]) == len(records)
    assert table["rows"] == loss_table(records)
    assert float(csv_rows[3]["total"]) == 120.123456789012
    assert [int(r["iteration"]) for r in csv_rows] == list(range(6))
    assert float(csv_rows[2]["improvement_pct"]) == pytest.approx(25.0)


def test_metadata_has_settings_stop_reason_and_best(tmp_path):
    report = Report(tmp_path)
    metadata = {"settings": {"size": (512, 384), "weight": np.float32(0.5)}, "steps": np.int64(5)}
    report.finish(*run(report, six_steps(), metadata=metadata, stopped="interrupted"))
    saved = json.loads((tmp_path / "metadata.json").read_text())
    assert saved["settings"] == {"size": [512, 384], "weight": 0.5}
    assert saved["steps"] == 5 and saved["stopped"] == "interrupted"
    assert saved["best"] == {"iteration": 5, "scale": 0, "loss": 100.0}


def test_result_alpha_is_kept(tmp_path):
    report = Report(tmp_path)
    result, inputs = run(report, six_steps())
    alpha = np.full(SIZE[::-1], 128, dtype=np.uint8)
    report.finish(Result(result.image, alpha, result.history, result.metadata, result.stopped), inputs)
    with Image.open(tmp_path / "result.png") as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 128


def test_html_is_self_contained_and_escaped(tmp_path):
    report = Report(tmp_path, save_every=1)
    metadata = {"settings": {"style": "<script>alert(1)</script>"}, "<b>key</b>": "x & y"}
    page = report.finish(*run(report, six_steps(), metadata=metadata)).read_text()
    assert page.count('src="data:image/png;base64,') == 7  # 3 inputs, result, sheet, 2 graphs
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;key&lt;/b&gt;" in page
    assert "x &amp; y" in page
    assert "Itn-2" in page and "25.000%" in page and "400.0000" in page


def test_long_runs_show_both_ends_of_the_table(tmp_path):
    report = Report(tmp_path)
    records = [record(s, 1000.0 / (s + 1), steps=500, image=s == 500) for s in range(501)]
    page = report.finish(*run(report, records)).read_text()
    assert "Itn-99<" in page and "Itn-100<" not in page and "Itn-401<" in page
    assert "301 rows not shown" in page and 'href="table.csv"' in page
    with Image.open(tmp_path / "loss.png") as image:
        assert image.width > 100


def test_interrupted_run_with_only_the_starting_image_still_reports(tmp_path):
    report = Report(tmp_path, save_every=10)
    page = report.finish(*run(report, [record(0, 500.0)], stopped="interrupted")).read_text()
    assert saved_steps(tmp_path) == ["s0_00000.png"]
    for name in ("table.csv", "table.json", "loss.png", "improvement.png", "contact_sheet.png", "metadata.json"):
        assert (tmp_path / name).is_file(), name
    assert "interrupted" in page and "Itn-0" in page


def test_save_every_zero_writes_no_contact_sheet(tmp_path):
    report = Report(tmp_path)
    page = report.finish(*run(report, six_steps())).read_text()
    assert not (tmp_path / "contact_sheet.png").exists()
    assert not (tmp_path / "iterations").exists()
    assert "save_every was 0" in page


def test_several_scales_report(tmp_path):
    report = Report(tmp_path, save_every=1)
    records = [record(s, 1e6 / (s + 1) ** 3, scale=0, scales=2) for s in range(4)]
    records += [record(s, 1e4 / (s + 1), scale=1, scales=2, size=(24, 20)) for s in range(4)]
    page = report.finish(*run(report, records)).read_text()
    assert "<th>Scale</th>" in page
    with Image.open(tmp_path / "contact_sheet.png") as image:
        image.load()
    assert json.loads((tmp_path / "metadata.json").read_text())["best"]["scale"] == 1


def test_empty_history_still_reports(tmp_path):
    report = Report(tmp_path)
    result = Result(random_image(), None, (), {}, "interrupted")
    page = report.finish(result, {"content": random_image()}).read_text()
    assert "No iterations were recorded" in page
    assert json.loads((tmp_path / "metadata.json").read_text())["best"] is None
    assert json.loads((tmp_path / "table.json").read_text())["rows"] == []


def test_contact_sheet_keeps_at_most_24_tiles_with_first_and_last(tmp_path):
    report = Report(tmp_path, save_every=1)
    records = [record(s, 100.0 - s, steps=40) for s in range(41)]
    report.finish(*run(report, records))
    assert len(saved_steps(tmp_path)) == 41
    chosen = _subsample(list(range(41)), MAX_TILES)
    assert len(chosen) == MAX_TILES and chosen[0] == 0 and chosen[-1] == 40
    assert chosen == sorted(set(chosen))
    with Image.open(tmp_path / "contact_sheet.png") as sheet:
        tile = TILE_MIN  # 16 px snapshots are scaled up to the smallest tile
        assert tile * 6 < sheet.width < (tile + 40) * 6 and tile * 4 < sheet.height < (tile + 60) * 4


def test_an_input_named_like_a_report_file_does_not_replace_it(tmp_path):
    report = Report(tmp_path)
    result, _ = run(report, six_steps())
    report.finish(result, {"content": random_image(), "loss": random_image((8, 8))})
    with Image.open(tmp_path / "loss.png") as graph, Image.open(tmp_path / "input_loss.png") as image:
        assert graph.width > 100 and image.size == (8, 8)
