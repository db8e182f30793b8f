"""Data minimisation: the store keeps the month of birth, not the date;
the full date of birth stays in the run's TEMP tables (linkage) and the identity file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import ibis
import pytest
from conftest import KEY, RESIDENTS, table_rows

from bettercare.analytics.metrics.base import age_on
from bettercare.data import identities
from bettercare.data.ingest import ingest
from bettercare.data.ingest.rules import t
from bettercare.data.schema import (
    FEEDS,
    STORE_TABLES,
    create_store_tables,
    store_columns,
    store_ddl,
    store_value_sql,
)


def test_no_store_table_has_a_date_of_birth() -> None:
    for table in STORE_TABLES:
        assert "date_of_birth" not in store_ddl(table)
    for feed in ("residents", "social_care_services"):
        names = [c.name for c in store_columns(FEEDS[feed])]
        assert "birth_month" in names and "date_of_birth" not in names


def test_birth_month_is_the_first_of_the_month() -> None:
    expr = store_value_sql(FEEDS["residents"], "birth_month", t)
    assert expr == "CAST(date_trunc('month', date_of_birth__t) AS DATE)"
    con = duckdb.connect()
    got = con.execute(
        f"SELECT {expr} FROM (VALUES (DATE '1951-10-10'), (DATE '2000-02-29'), (NULL)) "
        "v(date_of_birth__t)"
    ).fetchall()
    assert got == [(date(1951, 10, 1),), (date(2000, 2, 1),), (None,)]
    # other columns are copied as they are
    assert store_value_sql(FEEDS["residents"], "sex", t) == "sex"
    assert store_value_sql(FEEDS["residents"], "date_of_death", t) == "date_of_death__t"


@pytest.mark.parametrize(
    ("birth_month", "on", "age"),
    [
        (date(1951, 10, 1), date(2016, 9, 30), 64),  # the month before: still 64
        (date(1951, 10, 1), date(2016, 10, 1), 65),  # from the 1st of the birth month
        (date(1951, 10, 1), date(2016, 10, 9), 65),  # really 64 if born on the 10th: the
        # documented maximum error (one year, in the birth month only)
        (date(1951, 10, 1), date(2016, 11, 1), 65),
        (date(1951, 1, 1), date(2016, 12, 31), 65),
        (date(1951, 12, 1), date(2016, 1, 1), 64),
    ],
)
def test_age_from_birth_month_hand_worked(birth_month: date, on: date, age: int) -> None:
    tbl = ibis.memtable({"b": [birth_month], "d": [on]})
    con = ibis.duckdb.connect()
    assert con.execute(tbl.select(a=age_on(tbl.b, tbl.d))).a.tolist() == [age]


def test_a_store_written_before_minimisation_is_minimised(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute(
        "CREATE TABLE residents (person_id VARCHAR NOT NULL, date_of_birth DATE NOT NULL, "
        "sex VARCHAR NOT NULL, lsoa VARCHAR NOT NULL, gp_practice VARCHAR NOT NULL, "
        "hwb_code VARCHAR NOT NULL, imd_decile INTEGER NOT NULL, ltc_count INTEGER NOT NULL, "
        "dementia_diagnosis BOOLEAN NOT NULL, date_of_death DATE, dementia_diagnosis_date DATE)"
    )
    con.execute(
        "INSERT INTO residents VALUES ('p1', DATE '1940-03-12', 'F', 'E01000001', 'C82001', "
        "'E10000001', 5, 1, FALSE, NULL, NULL)"
    )
    create_store_tables(con)
    cols = [r[0] for r in con.execute("DESCRIBE residents").fetchall()]
    assert "date_of_birth" not in cols
    assert con.execute("SELECT person_id, birth_month FROM residents").fetchall() == [
        ("p1", date(1940, 3, 1))
    ]
    con.close()


def test_identity_file_keeps_the_full_date_of_birth(tmp_path: Path, feed_dir: Path) -> None:
    ids = tmp_path / "restricted" / "ids.duckdb"
    identities.bind_key(ids, KEY.encode())
    ingest(feed_dir, tmp_path / "s" / "s.duckdb", KEY.encode(), identity_file=ids)
    held = identities.read(ids, KEY.encode())
    assert held is not None
    assert sorted(d.isoformat() for d in held.column("date_of_birth").to_pylist()) == sorted(
        r[3] for r in RESIDENTS
    )


def test_store_holds_only_the_month_of_birth(tmp_path: Path, feed_dir: Path) -> None:
    store = tmp_path / "s" / "s.duckdb"
    ingest(feed_dir, store, KEY.encode())
    for table in ("residents", "social_care_services"):
        con = duckdb.connect(str(store), read_only=True)
        days = con.execute(f"SELECT DISTINCT day(birth_month) FROM {table}").fetchall()
        con.close()
        assert days == [(1,)], table
    months = sorted(r[1] for r in table_rows(store, "residents"))
    assert months == sorted(date.fromisoformat(r[3]).replace(day=1) for r in RESIDENTS)
