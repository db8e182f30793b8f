"""Data flows one way: domain -> data -> analytics -> reporting / api / cli.

A lower layer never imports a higher one. Every import a module can make is checked:
``import bettercare.cli``, ``from bettercare import cli``, relative imports
(``from ..cli import x``), imports inside functions, and ``importlib.import_module`` with
a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "bettercare"
# what each layer may NOT import; reporting and api are siblings below cli
FORBIDDEN = {
    "domain": ["data", "analytics", "reporting", "api", "cli"],
    "data": ["analytics", "reporting", "api", "cli"],
    "analytics": ["reporting", "api", "cli"],
    "reporting": ["api", "cli"],
    "api": ["cli"],
}


def _module_name(path: Path, root: Path) -> list[str]:
    """Dotted module parts of ``path`` inside the package at ``root`` (``bettercare.x.y``)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_modules(path: Path, root: Path = PACKAGE) -> list[str]:
    """Every absolute module name ``path`` may import, wherever the statement stands."""
    here = _module_name(path, root)
    is_package = path.name == "__init__.py"
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                package = here if is_package else here[:-1]
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append(module)
            # `from bettercare import cli` imports the submodule bettercare.cli
            names += [f"{module}.{a.name}" for a in node.names if a.name != "*"]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def violations(root: Path, layer: str) -> list[tuple[str, str]]:
    """(file, imported module) pairs where ``layer`` under ``root`` imports a higher layer."""
    higher = [f"{root.name}.{h}" for h in FORBIDDEN[layer]]
    return [
        (str(path.relative_to(root)), name)
        for path in sorted((root / layer).rglob("*.py"))
        for name in imported_modules(path, root)
        if any(name == h or name.startswith(h + ".") for h in higher)
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_no_higher_layer(layer):
    assert violations(PACKAGE, layer) == []


@pytest.mark.parametrize(
    "source",
    [
        "import bettercare.cli.main\n",
        "from bettercare.cli.main import app\n",
        "from bettercare import cli\n",
        "from bettercare import domain, reporting\n",
        "from ..cli import main\n",
        "from .. import cli\n",
        "def f():\n    from bettercare.reporting import plan_report\n",
        "import importlib\nimportlib.import_module('bettercare.cli.main')\n",
    ],
)
def test_a_forbidden_import_fails_the_check(tmp_path, source):
    root = tmp_path / "bettercare"
    for layer in ("data", "cli", "reporting"):
        (root / layer).mkdir(parents=True)
        (root / layer / "__init__.py").write_text("")
    (root / "data" / "bad.py").write_text(source)
    assert violations(root, "data"), f"not caught: {source!r}"


def test_allowed_imports_pass(tmp_path):
    root = tmp_path / "bettercare"
    (root / "data").mkdir(parents=True)
    (root / "data" / "ok.py").write_text(
        "from bettercare.domain import plan\nfrom . import schema\nfrom ..domain import rules\n"
        "import duckdb\n"
    )
    assert violations(root, "data") == []
