"""Capacity and demand, measured side: discharges by pathway and community referrals on
the tiny hand-built store (tests/metrics_fixtures.py), worked by hand."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from metrics_fixtures import A, B, build_store

from bettercare.analytics.capacity_demand import (
    NOT_MEASURED,
    capacity_demand_from_store,
    compare_with_plan,
)
from bettercare.domain.plan import CapacityDemand

SC_COLS = (
    "service_id, person_id, birth_month, service_type, setting, start_date, end_date, "
    "permanent_admission, link_method, match_probability"
)


def table(con, hwb=A):
    df = capacity_demand_from_store(con)
    df = df[df.hwb_code == hwb]
    return {
        (r.month, r.service, r.service_type if isinstance(r.service_type, str) else None): (
            r.measured
        )
        for r in df.itertuples()
    }


def month(t, m):
    return {k[1:]: v for k, v in t.items() if k[0] == m}


def test_pathways_from_destinations():
    con = duckdb.connect()
    build_store(con)
    t = table(con)
    # April: s1, s2 home; s5 (elective, same day) home: pathway 0. s10 a child, s6 not a
    # resident. Community: c5, a short-term residential stay for p4 with no discharge in
    # the week before (step-up). c6 (home care) is not short-term care.
    assert month(t, "2016-04") == {
        ("discharge_pathway_0", None): 3,
        ("discharge_pathway_1", None): 0,
        ("discharge_pathway_2", None): 0,
        ("discharge_pathway_3", None): 0,
        ("community_referrals", None): 1,
        ("community_referrals", "reablement at home"): 0,
        ("community_referrals", "short-term bedded care"): 1,
    }
    # May: s3 to a care home: pathway 3 (s11 died: no pathway). October: s4 reablement.
    assert month(t, "2016-05")[("discharge_pathway_3", None)] == 1
    assert month(t, "2016-10")[("discharge_pathway_1", None)] == 1
    assert sorted({k[0] for k in t}) == ["2016-04", "2016-05", "2016-10"]
    # HWB B: s7 home.
    assert month(table(con, B), "2016-04")[("discharge_pathway_0", None)] == 1


def test_services_after_discharge_set_the_pathway():
    con = duckdb.connect()
    build_store(con)
    con.executemany(
        f"INSERT INTO social_care_services ({SC_COLS}) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, "
        "'nhs_number', NULL)",
        [
            # p2 discharged 22 April (s2): reablement at home from the 23rd -> pathway 1,
            # and not a community referral (it follows a discharge)
            ("c7", "p2", date(1990, 1, 1), "reablement", "community", date(2016, 4, 23), False),
            # p1 discharged 20 April (s1): a short-term nursing bed on the 27th (7 days)
            ("c8", "p1", date(1940, 6, 1), "nursing_care", "nursing", date(2016, 4, 27), False),
            # p2 again, reablement 30 April: 8 days after discharge -> a community referral
            ("c9", "p2", date(1990, 1, 1), "reablement", "community", date(2016, 4, 30), False),
        ],
    )
    april = month(table(con), "2016-04")
    assert april[("discharge_pathway_0", None)] == 1  # s5 only
    assert april[("discharge_pathway_1", None)] == 1  # s2
    assert april[("discharge_pathway_2", None)] == 1  # s1
    assert april[("community_referrals", "reablement at home")] == 1  # c9
    assert april[("community_referrals", None)] == 2  # c9 + c5


def test_what_cannot_be_measured_is_said():
    con = duckdb.connect()
    build_store(con)
    df = capacity_demand_from_store(con, "2016/17")
    totals = df[df.service_type.isna()]
    notes = dict(zip(totals.service, totals.note, strict=False))
    assert "community hospital" in notes["discharge_pathway_2"]
    assert notes["community_referrals"] == NOT_MEASURED["community_referrals"]
    assert notes["discharge_pathway_0"] == ""


def test_a_store_without_social_care_is_a_warning():
    con = duckdb.connect()
    build_store(con)
    con.execute("DROP TABLE social_care_services")
    df = capacity_demand_from_store(con)
    assert df.empty
    assert df.attrs["warnings"] == [
        "capacity and demand not measured: store has no table(s) social_care_services"
    ]


def test_compare_with_plan():
    con = duckdb.connect()
    build_store(con)
    measured = capacity_demand_from_store(con)
    planned = [
        CapacityDemand(
            service="discharge_pathway_0",
            demand={"2016-04": 4, "2016-05": 2, "2017-06": 5},
            capacity={"2016-04": 5},
        ),
        CapacityDemand(
            service="community_referrals",
            service_type="Short-term bedded care",
            demand={"2016-04": 2},
        ),
        CapacityDemand(
            service="community_referrals",
            service_type="urgent community response (two-hour)",
            demand={"2016-04": 40},
        ),
    ]
    out = compare_with_plan(measured, planned, A)
    rows = {
        (r.month, r.service, r.service_type if isinstance(r.service_type, str) else None): r
        for r in out.itertuples()
    }
    apr = rows[("2016-04", "discharge_pathway_0", None)]
    assert (apr.planned_demand, apr.planned_capacity, apr.measured) == (4, 5, 3.0)
    assert (apr.difference, apr.difference_pct, apr.note) == (-1.0, -25.0, "")
    may = rows[("2016-05", "discharge_pathway_0", None)]
    assert (may.measured, may.difference) == (0.0, -2.0)  # a measured month with none
    june = rows[("2017-06", "discharge_pathway_0", None)]
    assert pd_isna(june.measured) and june.note == "month not in the linked data"
    bed = rows[("2016-04", "community_referrals", "Short-term bedded care")]
    assert (bed.measured, bed.difference_pct) == (1.0, -50.0)  # c5 vs 2 planned
    ucr = rows[("2016-04", "community_referrals", "urgent community response (two-hour)")]
    assert pd_isna(ucr.measured) and pd_isna(ucr.difference)
    assert ucr.note.startswith("'urgent community response (two-hour)' not measurable: ")


def pd_isna(x) -> bool:
    return x is None or x != x


@pytest.mark.parametrize("period", ["2016/17 Q5", "nonsense"])
def test_bad_period(period):
    from bettercare.analytics.metrics import MetricDataError

    con = duckdb.connect()
    build_store(con)
    with pytest.raises(MetricDataError, match="bad period"):
        capacity_demand_from_store(con, period)
