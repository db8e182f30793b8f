"""Data flows one way: domain -> data -> analytics -> reporting -> pipelines -> services
-> app / cli.

A lower layer never imports a higher one; inside a layer, a few rules keep each room to
its job (:data:`ROOM_RULES`); no two modules and no two sub-packages import each other,
directly or round a loop (:func:`module_cycles`, :func:`unit_cycles`). Every import a
module can make is checked: ``import bettercare.cli``, ``from bettercare import cli``,
relative imports (``from ..cli import x``), imports inside functions, and
``importlib.import_module`` with a literal name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "bettercare"
# what each layer may NOT import; app (the web server) sits beside cli, which may start it
FORBIDDEN = {
    "domain": ["data", "analytics", "reporting", "pipelines", "services", "app", "cli"],
    "data": ["analytics", "reporting", "pipelines", "services", "app", "cli"],
    "analytics": ["reporting", "pipelines", "services", "app", "cli"],
    "reporting": ["pipelines", "services", "app", "cli"],
    "pipelines": ["services", "app", "cli"],
    "services": ["app", "cli"],
    "app": ["cli"],
}


def _module_name(path: Path, root: Path) -> list[str]:
    """Dotted module parts of ``path`` inside the package at ``root`` (``bettercare.x.y``)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                inside |= {id(n) for n in ast.walk(stmt)}
    return inside


def imported_modules(
    path: Path, root: Path = PACKAGE, *, skip_type_checking: bool = False
) -> list[str]:
    """Every absolute module name ``path`` may import, wherever the statement stands.

    ``skip_type_checking``: leave out imports under ``if TYPE_CHECKING:`` (never run).
    """
    here = _module_name(path, root)
    is_package = path.name == "__init__.py"
    names: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree) if skip_type_checking else set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
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


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class RoomRule:
    """Modules under ``inside`` (dotted, without the root) import nothing under ``not_``,
    except the modules under ``allowed``."""

    why: str
    inside: tuple[str, ...]
    not_: tuple[str, ...]
    allowed: tuple[str, ...] = ()


ROOM_RULES = [
    RoomRule(
        "national readers share the reading primitives (data.feed_files), not the ingest",
        inside=("data.national",),
        not_=("data.ingest",),
    ),
    RoomRule(
        "the synthetic generator is used by compositions (pipelines), its own command and "
        "the demo's command, never by production code",
        inside=("",),
        not_=("data.synth",),
        allowed=(
            "data.synth",
            "pipelines",
            "cli.synth",
            "cli.demo",
        ),
    ),
    RoomRule(
        "the app's core imports no page module (main.py wires the routers)",
        inside=("app",),
        not_=("app.pages",),
        allowed=(
            "app.pages",
            "app.main",
            "app.api",
            "app.fhir",
        ),
    ),
]


def _dotted(path: Path, root: Path) -> str:
    """``path``'s module name inside the package, without the root (``data.ingest.read``)."""
    return ".".join(_module_name(path, root)[1:])


def room_violations(root: Path, rule: RoomRule) -> list[tuple[str, str]]:
    """(module, imported module) pairs under ``root`` that break ``rule``."""
    found = []
    forbidden = tuple(f"{root.name}.{n}" for n in rule.not_)
    for path in sorted(root.rglob("*.py")):
        here = _dotted(path, root)
        inside = any(here == p or here.startswith(p + ".") or p == "" for p in rule.inside)
        if not inside or (rule.allowed and _within(here, rule.allowed)):
            continue
        found += [(here, n) for n in imported_modules(path, root) if _within(n, forbidden)]
    return found


