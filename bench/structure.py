"""painterly's house in numbers: what issue 21 asks of its structure, measured from the source (ast only).

    python bench/structure.py                    # src/painterly of this checkout
    python bench/structure.py --root /work/main/src/painterly

Reports, each with the places it found:
- modules over 500 lines;
- import cycles among painterly's modules, counting imports at module level and inside functions (a
  circle through a function-level import still ties the two modules together);
- private names (`_name`) imported from another painterly module, or read off one (`module._name`);
- branches on the method's name outside methods/ (`method == "fast"`, `s.method in (...)`, ...).
Exits 0; it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

LIMIT = 500
METHOD_NAMES = {"fast", "optimise", "optimize"}


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under `root` (a package folder)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def imports(name: str, tree: ast.AST, files: dict[str, Path]):
    """(line, imported painterly module, names taken from it) for every import anywhere in the module."""
    package = name if is_package(name, files) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in files:
                    yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source not in files:
                continue
            taken = []
            for alias in node.names:
                child = f"{source}.{alias.name}"
                if child in files:  # `from . import batch`: the submodule itself
                    yield node.lineno, child, []
                else:
                    taken.append(alias.name)
            if taken:
                yield node.lineno, source, taken


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def method_branches(tree: ast.AST):
    """Comparisons of something named *method* with a method's name (or membership tests on it)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        text = [ast.unparse(side) for side in sides]
        if not any("method" in t.lower() and not (isinstance(s, ast.Constant)) for s, t in zip(sides, text)):
            continue
        names = {c.value for side, t in zip(sides, text) if "method" not in t.lower() for c in ast.walk(side)
                 if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        if names and not names & METHOD_NAMES:  # another "method" (an HTTP request's), other values
            continue
        if names & METHOD_NAMES or any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            yield node.lineno, ast.unparse(node)


def measure(root: Path) -> dict:
    """The four measures of the package at `root`: {"lines": {module: n}, "long": [(module, n)], "cycles":
    [[modules]], "graph": {module: {imports}}, "private": [(path, line, what)], "branches": [(path, line, code)]}."""
    files = modules(root)
    trees = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in files.items()}
    where = {name: path.relative_to(root.parent) for name, path in files.items()}
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in files.items()}
    long = sorted(((n, c) for n, c in lines.items() if c > LIMIT), key=lambda x: -x[1])

    graph: dict[str, set[str]] = {name: set() for name in files}
    private = []
    for name, tree in trees.items():
        aliases = {}
        for line, source, taken in imports(name, tree, files):
            if source != name:
                graph[name].add(source)
            for t in taken:
                if t.startswith("_") and not t.startswith("__"):
                    private.append((where[name], line, f"from {source} import {t}"))
        for node in ast.walk(tree):  # `from . import batch` then `batch._thing`
            if isinstance(node, ast.ImportFrom) or isinstance(node, ast.Import):
                for line, source, taken in imports(name, ast.Module(body=[node], type_ignores=[]), files):
                    if not taken:
                        for alias in node.names:
                            aliases[alias.asname or alias.name.split(".")[-1]] = source
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and aliases[node.value.id] != name):
                private.append((where[name], node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    branches = [(where[name], line, code) for name, tree in trees.items()
                if not name.startswith("painterly.methods") for line, code in method_branches(tree)]
    return {"lines": lines, "long": long, "graph": graph, "cycles": cycles(graph), "private": private,
            "branches": branches}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1] / "src" / "painterly")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    found = measure(root)
    lines, graph = found["lines"], found["graph"]
    print(f"# {root}: {len(lines)} modules, {sum(lines.values())} lines")
    print(f"\n## modules over {LIMIT} lines: {len(found['long'])}")
    for name, count in found["long"]:
        print(f"  {count:5d}  {name}")
    print(f"\n## import cycles (module and function level): {len(found['cycles'])}")
    for component in found["cycles"]:
        inside = [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component]
        print(f"  {' , '.join(component)}")
        print(f"      edges: {'; '.join(inside)}")
    print(f"\n## private names imported across modules: {len(found['private'])}")
    for path, line, what in sorted(found["private"], key=lambda p: (str(p[0]), p[1])):
        print(f"  {path}:{line}  {what}")
    print(f"\n## branches on the method's name outside methods/: {len(found['branches'])}")
    for path, line, code in sorted(found["branches"], key=lambda b: (str(b[0]), b[1])):
        print(f"  {path}:{line}  {code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
