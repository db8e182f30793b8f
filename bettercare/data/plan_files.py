"""Read BCF plan files (YAML) into :class:`~bettercare.domain.plan.Plan`.

Every problem is reported as a :class:`~bettercare.domain.findings.Finding` that names
the file, the line, the path inside the plan (``schemes[2].spend.2015/16``) and the
rule, so a commissioner can find and fix it in the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.plan import Plan

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
    "date_parsing": "date",
    "date_type": "date",
    "decimal_parsing": "number",
    "decimal_type": "number",
    "int_parsing": "number",
    "int_type": "number",
    "float_parsing": "number",
    "float_type": "number",
    "bool_parsing": "boolean",
    "value_error": "value",
}


class PlanFileError(Exception):
    """A plan file that cannot be read; ``findings`` says where and why."""

    def __init__(self, path: Path, findings: list[Finding]):
        self.path = path
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            msg = f"duplicate key '{key}' (first at line {seen[key]})"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _line_index(node: yaml.Node | None, path: tuple = (), index: dict | None = None) -> dict:
    """Map every path in the YAML document to the (1-based) line it starts on."""
    index = {} if index is None else index
    if node is None:
        return index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            index[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), index)
            index[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)
    return index


def format_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_for(loc: tuple, index: dict) -> int | None:
    for n in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:n])
        if key in index:
            return index[key]
    return None


def _validation_findings(exc: ValidationError, path: Path, index: dict) -> list[Finding]:
    findings = []
    for err in exc.errors():
        # drop pydantic's internal markers such as 'function-after[...]' from the location
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown field '{loc[-1]}'"
        findings.append(
            Finding(
                rule=_RULES.get(err["type"], err["type"]),
                severity=Severity.ERROR,
                path=format_path(loc),
                message=msg,
                file=str(path),
                line=_line_for(loc, index),
            )
        )
    return findings


def load_plan(path: str | Path) -> Plan:
    """Read and validate one plan file; raise :class:`PlanFileError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(
            path, [Finding("file", Severity.ERROR, "", f"cannot read file: {exc}", str(path))]
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
        index = _line_index(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise PlanFileError(
            path, [Finding("yaml-syntax", Severity.ERROR, "", f"not valid YAML: {problem}",
                           str(path), line)]
        ) from None
    if not isinstance(data, dict):
        msg = "a plan file must be a YAML mapping (plan_id:, hwb:, ...)"
        raise PlanFileError(
            path, [Finding("plan-structure", Severity.ERROR, "", msg, str(path), 1)]
        )
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(path, _validation_findings(exc, path, index)) from None


def plan_line_index(path: str | Path) -> dict:
    """Line numbers of every path in a (readable) plan file, to locate rule findings."""
    return _line_index(yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader))


def locate(findings: list[Finding], path: str | Path, index: dict) -> list[Finding]:
    """Attach file and line to findings whose ``path`` is a plan path string."""
    return [f.located(str(path), _line_for(parse_path(f.path), index)) for f in findings]


def parse_path(text: str) -> tuple:
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
