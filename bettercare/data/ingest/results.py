"""What an ingest run returns: per-file results and the run's outcome.

Owns the result types and the outcome of a run (loaded / quarantined / rejected); not
what the command line makes of it (the exit codes live in :mod:`bettercare.cli.ingest`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bettercare.data.ingest.read import Issue
from bettercare.errors import BadInput

Progress = Callable[[str, int, int], None]

#: How a run ended: everything loaded; loaded with some rows quarantined; a file rejected
#: whole (nothing of it loaded).
Outcome = Literal["loaded", "quarantined", "rejected"]


class UsageError(BadInput):
    """A problem with the run's inputs (directory, key, store): nothing was loaded."""


@dataclass
class FeedResult:
    """What happened to one feed file in an ingest: loaded or rejected, and row counts."""

    feed: str
    file: str
    status: str  # loaded | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_opted_out: int = 0
    warnings: int = 0
    periods: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    """The outcome of one ingest run: per-feed results, findings and linkage figures."""

    run_id: str
    feeds: list[FeedResult]
    file_issues: list[Issue]
    issue_counts: dict[tuple[str, str, str], int]  # (file, rule, severity) -> rows
    linkage: dict[str, float]
    report_path: Path | None
    seconds: float

    @property
    def outcome(self) -> Outcome:
        """``rejected`` if a file was rejected whole, else ``quarantined`` if any row was."""
        if self.file_issues:
            return "rejected"
        return "quarantined" if any(f.rows_quarantined for f in self.feeds) else "loaded"
