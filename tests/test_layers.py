"""Data flows one way: domain -> data -> analytics -> reporting / api / cli.

A lower layer never imports a higher one (checked on every module's import statements).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "bettercare"
ORDER = ["domain", "data", "analytics", "reporting", "api", "cli"]
# what each layer may NOT import; reporting and api are siblings below cli
FORBIDDEN = {
    "domain": ["data", "analytics", "reporting", "api", "cli"],
    "data": ["analytics", "reporting", "api", "cli"],
    "analytics": ["reporting", "api", "cli"],
    "reporting": ["api", "cli"],
    "api": ["cli"],
}


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_no_higher_layer(layer):
    forbidden = tuple(f"bettercare.{higher}" for higher in FORBIDDEN[layer])
    bad = [
        (str(path.relative_to(PACKAGE)), name)
        for path in (PACKAGE / layer).rglob("*.py")
        for name in imported_modules(path)
        if name.startswith(forbidden)
    ]
    assert bad == []


def test_the_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("from bettercare.cli.main import app\n")
    assert imported_modules(bad) == ["bettercare.cli.main"]
