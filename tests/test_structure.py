"""The house's shape, measured from the source (bench/structure.py, ast only): what issue 21 asks of it stays true."""

import ast
from pathlib import Path

from bench.structure import LIMIT, measure

from painterly.events import STOPS

SOURCE = Path(__file__).resolve().parents[1] / "src" / "painterly"


def test_no_import_circle_no_private_import_no_long_module_and_few_method_branches():
    found = measure(SOURCE)
    assert found["cycles"] == []
    assert found["private"] == []
    assert found["long"] == [], f"modules over {LIMIT} lines"
    assert len(found["branches"]) <= 3, found["branches"]


def test_the_measure_finds_what_it_looks_for(tmp_path):
    """The measure itself, on a made-up package: a circle through a function-level import, a private name, a
    branch on the method's name, a long module."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import _hidden\n\nif settings.method == 'fast':\n    pass\n")
    (package / "b.py").write_text("def f():\n    from . import a\n\n_hidden = 1\n" + "x = 1\n" * LIMIT)
    found = measure(package)
    assert found["cycles"] == [["pkg.a", "pkg.b"]]
    assert [what for _, _, what in found["private"]] == ["from pkg.b import _hidden"]
    assert [code for _, _, code in found["branches"]] == ["settings.method == 'fast'"]
    assert [name for name, _ in found["long"]] == ["pkg.b"]


def test_every_way_a_run_ends_is_one_of_the_stops():
    """Every string the package assigns to, or compares with, a `stopped` is a key of `events.STOPS`."""
    used = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Assign):
                targets = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.Compare):
                targets = [(node.left, c) for c in node.comparators]
            for target, value in targets:
                text = ast.unparse(target)
                if text.endswith("stopped") or text.endswith(".stopped"):
                    used |= {c.value for c in ast.walk(value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    assert used and used - {"not started"} <= set(STOPS), used - set(STOPS)
