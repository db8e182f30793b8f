"""Data flows one way: domain -> data -> analytics -> reporting -> app / cli.

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
# what each layer may NOT import; app (the web server) sits beside cli, which may start it
FORBIDDEN = {
    "domain": ["data", "analytics", "reporting", "app", "cli"],
    "data": ["analytics", "reporting", "app", "cli"],
    "analytics": ["reporting", "app", "cli"],
    "reporting": ["app", "cli"],
    "app": ["cli"],
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


def private_imports(path: Path, root: Path = PACKAGE) -> list[str]:
    """``module._name`` for each private name ``path`` imports from another module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            found += [
                f"{'.' * node.level}{node.module or ''}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return found


def exit_code_mentions(path: Path) -> list[str]:
    """``typer.Exit``, ``sys.exit``, ``SystemExit`` or ``exit_code`` named in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and (
            node.attr == "exit_code"
            or (node.attr, getattr(node.value, "id", None)) in {("Exit", "typer"), ("exit", "sys")}
        ):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Name) and node.id in {"SystemExit", "exit_code"}:
            found.append(node.id)
        elif isinstance(node, ast.ImportFrom) and node.module in {"typer", "sys"}:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name in {"Exit", "exit"}]
    return found


def test_no_module_imports_a_private_name_of_another():
    bad = {
        str(p.relative_to(PACKAGE)): names
        for p in sorted(PACKAGE.rglob("*.py"))
        if (names := private_imports(p))
    }
    assert bad == {}


def test_exit_codes_live_in_cli_only():
    bad = {
        str(p.relative_to(PACKAGE)): names
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.relative_to(PACKAGE).parts[0] != "cli" and (names := exit_code_mentions(p))
    }
    assert bad == {}


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("from bettercare.reporting.plan_report import _env\n", private_imports),
        ("from .plan_report import data_uri, _env\n", private_imports),
        ("import typer\nraise typer.Exit(2)\n", exit_code_mentions),
        ("from typer import Exit\n", exit_code_mentions),
        ("import sys\nsys.exit(1)\n", exit_code_mentions),
        ("raise SystemExit(2)\n", exit_code_mentions),
        ("def f(result):\n    return result.exit_code\n", exit_code_mentions),
    ],
)
def test_the_room_checks_catch_what_they_forbid(tmp_path, source, caught):
    path = tmp_path / "bad.py"
    path.write_text(source)
    assert caught(path)


def test_the_room_checks_pass_ordinary_code(tmp_path):
    path = tmp_path / "ok.py"
    path.write_text(
        "from __future__ import annotations\nfrom .x import __version__, public\n"
        "import sys\nprint(sys.argv)\n"
    )
    assert private_imports(path) == [] and exit_code_mentions(path) == []


def feed_name_branches(path: Path) -> list[str]:
    """Comparisons of a feed's name with a literal feed name (``feed.name == "x"``)."""
    from bettercare.data.schema import FEEDS

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in FEEDS for o in operands) and any(
                isinstance(o, ast.Attribute) and o.attr in {"name", "feed"} for o in operands
            ):
                found.append(ast.unparse(node))
    return found


def test_feed_specific_behaviour_lives_in_the_feed_specs():
    """The ingest reads FeedSpec attributes (opt_out_list, identity_source, ...) instead
    of branching on a feed's name."""
    files = [*sorted((PACKAGE / "data" / "ingest").glob("*.py")), PACKAGE / "data" / "schema.py"]
    bad = {str(p.relative_to(PACKAGE)): b for p in files if (b := feed_name_branches(p))}
    assert bad == {}


def test_the_feed_name_check_catches_a_branch(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text('if feed.name == "opt_outs":\n    pass\nok = r.feed != "residents"\n')
    assert len(feed_name_branches(path)) == 2
