"""Read BCF plan files (YAML) into :class:`~bettercare.domain.plan.Plan`.

Every problem is reported as a :class:`~bettercare.domain.findings.Finding` that names
the file, the line, the path inside the plan (``schemes[2].spend.2015/16``) and the
rule, so a commissioner can find and fix it in the file.

A plan file is untrusted input, so reading one is bounded ("bounded input"):
at most :data:`MAX_PLAN_BYTES`, nesting at most :data:`MAX_DEPTH` deep, at most
:data:`MAX_NODES` values with every use of a YAML alias counted in full (so a
"billion laughs" file is refused after a fixed amount of work, before it is expanded),
no alias inside the node it names, and integers of at most :data:`MAX_INTEGER_DIGITS`
digits. Dates stay text until the plan model checks them, so ``2014-02-30`` is a
located finding rather than an error inside the YAML library. A file is parsed once,
by libyaml where PyYAML was built with it.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.plan import Plan
from bettercare.domain.rules import check_plan
from bettercare.domain.text import printable
from bettercare.errors import BadInput

#: Real plans are tens of kilobytes; a file above this is refused before it is parsed.
MAX_PLAN_BYTES = 10 * 1024 * 1024
#: Plans nest about six levels deep (plan > metrics > planned > item > value).
MAX_DEPTH = 64
#: Values (scalars, lists, mappings) in a plan once aliases are expanded; a 6 MB plan of
#: 12,500 schemes has about 350,000.
MAX_NODES = 1_000_000
#: Longer integers are typing errors or attacks (Python refuses to convert over 4,300).
MAX_INTEGER_DIGITS = 100

# pydantic error types -> the rule a person reads
_RULES = {
    "extra_forbidden": "unknown-field",
    "missing": "required-field",
    "greater_than_equal": "out-of-range",
    "less_than_equal": "out-of-range",
    "greater_than": "out-of-range",
    "less_than": "out-of-range",
    "too_short": "length",
    "too_long": "length",
    "string_pattern_mismatch": "format",
    "enum": "code-list",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "date_parsing": "date",
    "date_type": "date",
    "plan_date": "date",
    "decimal_parsing": "number",
    "decimal_type": "number",
    "int_parsing": "number",
    "int_type": "number",
    "int_from_float": "number",
    "float_parsing": "number",
    "float_type": "number",
    "finite_number": "number",
    "bool_parsing": "boolean",
    "control_character": "control-character",
    "value_error": "value",
}


class PlanFileError(BadInput):
    """A plan file that cannot be read; ``findings`` says where and why."""

    def __init__(self, path: Path, findings: list[Finding]):
        self.path = path
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings))


class _LimitError(yaml.MarkedYAMLError, BadInput):
    """A plan file beyond one of the reading limits (or a number too long to read)."""

    def __init__(self, rule: str, problem: str, mark: Any, path: str = ""):
        super().__init__(problem=problem, problem_mark=mark)
        self.rule = rule
        self.message = problem
        self.line: int = mark.line + 1
        self.path = path


# libyaml scans and parses about ten times faster than PyYAML's pure-Python parser
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _Events(CParser):
        """libyaml's scanner and parser."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)

