"""Scheme activity is per board: a plan sees only its own HWB's schemes.

The hand-built store (``metrics_fixtures``) holds two boards, A and B, both with a scheme
``ICRS`` and ``OPU``:

* A: ICRS 30 (Apr), 40 (May), 50 (Jun); OPU 10 (Apr), 5 (Jun) -> all schemes 40, 40, 55
* B: ICRS 7,000 (Apr); OPU 900 (May)                          -> all schemes 7,000, 900

(months run from April to the board's last month with activity).

A store whose ``scheme_activity`` predates the ``hwb_code`` column is refused with one
line naming the table and how to re-ingest: its rows say nothing of their board.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest
from metrics_fixtures import A, B, store_file

from bettercare.analytics.measure import MeasureError, measure_plan
from bettercare.analytics.modelling.store_inputs import fitted_from_store
from bettercare.analytics.scheme_impact import ALL_SCHEMES, load_scheme_activity
from bettercare.data.schema import StoreOutdated, create_store_tables
from bettercare.domain.plan import Plan


@pytest.fixture
def plan_for(make_plan):
    """The fixture plan for board ``code``, with targets for ICRS (1,200) and OPU (240)."""

    def build(code: str) -> Plan:
        def change(d: dict) -> None:
            d["hwb"]["ons_code"] = code
            d["financial_years"] = ["2016/17"]
            d["schemes"][1]["reference"] = "ICRS"
            d["schemes"][1]["admissions_avoided"] = {"2016/17": 1200}
            d["schemes"][3]["reference"] = "OPU"
            d["schemes"][3]["admissions_avoided"] = {"2016/17": 240}

        return make_plan(change)

    return build


@pytest.fixture
def store(tmp_path) -> str:
    return store_file(tmp_path / "store.duckdb")


def _avoided(schemes: pd.DataFrame, ref: str) -> list[float]:
    rows = schemes[schemes.scheme_reference == ref].sort_values("period")
    return [float(x) for x in rows.avoided[:3]]


def test_each_plan_sees_only_its_own_boards_scheme_activity(store, plan_for) -> None:
    a = measure_plan(plan_for(A), store, grains=("month",)).schemes["month"]
    b = measure_plan(plan_for(B), store, grains=("month",)).schemes["month"]
    assert _avoided(a, "ICRS") == [30, 40, 50]
    assert _avoided(a, "OPU") == [10, 0, 5]
    assert _avoided(a, ALL_SCHEMES) == [40, 40, 55]
    # the same references in board B are B's own
    assert _avoided(b, "ICRS") == [7000, 0]
    assert _avoided(b, "OPU") == [0, 900]
    assert _avoided(b, ALL_SCHEMES) == [7000, 900]


def test_load_scheme_activity_filters_to_the_board(store) -> None:
    with duckdb.connect(store, read_only=True) as con:
        a = load_scheme_activity(con, A)
        b = load_scheme_activity(con, B)
        none = load_scheme_activity(con, "E06000099")
    assert list(a.columns) == ["scheme_reference", "month", "admissions_avoided"]
    assert a.admissions_avoided.sum() == 30 + 40 + 50 + 10 + 5
    assert sorted(zip(b.scheme_reference, b.admissions_avoided, strict=True)) == [
        ("ICRS", 7000),
        ("OPU", 900),
    ]
    assert none.empty


def test_scheme_effects_are_fitted_to_the_plans_own_board(store, plan_for) -> None:
    # A's ICRS: 30, 40, 50 -> 120 to date, 9 months left at a mean of 40 (sd 10)
    fitted_a, _ = fitted_from_store(store, plan_for(A), "2016/17")
    assert fitted_a["ICRS"][1] == (
        "fitted to 3 month(s) observed: 120 to date + 9 month(s) at 40.0 (sd 10.0) a month"
    )
    # B's ICRS: 7,000 and 0 (April and May) -> 7,000 to date, 10 months left at 3,500
    fitted_b, _ = fitted_from_store(store, plan_for(B), "2016/17")
    assert fitted_b["ICRS"][1].startswith(
        "fitted to 2 month(s) observed: 7,000 to date + 10 month(s) at 3,500.0"
    )


def _old_layout(path: str, rows: list[tuple[str, date, int]]) -> None:
    """``scheme_activity`` as stores wrote it before it carried the HWB code."""
    con = duckdb.connect(path)
    try:
        con.execute("DROP TABLE scheme_activity")
        con.execute(
            "CREATE TABLE scheme_activity (scheme_reference VARCHAR NOT NULL, "
            "month DATE NOT NULL, admissions_avoided INTEGER NOT NULL)"
        )
        if rows:
            con.executemany("INSERT INTO scheme_activity VALUES (?, ?, ?)", rows)
    finally:
        con.close()


def test_a_store_from_before_the_hwb_code_is_refused_naming_the_table(store, plan_for) -> None:
    _old_layout(store, [("ICRS", date(2016, 4, 1), 30), ("ICRS", date(2016, 4, 1), 7000)])
    with pytest.raises(MeasureError) as caught:
        measure_plan(plan_for(A), store, grains=("month",))
    message = str(caught.value)
    assert "\n" not in message
    for part in ("scheme_activity", "hwb_code", "2 rows", "re-ingest", "--replace"):
        assert part in message, message
    with duckdb.connect(store, read_only=True) as con, pytest.raises(StoreOutdated):
        load_scheme_activity(con, A)
    with pytest.raises(StoreOutdated, match="store table scheme_activity has no hwb_code"):
        fitted_from_store(store, plan_for(A), "2016/17")


def test_an_empty_table_from_before_is_created_afresh(store) -> None:
    _old_layout(store, [])
    con = duckdb.connect(store)
    try:
        create_store_tables(con)
        cols = [r[0] for r in con.execute("DESCRIBE scheme_activity").fetchall()]
    finally:
        con.close()
    assert cols == ["hwb_code", "scheme_reference", "month", "admissions_avoided"]


def test_a_table_from_before_with_rows_is_kept_as_it_is(store) -> None:
    _old_layout(store, [("ICRS", date(2016, 4, 1), 30)])
    con = duckdb.connect(store)
    try:
        create_store_tables(con)  # as an ingest opens the store: nothing dropped
        assert con.execute("SELECT * FROM scheme_activity").fetchall() == [
            ("ICRS", date(2016, 4, 1), 30)
        ]
    finally:
        con.close()