def module_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the package under ``root`` -> the package modules it imports.

    Imports inside functions count; imports only for type checkers (under
    ``if TYPE_CHECKING:``) do not, as they never run. ``from pkg import name`` is an edge
    to ``pkg.name`` when that is a module, else to ``pkg``; importing one's own enclosing
    package is not an edge (it is already loaded).
    """
    paths = {".".join(_module_name(p, root)): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        edges = set()
        for name in imported_modules(path, root, skip_type_checking=True):
            while name and name not in paths:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                edges.add(name)
        graph[module] = edges
    return graph


def unit_of(module: str, root: Path) -> str:
    """The sub-package ``module`` belongs to: ``root.<layer>.<sub>`` when that is a
    package, else ``root.<layer>`` (a layer's own modules are one unit)."""
    parts = module.split(".")
    for n in (3, 2):
        folder = root.joinpath(*parts[1:n])
        if len(parts) >= n and folder.is_dir() and (folder / "__init__.py").exists():
            return ".".join(parts[:n])
    return ".".join(parts[:2])


def unit_graph(root: Path) -> dict[str, set[str]]:
    """Sub-package -> the sub-packages its modules import.

    A package's ``main.py`` importing its own sub-packages (an app factory wiring its
    routers) is composition, not a dependency back.
    """
    graph: dict[str, set[str]] = {}
    for module, edges in module_graph(root).items():
        here = unit_of(module, root)
        package = module.rpartition(".")[0]
        for other in edges:
            wiring = module.endswith(".main") and other.startswith(package + ".")
            there = unit_of(other, root)
            if there != here and not wiring:
                graph.setdefault(here, set()).add(there)
        graph.setdefault(here, set())
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def module_cycles(root: Path = PACKAGE) -> list[list[str]]:
    """Groups of modules that import each other (directly or round a loop)."""
    return cycles(module_graph(root))


def unit_cycles(root: Path = PACKAGE) -> list[list[str]]:
    """Groups of sub-packages that import each other (directly or round a loop)."""
    return cycles(unit_graph(root))


#: Cycles known and accepted: none.
KNOWN_MODULE_CYCLES: list[list[str]] = []
KNOWN_UNIT_CYCLES: list[list[str]] = []


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


@pytest.mark.parametrize("rule", ROOM_RULES, ids=lambda r: r.not_[0])
def test_each_room_keeps_to_its_job(rule):
    assert room_violations(PACKAGE, rule) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A synthetic package ``bettercare`` under ``tmp_path`` with these files (and every
    folder's ``__init__.py``)."""
    root = tmp_path / "bettercare"
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return root


@pytest.mark.parametrize(
    ("rule_index", "files", "culprit"),
    [
        (0, {"data/national/apc.py": "from bettercare.data.ingest.read import Issue\n"}, "apc"),
        (
            0,
            {"data/national/x.py": "def f():\n    from ..ingest import read\n"},
            "data.national.x",
        ),
        (1, {"analytics/pipeline.py": "from bettercare.data.synth import generate\n"}, "analytics"),
        (1, {"app/store.py": "def f():\n    import bettercare.data.synth.presets\n"}, "app.store"),
        (2, {"app/audit.py": "from bettercare.app.pages import metrics\n"}, "app.audit"),
    ],
)
def test_a_room_rule_catches_what_it_forbids(tmp_path, rule_index, files, culprit):
    root = _tree(tmp_path, files)
    found = room_violations(root, ROOM_RULES[rule_index])
    assert found and culprit in found[0][0]


def test_the_room_rules_allow_their_exceptions(tmp_path):
    root = _tree(
        tmp_path,
        {
            "pipelines/synthetic.py": "from bettercare.data.synth import generate\n",
            "data/synth/presets.py": "from bettercare.data.synth import params\n",
            "app/main.py": "from bettercare.app.pages import metrics\n",
            "data/national/apc.py": "from bettercare.data.feed_files import Issue\n",
        },
    )
    assert [v for rule in ROOM_RULES for v in room_violations(root, rule)] == []


def test_no_import_cycles_between_modules():
    assert [c for c in module_cycles() if c not in KNOWN_MODULE_CYCLES] == []


def test_no_import_cycles_between_sub_packages():
    assert [c for c in unit_cycles() if c not in KNOWN_UNIT_CYCLES] == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # direct, one side inside a function (a "hidden" cycle)
            {
                "data/a.py": "from bettercare.data import b\n",
                "data/b.py": "def f():\n    from bettercare.data.a import x\n",
            },
            [["bettercare.data.a", "bettercare.data.b"]],
        ),
        (  # round a loop of three, with a relative import
            {
                "data/a.py": "from . import b\n",
                "data/b.py": "import bettercare.data.c\n",
                "data/c.py": "import importlib\nimportlib.import_module('bettercare.data.a')\n",
            },
            [["bettercare.data.a", "bettercare.data.b", "bettercare.data.c"]],
        ),
    ],
)
def test_the_module_cycle_check_finds_a_cycle(tmp_path, files, expected):
    assert module_cycles(_tree(tmp_path, files)) == expected


def test_the_sub_package_cycle_check_finds_a_cycle(tmp_path):
    root = _tree(
        tmp_path,
        {
            "data/national/apc.py": "from bettercare.data.ingest.read import Issue\n",
            "data/ingest/read.py": "def f():\n    from bettercare.data.national import apc\n",
        },
    )
    assert unit_cycles(root) == [["bettercare.data.ingest", "bettercare.data.national"]]
    # no module cycle: the loop runs through the two sub-packages only
    assert module_cycles(root) == [["bettercare.data.ingest.read", "bettercare.data.national.apc"]]


def test_the_cycle_checks_pass_acyclic_code_and_allowed_shapes(tmp_path):
    root = _tree(
        tmp_path,
        {
            "data/a.py": "from bettercare.data import b\n",
            "data/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from bettercare.data.a import x\n",
            "app/main.py": "from bettercare.app.pages import home\n",
            "app/pages/home.py": "from bettercare.app import security\n",
            "app/security.py": "import json\n",
            "data/synth/gen.py": "from bettercare.data.synth import params\n",
            "data/synth/params.py": "from bettercare.data import a\n",
        },
    )
    assert module_cycles(root) == []
    assert unit_cycles(root) == []


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


def print_calls(path: Path) -> list[str]:
    """Calls of the builtin ``print`` in ``path`` (library code logs instead)."""
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]


def test_library_code_does_not_print():
    """Only the command line prints; library code uses logging (configured once)."""
    bad = {
        str(p.relative_to(PACKAGE)): calls
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.relative_to(PACKAGE).parts[0] != "cli" and (calls := print_calls(p))
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
        ("def f(x):\n    print('loaded', x)\n", print_calls),
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
    assert print_calls(tmp_path / "ok.py") == ["print(sys.argv)"]  # found, as it should be


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
