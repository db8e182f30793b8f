"""The BCF 2025-26 headline and 2023-25 metrics on the tiny hand-built store
(tests/metrics_fixtures.py), answers worked by hand; old stores without the
discharge ready date.

Population (each HWB, mid-2016): all ages 100,000; 65+ 20,000 with 3,000 in each band
65-69 ... 85-89 and 5,000 aged 90+.
"""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd
import pytest
from metrics_fixtures import A, B, build_store

from bettercare.analytics.engine import compute_metrics
from bettercare.analytics.metrics import MetricDataError
from bettercare.analytics.metrics.avoidable_admissions_acsc import is_chronic_acsc
from bettercare.data.schema import create_store_tables


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    build_store(c)
    yield c
    c.close()


def values(con, metric, grain="month", hwb=A, breakdown="all", period="2016/17"):
    df = compute_metrics(con, grain, metrics=[metric], period=period)
    df = df[(df.hwb_code == hwb) & (df.breakdown == breakdown)]
    return {r.period: (r.numerator, r.denominator, round(r.value, 6)) for r in df.itertuples()}


def zeros(months, den=20_000):
    return {f"2016-{m:02d}": (0, den, 0.0) for m in months}


def test_emergency_admissions_65(con):
    # A: s1 p1 aged 75 (Apr) counts; s2 p2 26 no; s3 p3 64 on 1 May no; s4 p3 65 on
    # 10 Oct counts; s8 p2 no; s6 not a resident; s5 elective. 1 / 20,000 x 100,000 = 5.0.
    assert values(con, "emergency_admissions_65") == {
        "2016-04": (1, 20_000, 5.0),
        **zeros(range(5, 10)),
        "2016-10": (1, 20_000, 5.0),
    }
    assert values(con, "emergency_admissions_65", "year") == {"2016/17": (2, 20_000, 10.0)}
    # B: s7, p5 aged 66.
    assert values(con, "emergency_admissions_65", "year", hwb=B) == {"2016/17": (1, 20_000, 5.0)}


def test_discharge_delay_days(con):
    # By discharge month, adults discharged alive with a ready date (A):
    #   April: s1 5 days, s2 0, s5 0 (elective, same day); s10 is a child; s6 not resident
    #   May: s3 3 days; s11 died (excluded).  s4 has no ready date, s8 no discharge.
    assert values(con, "discharge_delay_days") == {
        "2016-04": (5, 3, round(5 / 3, 6)),
        "2016-05": (3, 1, 3.0),
    }
    assert values(con, "discharge_delay_days", breakdown="on_ready_date") == {
        "2016-04": (2, 3, round(200 / 3, 6)),
        "2016-05": (0, 1, 0.0),
    }
    assert values(con, "discharge_delay_days", breakdown="delayed") == {
        "2016-04": (5, 1, 5.0),
        "2016-05": (3, 1, 3.0),
    }
    # Year: 8 days over 4 discharges = 2.0 = 50% on the date x 4.0 days for the delayed.
    assert values(con, "discharge_delay_days", "year") == {"2016/17": (8, 4, 2.0)}
    assert values(con, "discharge_delay_days", "year", breakdown="on_ready_date") == {
        "2016/17": (2, 4, 50.0)
    }
    assert values(con, "discharge_delay_days", "year", breakdown="delayed") == {
        "2016/17": (8, 2, 4.0)
    }
    assert values(con, "discharge_delay_days", "year", hwb=B) == {"2016/17": (1, 1, 1.0)}


def test_long_term_admissions_is_the_permanent_admissions_measure(con):
    # Same ASCOF 2A(2) definition: p1 once in June (c1 + c2); see test_metrics.
    assert values(con, "long_term_admissions_care_homes_65") == {"2016-06": (1, 20_000, 5.0)}
    for grain in ("month", "quarter", "year"):
        assert values(con, "long_term_admissions_care_homes_65", grain) == values(
            con, "permanent_admissions_care_homes_65", grain
        )


def test_avoidable_admissions_acsc(con):
    # A: s8 asthma (J45.9), January 2017; s6 heart failure is not a resident; s7 (B)
    # pneumonia is not a chronic ACSC; falls and electives are not either.
    assert values(con, "avoidable_admissions_acsc") == {"2017-01": (1, 100_000, 1.0)}
    assert values(con, "avoidable_admissions_acsc", "year") == {"2016/17": (1, 100_000, 1.0)}
    assert values(con, "avoidable_admissions_acsc", "year", hwb=B) == {}


@pytest.mark.parametrize(
    ("code", "chronic"),
    [
        ("J44.1", True),  # COPD
        ("I48X", True),  # atrial fibrillation
        ("I50.0", True),  # heart failure
        ("E11.9", False),  # diabetes without complications
        ("E11.5", True),  # diabetes with a complication
        ("I10X", True),  # hypertension
        ("I11.9", True),
        ("I11.0", True),  # hypertensive heart disease with heart failure
        ("j45.9", True),  # lower case
        ("J18.9", False),  # pneumonia: an acute, not a chronic, ACSC
        ("S72.0", False),
    ],
)
def test_chronic_acsc_codes(code, chronic):
    t = ibis.memtable({"dx": [code]})
    assert bool(t.select(hit=is_chronic_acsc(t.dx)).execute().hit.iloc[0]) is chronic