else:  # pragma: no cover - PyYAML built without libyaml
    # mypy only accepts one definition of a class; this one has the same interface
    class _Events(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser
    ):
        """PyYAML's pure-Python reader, scanner and parser."""

        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _PlanLoader(Composer, _Events, SafeConstructor, Resolver):
    """SafeLoader with the reading limits, unique mapping keys and dates kept as text.

    PyYAML's composer is used (not libyaml's) so that every node can be counted as it
    is built; libyaml still does the scanning and parsing.
    """

    def __init__(self, stream: str):
        _Events.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0  # with every alias counted as the nodes it stands for
        self._anchor_nodes: dict[str, int] = {}  # anchors whose node is complete
        self._path: list[Any] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node, counting it (and each alias in full) against the limits."""
        # The composer asks for a node only at a node event (alias, scalar or collection start).
        event = cast(NodeEvent, self.peek_event())
        if isinstance(event, AliasEvent) and event.anchor is not None:  # an alias names one
            if event.anchor in self.anchors and event.anchor not in self._anchor_nodes:
                raise _LimitError(
                    "yaml-alias",
                    f"alias *{event.anchor} is used inside the node &{event.anchor} it names",
                    event.start_mark,
                )
            self._count(self._anchor_nodes.get(event.anchor, 0), event)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitError(
                "nesting-depth", f"nested more than {MAX_DEPTH} levels deep", event.start_mark
            )
        before = self._nodes
        self._count(1, event)
        key = index.value if isinstance(index, ScalarNode) else index
        self._path.append(key if isinstance(key, str | int) else None)
        node = super().compose_node(parent, index)
        if (
            node is not None
            and node.tag == "tag:yaml.org,2002:int"
            and len(node.value) > MAX_INTEGER_DIGITS
        ):
            raise _LimitError(
                "number",
                f"a number of {len(node.value):,} digits is too "
                f"large to be a plan figure (at most {MAX_INTEGER_DIGITS})",
                node.start_mark,
                format_path(tuple(p for p in self._path if p is not None)),
            )
        self._path.pop()
        self._depth -= 1
        if event.anchor is not None:
            self._anchor_nodes[event.anchor] = self._nodes - before
        return node

    def _count(self, nodes: int, event: Any) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise _LimitError(
                "node-count",
                f"more than {MAX_NODES:,} values once aliases are expanded (the limit for a "
                f"plan file; aliases count in full each time they are used)",
                event.start_mark,
            )


def _construct_mapping(
    loader: _PlanLoader, node: MappingNode, deep: bool = False
) -> dict[Hashable, Any]:
    """Refuse duplicate mapping keys (PyYAML silently keeps the last).

    A merge key (``<<: *defaults``) is left to PyYAML, which lets the mapping's own keys
    override the merged ones.
    """
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise ConstructorError(
                None, None, "a mapping key must be a single value", key_node.start_mark
            )
        if key in seen:
            msg = f"duplicate key '{key}' (first at line {seen[key]})"
            raise ConstructorError(None, None, msg, key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


# types-PyYAML binds a constructor's loader to PyYAML's own loader classes, not subclasses
_PlanLoader.add_constructor(Resolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[type-var]
# dates stay text: the plan model checks them and says which field holds a bad one
_PlanLoader.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str
)


class PlanLines:
    """The line each path of a plan file starts on (1-based), looked up on demand."""

    def __init__(self, root: Node | None):
        self._root = root
        self._keys: dict[int, dict[str, tuple[Node, Node]]] = {}

    def line(self, loc: tuple[str | int, ...]) -> int | None:
        """Line of the deepest part of ``loc`` found in the file (a key's line for a key)."""
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, MappingNode):
                entry = self._mapping(node).get(str(part))
                if entry is None:
                    break
                line = entry[0].start_mark.line + 1
                node = entry[1]
            elif (
                isinstance(node, SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def _mapping(self, node: MappingNode) -> dict[str, tuple[Node, Node]]:
        keys = self._keys.get(id(node))
        if keys is None:
            keys = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode):
                    keys.setdefault(key_node.value, (key_node, value_node))
            self._keys[id(node)] = keys
        return keys


def _one_line(text: str) -> str:
    """Text from a file made safe for a one-line finding (control characters escaped)."""
    return printable(text).replace("\n", "\\n").replace("\t", " ")


def _error(
    path: Path, rule: str, message: str, line: int | None = None, where: str = ""
) -> PlanFileError:
    finding = Finding(
        rule, Severity.ERROR, _one_line(where), _one_line(message), _one_line(str(path)), line
    )
    return PlanFileError(path, [finding])


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise _error(path, "file", f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise _error(
            path,
            "file-size",
            f"the file is larger than {MAX_PLAN_BYTES // 2**20} MB, "
            "the limit for a plan file (real plans are tens of kilobytes)",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _error(
            path,
            "file",
            f"cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start:,})",
            line,
        ) from None


def _parse(path: Path, text: str) -> tuple[Any, PlanLines]:
    """The file's data and where each path starts; every YAML problem as a finding."""
    loader = None
    try:
        loader = _PlanLoader(text)  # PyYAML's own reader checks the characters here
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except _LimitError as exc:
        raise _error(path, exc.rule, exc.message, exc.line, exc.path) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
        raise _error(
            path, "yaml-syntax", f"not valid YAML: {exc.reason} (character {exc.character!r})", line
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        line = mark.line + 1 if mark else None
        rule = "nesting-depth" if "nesting depth" in problem else "yaml-syntax"  # libyaml's
        raise _error(path, rule, f"not valid YAML: {problem}", line) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, PlanLines(root)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a plan's objects are built.

    Building hundreds of thousands of nodes, values and models that all stay alive sets
    the collector off again and again: more than half the time of reading a 6 MB plan.
    They hold no reference cycles to collect (an alias inside its own node is refused).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def format_path(loc: tuple[str | int, ...]) -> str:
    """The plan path of ``loc`` as findings show it (``schemes[2].spend.2015/16``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# pydantic's names for validation steps in an error location: 'function-after[...]'
_MARKER = re.compile(r"[a-z][a-z-]*\[.*\]\Z")


def _validation_findings(exc: ValidationError, path: Path, lines: PlanLines) -> list[Finding]:
    findings = []
    for err in exc.errors():
        # drop pydantic's internal markers such as 'function-after[...]' from the location
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and _MARKER.match(p)))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown field '{loc[-1]}'"
        findings.append(
            Finding(
                rule=_RULES.get(err["type"], err["type"]),
                severity=Severity.ERROR,
                path=_one_line(format_path(loc)),
                message=_one_line(msg),
                file=_one_line(str(path)),
                line=lines.line(loc),
            )
        )
    return findings


def validation_findings(exc: ValidationError) -> list[Finding]:
    """A plan model's validation errors as findings (rule, plan path, message), no file.

    The same rule names and wording as for a plan file, for input that came from
    elsewhere (the web app's forms).
    """
    return [f.located(None, None) for f in _validation_findings(exc, Path(""), PlanLines(None))]


def read_yaml(path: str | Path) -> Any:
    """Any YAML file (e.g. synth parameters) read under the plan file limits.

    Size, nesting depth, node count (aliases counted in full) and integer size are bounded
    as for plans; a problem raises :class:`PlanFileError` with a located finding.
    """
    path = Path(path)
    with _collector_paused():
        data, _ = _parse(path, _read_text(path))
    return data


def load_plan_with_lines(path: str | Path) -> tuple[Plan, PlanLines]:
    """Read and validate one plan file, with where each path starts to locate findings.

    Raises :class:`PlanFileError` on any problem, including a file beyond the limits.
    """
    path = Path(path)
    text = _read_text(path)
    with _collector_paused():
        data, lines = _parse(path, text)
        if not isinstance(data, dict):
            msg = "a plan file must be a YAML mapping (plan_id:, hwb:, ...)"
            raise _error(path, "plan-structure", msg, 1)
        try:
            return Plan.model_validate(data), lines
        except ValidationError as exc:
            raise PlanFileError(path, _validation_findings(exc, path, lines)) from None


def load_plan(path: str | Path) -> Plan:
    """Read and validate one plan file; raise :class:`PlanFileError` on any problem."""
    return load_plan_with_lines(path)[0]


def validate_plan_file(path: str | Path) -> tuple[Plan | None, list[Finding]]:
    """Load one plan file and check it against the planning rules.

    The one use case behind ``bettercare plan validate`` and ``bettercare demo``: the plan
    (None when the file cannot be read or does not fit the models) and every finding,
    each carrying file and line.
    """
    path = Path(path)
    try:
        plan, lines = load_plan_with_lines(path)
    except PlanFileError as exc:
        return None, exc.findings
    return plan, locate(check_plan(plan), path, lines)


def plan_line_index(path: str | Path) -> PlanLines:
    """Where each path of a plan file starts, to locate rule findings (bounded read)."""
    path = Path(path)
    return _parse(path, _read_text(path))[1]


def locate(findings: list[Finding], path: str | Path, lines: PlanLines) -> list[Finding]:
    """Attach file and line to findings whose ``path`` is a plan path string."""
    file = _one_line(str(path))
    return [f.located(file, lines.line(parse_path(f.path))) for f in findings]


def parse_path(text: str) -> tuple[str | int, ...]:
    """Inverse of :func:`format_path` (``schemes[2].spend.2015/16``)."""
    parts: list[str | int] = []
    for chunk in text.replace("[", ".[").split("."):
        if not chunk:
            continue
        if chunk.startswith("[") and chunk.endswith("]"):
            parts.append(int(chunk[1:-1]))
        else:
            parts.append(chunk)
    return tuple(parts)


def plan_json_schema() -> str:
    """The JSON Schema of plan files, exported from the pydantic models."""
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Better Care Fund plan (bettercare)"
    return json.dumps(schema, indent=2)
