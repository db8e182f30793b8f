"""Findings of a run: collected in a TEMP table, counted, written to ``ingest_report.csv``."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from bettercare.data import safe_csv
from bettercare.data.ingest.read import Issue

REPORT_NAME = "ingest_report.csv"

ISSUE_COLS = (
    'file VARCHAR, "row" BIGINT, "column" VARCHAR, rule VARCHAR, severity VARCHAR, '
    "message VARCHAR, value VARCHAR"
)


def insert_issue(con: duckdb.DuckDBPyConnection, issue: Issue) -> None:
    """Record one finding in the run's ``run_issues`` table."""
    con.execute(
        "INSERT INTO run_issues VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            issue.file,
            issue.row,
            issue.column,
            issue.rule,
            issue.severity,
            issue.message,
            issue.value,
        ],
    )


def issue_counts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], int]:
    """Number of findings per (file, rule, severity) in this run."""
    rows = con.execute(
        "SELECT file, rule, severity, count(*) FROM run_issues GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return {(f, r, s): n for f, r, s, n in rows}


def write_report(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """Write the run's findings to ``path`` (CSV, mode 0600 whatever the umask)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)
    sql = 'SELECT * FROM run_issues ORDER BY file, "row" NULLS FIRST, "column", rule'
    safe_csv.copy_to_csv(con, sql, path)  # cells starting = + - @ escaped
    os.chmod(path, 0o600)
    return path
