"""Nothing imports upward: the data path of STYLE.md, checked by reading imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shopsense"
# Lower number = lower layer. A module may import its own layer or any lower one.
LAYERS: dict[str, int] = {
    "domain": 0, "config": 0, "ids": 0, "memo": 0,
    "store": 1, "text": 1, "ingest": 1,
    "features": 2, "index": 2, "demo": 2,
    "retrieve": 3, "models": 3, "knowledge": 3,
    "rank": 4,
    "explain": 5,
    "pipeline": 6, "privacy": 6, "analytics": 6, "scale": 6,
    "training": 7, "evaluation": 7, "assistant": 7, "federated": 7,
    "api": 8, "web": 8, "mcp_server": 8, "cli": 9, "client": 9, "__main__": 9,
}
# Beside the path: training and evaluation may read any stage, but never serve or cli.
FORBIDDEN = {"training": {"api", "web", "cli"}, "evaluation": {"api", "web", "cli"},
             "federated": {"api", "web", "cli"}}
# Leaf modules any layer may import: they import nothing from shopsense (checked below).
LEAVES = {"shopsense.evaluation.metrics"}


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    return rel[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in LEAVES:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shopsense."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("shopsense.") and alias.name not in LEAVES:
                    found.add(alias.name.split(".")[1])
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if p.parent != SRC or p.name != "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_upward_imports(path: Path) -> None:
    package = _package_of(path)
    if package not in LAYERS:
        pytest.fail(f"{package} is not placed in a layer; add it to LAYERS")
    for target in _imports(path) - {package}:
        assert target in LAYERS, f"{path}: imports unknown package shopsense.{target}"
        assert target not in FORBIDDEN.get(package, set()), f"{path} imports {target}"
        if package not in FORBIDDEN:
            assert LAYERS[target] <= LAYERS[package], (
                f"{path.relative_to(SRC)} ({package}) imports upward: shopsense.{target}")


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaves_import_nothing_from_shopsense(leaf: str) -> None:
    path = SRC.joinpath(*leaf.split(".")[1:]).with_suffix(".py")
    assert not _imports(path), f"{leaf} is a leaf but imports {_imports(path)}"
