"""Synthetic Discharge Ready Dates and the 2024/25-2025/26 span."""

from __future__ import annotations

import duckdb
import pytest

from bettercare.data.synth import preset
from bettercare.data.synth.generator import build_tables
from bettercare.data.synth.hospital import ON_READY_DATE_SHARE


def _db(years: list[str], n: int = 20_000) -> duckdb.DuckDBPyConnection:
    tables = build_tables(preset("leicestershire").with_population(n), years, 11, lambda _: None)
    con = duckdb.connect()
    for name in ("hospital_spells", "residents", "population"):
        con.register(name, tables[name])
    return con


@pytest.fixture(scope="module")
def recent():
    return _db(["2024/25", "2025/26"])


def test_population_estimates_for_the_years(recent):
    years = {r[0] for r in recent.execute("SELECT DISTINCT year FROM population").fetchall()}
    assert years == {2024, 2025}


def test_ready_dates_lie_within_the_stay(recent):
    bad = recent.execute(
        """SELECT count(*) FROM hospital_spells WHERE discharge_ready_date < admission_date
           OR discharge_ready_date > discharge_date
           OR (discharge_ready_date IS NOT NULL AND discharge_date IS NULL)"""
    ).fetchone()[0]
    assert bad == 0


def test_most_adults_leave_on_their_ready_date(recent):
    share, delayed_mean, recorded = recent.execute(
        """SELECT avg(CASE WHEN discharge_date = discharge_ready_date THEN 1.0 ELSE 0 END),
                  avg(date_diff('day', discharge_ready_date, discharge_date))
                      FILTER (WHERE discharge_ready_date < discharge_date),
                  count(discharge_ready_date)
           FROM hospital_spells WHERE discharge_ready_date IS NOT NULL"""
    ).fetchone()
    assert recorded > 1000
    assert share == pytest.approx(ON_READY_DATE_SHARE, abs=0.02)
    assert 3.0 < delayed_mean < 6.0  # the documented ~4 days


def test_no_ready_date_for_children_or_deaths(recent):
    rows = recent.execute(
        """SELECT count(*) FILTER (WHERE h.discharge_destination = 'died'),
                  count(*) FILTER (WHERE date_diff('year', r.date_of_birth, h.discharge_date) < 17)
           FROM hospital_spells h JOIN residents r USING (nhs_number)
           WHERE h.discharge_ready_date IS NOT NULL"""
    ).fetchone()
    assert rows == (0, 0)


def test_no_ready_dates_before_the_collection():
    old = _db(["2016/17"], n=3_000)
    n = old.execute("SELECT count(discharge_ready_date) FROM hospital_spells").fetchone()[0]
    assert n == 0
