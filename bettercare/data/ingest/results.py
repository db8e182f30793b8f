"""What an ingest run returns: per-file results, the run's result and its exit code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bettercare.data.ingest.read import Issue

Progress = Callable[[str, int, int], None]


class UsageError(Exception):
    """A problem with the command's inputs (exit code 2)."""


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
    def exit_code(self) -> int:
        """0 all loaded, 1 rows quarantined, 2 a file rejected or unusable."""
        if self.file_issues:
            return 2
        return 1 if any(f.rows_quarantined for f in self.feeds) else 0
