"""Imports run one way: no module of torchshape imports, at any depth, one that imports it back.

Every import counts, those inside functions and under ``TYPE_CHECKING`` too. The package's
``__init__`` is a facade of lazily loaded names and is left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "torchshape"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torchshape":
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if is_module(full) else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.split(".")[0] == "torchshape")
        graph[name] = {d for d in deps if d not in (name, "torchshape")}
    graph.pop("torchshape", None)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in graph.get(node, ()):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_can_fail() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_renderers_never_import_the_torch_side() -> None:
    graph = import_graph()
    torch_side = {
        "torchshape.families.rnn.probe",
        "torchshape.families.rnn.explain_probe",
        "torchshape.families.rnn.torch_side",
        "torchshape.api",
    }
    for module, deps in graph.items():
        if module.startswith("torchshape.render"):
            assert not deps & torch_side, (module, deps & torch_side)


def test_every_family_gives_the_core_what_it_asks_for() -> None:
    from torchshape import families
    from torchshape.families.base import Family

    assert set(families.REGISTRY) == set(families.COMMANDS)
    for name in families.REGISTRY:
        family = families.family(name)
        assert isinstance(family, Family), name
        assert family.name == name
        command = families.command(name)
        assert callable(getattr(command, name)) and isinstance(command.KINDS, frozenset)


def test_a_family_imports_no_other_family_and_the_core_none_by_name() -> None:
    """Families share only the modules of torchshape/families/ itself; the core reaches them, and
    the model family the layers they claim (``families.claim``), through the registry."""
    graph = import_graph()
    shared = {
        "torchshape.families",
        "torchshape.families.base",
        "torchshape.families.checker",
        "torchshape.families.contract",
        "torchshape.families.diagnosis",
        "torchshape.families.layer_counts",
        "torchshape.families.layers",
        "torchshape.families.spatial",
        "torchshape.families.spatial_diagram",
        "torchshape.families.torch_checks",
    }
    for module, deps in graph.items():
        parts = module.split(".")
        if module.startswith("torchshape.families.") and len(parts) > 3:
            own = ".".join(parts[:3])
            others = {d for d in deps if d.startswith("torchshape.families.") and d not in shared}
            assert all(d.startswith(own) for d in others), (module, others)
        elif not module.startswith("torchshape.families") and module not in ("torchshape.api", "torchshape"):
            assert not {d for d in deps if d.startswith("torchshape.families.") and d not in shared}, module
