"""National code lists read by :mod:`bettercare.data.national`, as data with a citation.

Each list is a :class:`CodeList`: the national codes we read, the label, the internal
(``bettercare.data.schema``) value each maps onto, and whether the code is retired (a
retired code still maps, with a warning). A code not in the list is an unknown code:
its row is quarantined naming the field and the code. Only codes confirmed against the
cited source are listed; where a list could not be confirmed the module says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One national code: its label, the internal value it maps to, retired or not."""

    code: str
    label: str
    internal: str | None  # None: read as an empty value (e.g. "not applicable")
    retired: bool = False


@dataclass(frozen=True)
class CodeList:
    """A national code list with its source, version and codes."""

    name: str
    source: str  # citation: the page the codes were confirmed against
    version: str
    codes: tuple[Code, ...]

    def lookup(self) -> dict[str, Code]:
        """Return the codes by their code value."""
        return {c.code: c for c in self.codes}

    def internal_to_national(self) -> dict[str, str]:
        """Return, for writing, the first current (not retired) code of each internal value."""
        out: dict[str, str] = {}
        for c in self.codes:
            if c.internal is not None and not c.retired:
                out.setdefault(c.internal, c.code)
        return out
