"""Row rules over the staging table: every failing rule of a row, found once.

Hand-worked findings on a small reablement file: a row failing several rules gets one
finding per rule; a repeated key is a finding on each of its rows (with the first row);
rows whose key is empty are never duplicates of each other.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
from conftest import NHS

from bettercare.data.ingest.rules import row_issues_sql, staging_sql
from bettercare.data.schema import FEEDS

FEED = FEEDS["reablement_episodes"]
RUN = dt.date(2017, 6, 30)


def _staged(rows: list[tuple[str | None, ...]]) -> tuple[duckdb.DuckDBPyConnection, str]:
    """The rows (spreadsheet rows 2, 3, ...) staged; the findings' SQL."""
    cols = list(zip(*rows, strict=True))
    raw = pa.table(
        {
            **{c: pa.array(v, pa.string()) for c, v in zip(FEED.column_names, cols, strict=True)},
            "_row": pa.array(range(2, len(rows) + 2), pa.int64()),
        }
    )
    con = duckdb.connect()
    con.register("raw", raw)
    con.execute(f"CREATE TEMP TABLE stg AS {staging_sql(FEED, 'raw')}")
    return con, row_issues_sql(FEED, "stg", "reablement_episodes.csv", run_date=RUN)


def _findings(rows: list[tuple[str | None, ...]]) -> set[tuple[int, str, str, str]]:
    con, sql = _staged(rows)
    found = con.execute(f'SELECT "row", "column", rule, severity FROM ({sql})').fetchall()
    assert len(found) == len(set(found)), "a rule reported twice for one row"
    return set(found)


def test_every_failing_rule_of_a_row_once() -> None:
    rows = [
        # episode_id, nhs_number, spell_id, discharge_date, start_date, outcome_91_days
        ("E1", NHS[0], "S1", "2016-05-01", "2016-05-02", "at_home"),  # 2: good
        ("E2", NHS[1], None, "2016-05-10", "2016-05-01", "moved"),  # 3: two rules
        ("E3", "123", None, "2016-13-01", "2999-01-01", None),  # 4: five rules
        ("E4", NHS[2], None, "01/06/2016", "02/06/2016", "died"),  # 5: good (dd/mm/yyyy)
    ]
    assert _findings(rows) == {
        (3, "start_date", "start_before_discharge", "error"),
        (3, "outcome_91_days", "unknown_code", "error"),
        (4, "nhs_number", "nhs_number_format", "error"),
        (4, "discharge_date", "bad_date", "error"),
        (4, "start_date", "future_date", "error"),
        (4, "outcome_91_days", "required", "error"),
    }


def test_repeated_keys_and_empty_keys() -> None:
    good = (NHS[0], None, "2016-05-01", "2016-05-02", "at_home")
    rows = [
        ("E1", *good),  # 2
        ("E1", *good),  # 3: repeats row 2
        (None, *good),  # 4: no key
        (None, *good),  # 5: no key, not a duplicate of row 4
        ("E2", *good),  # 6
        ("E1", *good),  # 7: repeats row 2
    ]
    assert _findings(rows) == {
        (2, "episode_id", "duplicate_key", "error"),
        (3, "episode_id", "duplicate_key", "error"),
        (7, "episode_id", "duplicate_key", "error"),
        (4, "episode_id", "required", "error"),
        (5, "episode_id", "required", "error"),
    }


def test_duplicate_message_names_the_first_row() -> None:
    rows = [(e, NHS[0], None, "2016-05-01", "2016-05-02", "at_home") for e in ("E9", "E8", "E9")]
    con, sql = _staged(rows)
    messages = con.execute(f'SELECT "row", message, value FROM ({sql}) ORDER BY "row"').fetchall()
    assert messages == [
        (2, "episode_id is repeated: 2 rows share it (first on row 2)", "E9"),
        (4, "episode_id is repeated: 2 rows share it (first on row 2)", "E9"),
    ]
