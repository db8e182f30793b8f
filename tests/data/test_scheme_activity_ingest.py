"""Ingesting ``scheme_activity``: rows per board, a scheme known by board and reference.

Two boards may both have a scheme ``S1``; one board's file replaces that board's months
only; a store whose table predates the ``hwb_code`` column is not added to (rejected,
naming the table) unless ``--replace`` replaces its old rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from conftest import KEY, table_rows, write_csv

from bettercare.data.ingest import ingest
from bettercare.data.schema import FEEDS

A, B = "E10000018", "E06000016"
COLS = FEEDS["scheme_activity"].column_names
APR, MAY = dt.date(2016, 4, 1), dt.date(2016, 5, 1)


def _load(tmp_path: Path, name: str, rows: list[list[object]], store: Path, **kw: object):
    folder = tmp_path / name
    folder.mkdir()
    write_csv(folder / "scheme_activity.csv", COLS, rows)
    return ingest(folder, store, KEY.encode(), **kw)  # type: ignore[arg-type]


def test_the_same_scheme_reference_in_two_boards_is_two_schemes(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    result = _load(
        tmp_path,
        "both",
        [
            [A, "S1", "2016-04-01", 3],
            [B, "S1", "2016-04-01", 8],  # not a repeat of A's S1
            [B, "S1", "2016-04-01", 9],  # a repeat of B's S1 in April
            ["E1000018", "S1", "2016-04-01", 1],  # not an ONS HWB code
        ],
        store,
    )
    counts = {(rule, sev): n for (_, rule, sev), n in result.issue_counts.items()}
    assert counts == {("duplicate_key", "error"): 2, ("pattern", "error"): 1}, counts
    assert table_rows(store, "scheme_activity") == [(A, "S1", APR, 3)]


def test_one_boards_file_leaves_the_other_boards_months(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    first = _load(tmp_path, "a", [[A, "S1", "2016-04-01", 3], [A, "S2", "2016-04-01", 4]], store)
    assert first.outcome == "loaded"
    # B's file for the same month: A's April rows stay
    second = _load(tmp_path, "b", [[B, "S1", "2016-04-01", 8]], store)
    assert second.outcome == "loaded", second.file_issues
    assert table_rows(store, "scheme_activity") == [
        (B, "S1", APR, 8),
        (A, "S1", APR, 3),
        (A, "S2", APR, 4),
    ]
    # A's April again, now one scheme fewer: refused for A (nothing lost silently) ...
    third = _load(tmp_path, "a2", [[A, "S1", "2016-04-01", 5]], store)
    assert third.outcome == "rejected"
    (issue,) = third.file_issues
    assert issue.rule == "fewer_rows_than_loaded"
    assert f"scheme_activity {A} 2016-04: 2 rows loaded, 1 in this file" in issue.message
    # ... and with replace it replaces A's April only
    fourth = _load(tmp_path, "a3", [[A, "S1", "2016-04-01", 5]], store, replace=True)
    assert fourth.outcome == "loaded"
    assert table_rows(store, "scheme_activity") == [(B, "S1", APR, 8), (A, "S1", APR, 5)]


def _old_store(store: Path) -> None:
    """A store whose scheme_activity was written before the feed carried the HWB code."""
    con = duckdb.connect(str(store))
    try:
        con.execute(
            "CREATE TABLE scheme_activity (scheme_reference VARCHAR NOT NULL, "
            "month DATE NOT NULL, admissions_avoided INTEGER NOT NULL)"
        )
        con.execute("INSERT INTO scheme_activity VALUES ('S1', DATE '2016-04-01', 3)")
        con.execute("INSERT INTO scheme_activity VALUES ('S1', DATE '2016-05-01', 4)")
    finally:
        con.close()


def test_a_table_from_before_the_hwb_code_is_not_added_to(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    _old_store(store)
    result = _load(tmp_path, "new", [[A, "S1", "2016-04-01", 5]], store)
    assert result.outcome == "rejected"
    (issue,) = result.file_issues
    assert issue.rule == "store_table_outdated"
    for part in ("scheme_activity", "hwb_code", "2 rows", "--replace", "nothing of it loaded"):
        assert part in issue.message, issue.message
    assert table_rows(store, "scheme_activity") == [("S1", APR, 3), ("S1", MAY, 4)]


def test_replace_swaps_the_old_rows_for_the_files(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    _old_store(store)
    result = _load(tmp_path, "new", [[A, "S1", "2016-04-01", 5]], store, replace=True)
    assert result.outcome == "loaded", result.file_issues
    assert table_rows(store, "scheme_activity") == [(A, "S1", APR, 5)]
