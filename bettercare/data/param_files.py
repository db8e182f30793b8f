"""Parameter files (JSON or YAML) read safely into a mapping, with one-line errors.

Shared by the synthetic generator's parameters and the models' configurations
(``bettercare model``): YAML goes through the plan files' bounded reader; a validation
error is told in one line naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bettercare.data.plan_files import MAX_PLAN_BYTES, PlanFileError, read_yaml
from bettercare.errors import BadInput


class ParamsError(BadInput):
    """A parameters file could not be read or validated; ``str()`` is one line."""


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line: ``source: field.path: message (got value)`` for the first error(s)."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(document)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        got = err.get("input")
        got_s = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        parts.append(f"{loc}: {msg}{got_s}")
    more = len(exc.errors()) - 3
    tail = f" (+{more} more)" if more > 0 else ""
    return f"{source}: " + "; ".join(parts) + tail


def read_params_file(path: Path) -> dict[str, Any]:
    """Parse a JSON (``.json``) or YAML file into a mapping; :class:`ParamsError` if not.

    YAML goes through the plan files' bounded reader (size, depth, aliases, huge integers).
    """
    if path.suffix.lower() != ".json":
        try:
            data = read_yaml(path)
        except PlanFileError as exc:
            raise ParamsError("; ".join(str(f) for f in exc.findings)) from None
    else:
        try:
            raw = path.read_bytes()
            if len(raw) > MAX_PLAN_BYTES:
                raise ParamsError(f"{path}: larger than {MAX_PLAN_BYTES // 2**20} MB")
            data = json.loads(raw.decode("utf-8"))
        except OSError as exc:
            raise ParamsError(f"{path}: cannot read ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ParamsError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            # ValueError: an integer beyond Python's digit limit; RecursionError: deep nesting
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise ParamsError(f"{path}: invalid JSON: {reason}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of parameters, got {type(data).__name__}")
    return data
