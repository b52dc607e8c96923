"""The benchmark suite: its reference loop computes painterly's objective, its counts and its smoke run."""

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from bench import flops, report
from bench.reference import ReferenceLoop, vgg16_hed_dict_model
from painterly import backbones
from tests.conftest import shared_image


def test_reference_loop_minimises_painterlys_objective_with_zero_borders(hed_backbone):
    import dataclasses

    from bench.suite import objective

    rng = np.random.default_rng(0)
    content = rng.uniform(0, 255, (40, 48, 3)).round().astype(np.float32)
    style = rng.uniform(0, 255, (40, 48, 3)).round().astype(np.float32)
    score = objective(dataclasses.replace(hed_backbone, margin=0), content, style)
    loop = ReferenceLoop(content, style, model=vgg16_hed_dict_model(), learning_rate=1e3)
    steps = loop.steps(3)
    for _ in range(3):
        before = loop.image(clip=False)
        own = next(steps)
        assert own == pytest.approx(float(score.value_and_grad(before[None])[0]), rel=1e-4)
    assert not np.array_equal(before, loop.image(clip=False))  # SGD moved the picture


def test_step_flops_by_hand_for_the_first_two_blocks():
    model = backbones.build("vgg16-random", ["block2_conv1"]).model
    forward = 2 * (8 * 8 * 9 * 3 * 64 + 8 * 8 * 9 * 64 * 64 + 4 * 4 * 9 * 64 * 128)
    assert flops.step_flops(model, 8, 8, deepest="block2_conv1", backward_batch=0) == forward
    assert flops.step_flops(model, 8, 8, deepest="block2_conv1", batch=3, backward_batch=3) == 6 * forward
    gram = 2 * 4 * 4 * 128 * 128 * 2  # one image forward and backward
    assert flops.step_flops(model, 8, 8, deepest="block2_conv1", backward_batch=0,
                            gram_layers=["block2_conv1"]) == forward + gram


def test_the_doc_keeps_everything_outside_its_markers(tmp_path):
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\nprose\n\n<!-- tiling: start -->\ntiles\n<!-- tiling: end -->\n")
    report.write_doc(doc, "first")
    report.write_doc(doc, "second")
    text = doc.read_text()
    assert "prose" in text and "<!-- tiling: start -->\ntiles\n<!-- tiling: end -->" in text
    assert "second" in text and "first" not in text and text.count(report.START) == 1


@pytest.mark.slow
def test_quick_suite_runs_end_to_end_and_writes_json_and_tables(tmp_path):
    from bench.__main__ import main

    shared_image("content", "tubingen.jpg"), shared_image("style", "starry_night.jpg")
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\n<!-- tiling: start -->\ntiles\n<!-- tiling: end -->\n")
    assert main(["--quick", "--out", str(tmp_path), "--doc", str(doc)]) == 0
    [path] = tmp_path.glob("*.json")
    results = json.loads(path.read_text())
    for row in results["per_iteration"]:
        assert row["painterly_s"] > 0 and row["reference_s"] > 0 and row["gemm_gflops"] > 0
    assert results["time_to_quality"]["reference_s"] > 0 and results["end_to_end"][0]["seconds"] > 0
    for run in ("same_objective", "default"):  # both painterly runs, scored on the reference's objective
        quality = results["time_to_quality"][run]
        assert quality["seconds"] > 0 and len(quality["curve"]) == results["plan"]["quality_iterations"] + 1
    assert all(row["peak_bytes"] > 2**20 for row in results["memory"]["rows"])
    assert results["precision"]["evaluation"]["seconds"]["bfloat16"] > 0
    assert results["fast"][0]["paint_s"] > 0 and results["fast"][0]["size"] == [64, 48]
    starts = results["starts"]
    assert set(starts["content"]["loss"]) == {"0"} and starts["fast"]["loss"]["0"] < starts["content"]["loss"]["0"]
    assert [t["target"] for t in results["targets"]] == [t["target"] for t in report.targets(results)]
    assert len(results["targets"]) == 5
    text = doc.read_text()
    assert "tiles" in text and "### Targets" in text and "### Peak memory" in text


@pytest.mark.parametrize("name", sorted(p.stem for p in (Path(__file__).parents[1] / "bench").glob("*.py")
                                        if p.stem not in ("__init__", "__main__")))
def test_every_benchmark_imports(name):
    """A benchmark that no longer imports (a renamed helper in painterly) fails here, not on the day it runs."""
    module = importlib.import_module(f"bench.{name}")
    assert module.__doc__, f"bench/{name}.py says what it measures in its docstring"
