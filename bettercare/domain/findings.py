"""Findings: what a check says about a plan or a file, located precisely."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a finding matters to the assurer."""

    ERROR = "error"  # the plan would not be assured / the input cannot be used
    WARNING = "warning"  # needs attention or explanation, does not block


@dataclass(frozen=True)
class Finding:
    """One problem found in a plan or an input file: rule, severity, where and what."""

    rule: str
    severity: Severity
    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def located(self, file: str | None, line: int | None) -> Finding:
        """This finding with the file and line it was found at."""
        return Finding(self.rule, self.severity, self.path, self.message, file, line)

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        where = f"{where}: " if where else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message} [{self.severity}: {self.rule}]"
