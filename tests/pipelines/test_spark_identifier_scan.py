"""Identifiers in the wrong column are refused the same way by the DuckDB and Spark ingests.

One feed directory (the shared fixture's residents, spells and social care) with
identifiers planted where none belongs, ingested by both engines:

* hospital_spells.csv, ``spell_id``: a resident's NHS number (one value of 43, found
  exactly: the resident is in this run's residents feed);
* hospital_spells.csv, ``primary_diagnosis``: a resident's postcode (one value of 43);
* hospital_spells.csv, ``provider_code``: 15 of 43 values valid NHS numbers of nobody
  known (found by shape: over 20% of the column);
* social_care_services.csv, ``service_id``: a client's family name on the row holding
  her date of birth.

Both files must be refused whole, with equal findings (file, column, rule, message),
and the residents loaded on both.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import KEY, NHS, RESIDENTS, spells_rows, write_csv, write_feeds

from bettercare.data import nhs_numbers
from bettercare.data.ingest import ingest
from bettercare.data.schema import FEEDS

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KEY_B = KEY.encode()
SPELL_COLS = FEEDS["hospital_spells"].column_names
CARE_COLS = FEEDS["social_care_services"].column_names


def _valid_nhs_numbers(n: int) -> list[str]:
    """``n`` valid NHS numbers of nobody in the fixture (checked by the Python reference)."""
    found = []
    for k in range(1000, 10_000):
        candidate = f"943476{k:04d}"
        if nhs_numbers.is_valid(candidate) and candidate not in NHS:
            found.append(candidate)
        if len(found) == n:
            return found
    raise AssertionError("not enough valid numbers")


def _planted(directory: Path) -> Path:
    write_feeds(directory)
    rows = spells_rows()
    for k in range(40):  # 43 spells: one planted value is under 3% of a column
        row = list(rows[k % 3])
        row[SPELL_COLS.index("spell_id")] = f"SX{k:03d}"
        rows.append(row)
    rows[0][SPELL_COLS.index("spell_id")] = NHS[2]  # Mary Smith: no spell of her own
    rows[1][SPELL_COLS.index("primary_diagnosis")] = RESIDENTS[5][5]  # Arthur Brown's
    for i, number in enumerate(_valid_nhs_numbers(15)):
        rows[10 + i][SPELL_COLS.index("provider_code")] = number
    write_csv(directory / "hospital_spells.csv", SPELL_COLS, rows)
    care = [
        [cell for cell in row]
        for row in duckdb.read_csv(
            str(directory / "social_care_services.csv"), all_varchar=True
        ).fetchall()
    ]
    assert care[0][CARE_COLS.index("family_name")] == "Thompson"
    care[0][CARE_COLS.index("service_id")] = "Thompson"  # beside her date of birth
    write_csv(directory / "social_care_services.csv", CARE_COLS, care)
    return directory


def _rows(store: Path, table: str, spark: bool) -> int:
    if spark:
        return duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{store}/{table}/*.parquet')"
        ).fetchall()[0][0]
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def test_identifiers_in_the_wrong_column_are_refused_alike(tmp_path: Path) -> None:
    from bettercare.data.spark_ingest import ingest as ingest_on_spark

    feeds = _planted(tmp_path / "feeds")
    on_duckdb = tmp_path / "d" / "store.duckdb"
    a = ingest(feeds, on_duckdb, KEY_B)
    on_spark = tmp_path / "s" / "store.parquet"
    b = ingest_on_spark(str(feeds), str(on_spark), KEY_B)
    shown = [(i.file, i.row, i.column, i.rule, i.message) for i in a.file_issues]
    assert shown == [(i.file, i.row, i.column, i.rule, i.message) for i in b.file_issues]
    assert {(i.file, i.column, i.rule) for i in b.file_issues} == {
        ("hospital_spells.csv", "spell_id", "identifier_in_column"),
        ("hospital_spells.csv", "primary_diagnosis", "identifier_in_column"),
        ("hospital_spells.csv", "provider_code", "identifier_in_column"),
        ("social_care_services.csv", "service_id", "identifier_in_column"),
    }
    by_column = {i.column: i.message for i in b.file_issues}
    assert "(15 of 43 values)" in by_column["provider_code"]  # by shape
    assert "holds 1 value(s) equal to an identifier" in by_column["spell_id"]  # exactly
    status = {f.feed: f.status for f in b.feeds}
    assert status == {f.feed: f.status for f in a.feeds}
    assert status["hospital_spells"] == status["social_care_services"] == "rejected"
    assert status["residents"] == "loaded"
    for store, spark in ((on_duckdb, False), (on_spark, True)):
        assert _rows(store, "hospital_spells", spark) == 0  # nothing of a refused file
        assert _rows(store, "social_care_services", spark) == 0
        assert _rows(store, "residents", spark) == len(RESIDENTS)


def test_clean_files_pass_both_scans(tmp_path: Path) -> None:
    from bettercare.data.spark_ingest import ingest as ingest_on_spark

    feeds = write_feeds(tmp_path / "feeds")
    b = ingest_on_spark(str(feeds), str(tmp_path / "s" / "store.parquet"), KEY_B)
    assert b.file_issues == []
    assert {f.feed: f.status for f in b.feeds} == dict.fromkeys(
        ("opt_outs", "residents", "hospital_spells", "social_care_services"), "loaded"
    )
