"""The layout: folders name the stages of the pipeline and imports go down it only (docs/architecture.md).

Every import counts, at the top of a module or inside a function (a lazy import is still a dependency). The rules:
- a module imports only from its own package or from a package below it in LAYERS;
- no module imports a `_private` name of another module;
- no import cycle between modules;
- no module over 400 lines, no function over 80.
Each rule is also shown to fail on a graph that breaks it, so that the test cannot pass for want of checking.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "src" / "trackproof"

#: The pipeline, from the bottom: a module may import from its own layer and the layers before it.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "files", "inputs", "parallel"}),
    frozenset({"spec"}),
    frozenset({"cache", "codec"}),
    frozenset({"simulate"}),
    frozenset({"prove"}),
    frozenset({"explore"}),
    frozenset({"render"}),
    frozenset({"report"}),
    frozenset({"cli"}),
    frozenset({"__init__", "__main__", "api"}),  # the package's face: the command and the Python API (api.py)
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1 and parts != ["trackproof", "__init__"]:
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import of `path` inside trackproof."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "trackproof.__init__":
        package = ["trackproof"]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("trackproof"):
                continue
            for alias in node.names:
                out.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(alias.name, "", node.lineno) for alias in node.names if alias.name.startswith("trackproof")]
    return out


def graph() -> dict[str, list[tuple[str, str, int]]]:
    """Each module of trackproof and what it imports (a name imported from a package that is itself a module, as
    in `from . import cli`, counts as importing that module)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name, path in modules.items():
        edges = []
        for target, imported, line in imports(path):
            sub = f"{target}.{imported}"
            edges.append((sub, "", line) if sub in modules else (target, imported, line))
        out[name] = edges
    return out


def layer_of(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return next(i for i, names in enumerate(LAYERS) if top in names)


def violations(edges: dict[str, list[tuple[str, str, int]]]) -> list[str]:
    """Every import that breaks a rule of the module docstring, as 'module:line: why'."""
    found = []
    for module, targets in edges.items():
        for target, imported, line in targets:
            if target == "trackproof" and imported == "__version__":
                continue
            if layer_of(target) > layer_of(module):
                found.append(f"{module}:{line}: imports {target}, a later stage of the pipeline")
            if imported.startswith("_") and not imported.startswith("__"):
                found.append(f"{module}:{line}: imports the private name {target}.{imported}")
    return found


def cycles(edges: dict[str, list[tuple[str, str, int]]]) -> list[list[str]]:
    """The import cycles between modules (each found once, from its least module)."""
    found: list[list[str]] = []
    modules = set(edges)
    importers: dict[str, set[str]] = {}
    for module, targets in edges.items():
        for target, _, _ in targets:
            importers.setdefault(target, set()).add(module)

    def reaching(start: str) -> set[str]:
        """The modules (not below `start`) from which `start` can be reached: only they can be on its cycles, so the
        search below never walks the many paths of an acyclic graph."""
        seen, todo = {start}, [start]
        while todo:
            for module in importers.get(todo.pop(), ()):
                if module not in seen and module >= start:
                    seen.add(module)
                    todo.append(module)
        return seen

    def visit(start: str, current: str, trail: list[str], back: set[str]) -> None:
        for target, _, _ in edges.get(current, []):
            if target not in modules or target < start or target not in back:
                continue
            if target == start:
                found.append([*trail, start])
            elif target not in trail:
                visit(start, target, [*trail, target], back)

    for start in sorted(modules):
        visit(start, start, [start], reaching(start))
    return found


def test_imports_go_down_the_pipeline_only() -> None:
    assert violations(graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_every_module_belongs_to_a_stage() -> None:
    for module in graph():
        layer_of(module)  # raises StopIteration for a folder LAYERS does not know


def test_an_upward_import_a_private_name_and_a_cycle_are_caught() -> None:
    """The checks above, on a graph that breaks each rule: they must say so."""
    bad = {"trackproof.spec.loader": [("trackproof.prove.verdict", "prove_claim", 3)],
           "trackproof.simulate.engine": [("trackproof.simulate.world", "_FACTS", 5)],
           "trackproof.prove.a": [("trackproof.prove.b", "x", 1)],
           "trackproof.prove.b": [("trackproof.prove.a", "y", 1)]}
    found = violations(bad)
    assert any("a later stage" in v and v.startswith("trackproof.spec.loader:3") for v in found)
    assert any("private name trackproof.simulate.world._FACTS" in v for v in found)
    assert cycles(bad) == [["trackproof.prove.a", "trackproof.prove.b", "trackproof.prove.a"]]
    real = graph()
    real["trackproof.spec.ir"] = [*real["trackproof.spec.ir"], ("trackproof.cli", "", 1)]
    assert violations(real) == ["trackproof.spec.ir:1: imports trackproof.cli, a later stage of the pipeline"]


def _sizes() -> tuple[list[str], list[str]]:
    modules, functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 400:
            modules.append(f"{path.relative_to(ROOT)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    return modules, functions


def test_no_module_over_400_lines_and_no_function_over_80() -> None:
    modules, functions = _sizes()
    assert modules == []
    assert functions == []


@pytest.mark.parametrize("stage", ["spec", "simulate", "prove", "explore", "render", "report", "cli"])
def test_each_stage_is_documented_in_architecture_md(stage: str) -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"`{stage}/`" in text
    for path in sorted((PACKAGE / stage).glob("*.py")):
        if path.name != "__init__.py":
            assert f"`{path.name}`" in text, f"docs/architecture.md does not describe {stage}/{path.name}"