def test_falls_65_dsr(con):
    # Falls 65+ in A: s1 p1 aged 75 (band 75-79, April), s4 p3 aged 65 (65-69, October).
    # DSR = sum(w_b x c_b / p_b) / 19,500 x 100,000 with p_b = 3,000 per band:
    #   April: 4,000 x 1/3,000 / 19,500 x 100,000 = 6.837607
    #   October: 5,500 x 1/3,000 / 19,500 x 100,000 = 9.401709
    #   year: (4,000 + 5,500) / 3,000 / 19,500 x 100,000 = 16.239316 (crude: 10.0)
    assert values(con, "falls_65_dsr") == {
        "2016-04": (1, 20_000, 6.837607),
        **zeros(range(5, 10)),
        "2016-10": (1, 20_000, 9.401709),
    }
    assert values(con, "falls_65_dsr", "year") == {"2016/17": (2, 20_000, 16.239316)}
    assert values(con, "falls_65_dsr", "year", hwb=B) == {}


def test_falls_dsr_reweights_an_older_population():
    # The same two falls in a population twice as old in 75-79 (6,000): the crude rate is
    # unchanged in the numerator but the band rate halves: (4,000/6,000 + 5,500/3,000).
    c = duckdb.connect()
    build_store(c)
    c.execute("UPDATE population SET population = 3000 WHERE age_band = '75-79'")
    v = values(c, "falls_65_dsr", "year")["2016/17"]
    assert v == (2, 23_000, round((4000 / 6000 + 5500 / 3000) / 19_500 * 100_000, 6))


def test_discharge_usual_residence(con):
    # A by discharge month: April s1, s2, s5, s10 (a child: all ages) home = 4 of 4;
    # May s3 care home, s11 died (excluded) = 0 of 1; October s4 home with reablement.
    assert values(con, "discharge_usual_residence") == {
        "2016-04": (4, 4, 100.0),
        "2016-05": (0, 1, 0.0),
        "2016-10": (1, 1, 100.0),
    }
    assert values(con, "discharge_usual_residence", "year") == {
        "2016/17": (5, 6, round(500 / 6, 6))
    }


def test_headline_metrics_are_in_a_default_run(con):
    df = compute_metrics(con, "year", period="2016/17")
    assert {
        "emergency_admissions_65",
        "discharge_delay_days",
        "long_term_admissions_care_homes_65",
    } <= set(df.metric)


# -- a store written before the discharge ready date --------------------------------
def _old_store() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    build_store(c)
    c.execute("ALTER TABLE hospital_spells DROP COLUMN discharge_ready_date")
    return c


def test_old_store_skips_discharge_delay_with_a_warning():
    c = _old_store()
    df = compute_metrics(c, "year")
    assert "discharge_delay_days" not in set(df.metric)
    assert "emergency_admissions_65" in set(df.metric)  # the rest is measured
    assert (
        "discharge_delay_days: not computed: the store has no column "
        "hospital_spells.discharge_ready_date (it was written before the column joined the "
        "feed); re-ingest the feed to add it"
    ) in df.attrs["warnings"]


def test_old_store_naming_the_metric_is_an_error():
    with pytest.raises(MetricDataError, match=r"no column hospital_spells\.discharge_ready_date"):
        compute_metrics(_old_store(), metrics=["discharge_delay_days"])


def test_store_tables_gain_the_new_column_when_reopened():
    c = _old_store()
    create_store_tables(c)  # what ingest does on an existing store
    cols = [r[0] for r in c.execute("DESCRIBE hospital_spells").fetchall()]
    assert cols[-1] == "discharge_ready_date"
    assert c.execute("SELECT count(discharge_ready_date) FROM hospital_spells").fetchone() == (0,)
    # no ready dates yet: skipped as an empty metric, not an error
    df = compute_metrics(c, "year")
    assert any(w.startswith("discharge_delay_days: empty numerator") for w in df.attrs["warnings"])


HEADLINE = ["emergency_admissions_65", "discharge_delay_days", "long_term_admissions_care_homes_65"]


def test_the_report_shows_the_headline_metrics(con, make_plan):
    # A plan stating the three headline metrics gets a board row and a chart for each.
    from bettercare.analytics.performance import plan_vs_actual
    from bettercare.domain.metrics import CATALOGUE
    from bettercare.reporting.metrics_report import metrics_sections

    def headline(d):
        d["hwb"]["ons_code"] = A
        d["metrics"] = [
            {"metric": m, "time_basis": "month", "planned": [{"period": "2016/17", "value": 1.0}]}
            for m in HEADLINE
        ]

    plan = make_plan(headline)
    by_grain = {
        g: plan_vs_actual(compute_metrics(con, g, period="2016/17"), plan, hwb_code=A)
        for g in ("month", "year")
    }
    (_title, html), *_ = metrics_sections(plan, by_grain, pd.DataFrame(), None)
    for m in HEADLINE:
        assert CATALOGUE[m].name in html
    assert html.count("data:image/png;base64") >= len(HEADLINE)
