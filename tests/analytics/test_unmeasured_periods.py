"""Periods the store cannot measure are warnings (the rest is measured); plan HWB matching.

Values are hand-worked on the tiny store of ``metrics_fixtures`` (population 100,000 for
each HWB and mid-year): in 2016-04 HWB A has two non-elective admissions of residents
(s1, s2; s6 is a non-resident, s7 a resident of B), so 2.0 per 100,000; in 2016/17 five
(s1, s2, s3, s4, s8).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from metrics_fixtures import A, B, build_store, population_rows

from bettercare.analytics.engine import (
    Coverage,
    Unmeasured,
    compute_metrics,
    resolve_hwb,
    store_hwb_codes,
)
from bettercare.analytics.metrics import MetricDataError

SPELL_COLS = (
    "spell_id, person_id, provider_code, admission_method, admission_date, discharge_date, "
    "primary_diagnosis, injury_due_to_fall, discharge_destination"
)


def _add_spell(con, spell: str, person: str, admitted: date, discharged: date | None) -> None:
    con.execute(
        f"INSERT INTO hospital_spells ({SPELL_COLS}) VALUES (?, ?, 'RWE', 'non_elective', ?, "
        "?, 'J18.9', false, NULL)",
        [spell, person, admitted, discharged],
    )


def _nea(df, hwb=A):
    rows = df[(df.metric == "non_elective_admissions") & (df.hwb_code == hwb)]
    rows = rows[rows.breakdown == "all"]
    return dict(zip(rows.period, rows.value, strict=True))


def test_period_without_population_estimate_is_left_out_with_a_warning():
    con = duckdb.connect()
    build_store(con)  # mid-2016 estimates only
    # 2015/16: needs mid-2015; discharged in March, so the spells extract covers March
    _add_spell(con, "s20", "p2", date(2016, 3, 10), date(2016, 3, 12))
    df = compute_metrics(con, "month")
    nea = _nea(df)
    assert "2016-03" not in nea
    assert nea["2016-04"] == pytest.approx(2.0)
    assert (
        "non_elective_admissions: 2016-03 not measured for HWB E10000018: population table "
        "has no mid-2015 estimate for HWB E10000018 (years present: 2016); load the ONS "
        "mid-year estimates for 2015"
    ) in df.attrs["warnings"]
    assert (
        Unmeasured(
            "non_elective_admissions",
            A,
            ("2016-03",),
            "population table has no mid-2015 estimate for HWB E10000018 (years present: 2016); "
            "load the ONS mid-year estimates for 2015",
        )
        in df.attrs["unmeasured"]
    )
    # the other metrics are still measured
    assert {"delayed_transfers_of_care", "reablement_91_days", "falls_65"} <= set(df.metric)


def test_naming_the_metric_keeps_a_missing_population_year_an_error():
    con = duckdb.connect()
    build_store(con)
    _add_spell(con, "s20", "p2", date(2016, 3, 10), None)
    with pytest.raises(MetricDataError, match="no mid-2015 estimate for HWB E10000018"):
        compute_metrics(con, "month", metrics=["non_elective_admissions"])


def test_admission_months_before_the_spells_extract_opens_are_partial():
    con = duckdb.connect()
    pop = [
        *population_rows(A, 2015),
        *population_rows(A),
        *population_rows(B, 2015),
        *population_rows(B),
    ]
    build_store(con, population=pop)
    # An extract of spells active from April 2016: the only March admission is one still
    # in hospital in April (earliest discharge 2016-04-02).
    _add_spell(con, "s20", "p2", date(2016, 3, 25), date(2016, 4, 2))
    month = compute_metrics(con, "month")
    assert "2016-03" not in _nea(month)
    assert _nea(month)["2016-04"] == pytest.approx(2.0)
    assert (
        "non_elective_admissions: 2016-03 not measured for HWB E10000018: partial period at "
        "the edge of the data: hospital_spells holds the spells active from 2016-04-01, the "
        "month of its earliest discharge; admissions before then are only the spells still "
        "in hospital on that day"
    ) in month.attrs["warnings"]
    # the dementia register snapshots start where the spells extract is whole
    dem = month[(month.metric == "dementia_diagnosis_rate") & (month.hwb_code == A)]
    assert min(dem.period) == "2016-04"
    year = compute_metrics(con, "year")
    assert _nea(year) == {"2016/17": pytest.approx(5.0)}
    assert any(
        w.startswith("non_elective_admissions: 2015/16 not measured")
        for w in year.attrs["warnings"]
    )


def test_a_quarter_beyond_the_loaded_months_is_partial_for_counts_only():
    con = duckdb.connect()
    build_store(con)
    con.execute("CREATE TABLE ingest_log (feed VARCHAR, periods VARCHAR)")
    months = "2016-04,2016-05,2016-06,2016-07,2016-08,2016-09,2016-10,2016-11,2016-12,2017-01"
    con.execute("INSERT INTO ingest_log VALUES ('hospital_spells', ?)", [months])
    con.execute("INSERT INTO ingest_log VALUES ('experience_responses', '2016-07')")
    df = compute_metrics(con, "quarter")
    # Q4 (Jan-Mar 2017) holds s8 but only January was loaded: not measured
    assert set(_nea(df)) == {"2016/17 Q1", "2016/17 Q2", "2016/17 Q3"}
    assert _nea(df)["2016/17 Q2"] == 0.0  # a real zero inside the loaded months
    assert (
        "non_elective_admissions: 2016/17 Q4 not measured for HWB E10000018: partial period "
        "at the edge of the data: hospital_spells was loaded for 2016-04 to 2017-01 only"
    ) in df.attrs["warnings"]
    # a proportion is kept although its quarter reaches beyond July
    pe = df[(df.metric == "patient_experience") & (df.hwb_code == A) & (df.breakdown == "all")]
    assert list(pe.period) == ["2016/17 Q2"]


def test_coverage_partial():
    cov = Coverage("hospital_spells", date(2016, 4, 1), date(2017, 1, 31), "early", "late")
    assert cov.partial("2016-03") == "early"
    assert cov.partial("2015/16") == "early"
    assert cov.partial("2016/17") == "late"
    assert cov.partial("2016-04") is None and cov.partial("2017-01") is None
    assert cov.partial("2016/17 Q4") == "late"
    assert Coverage("x").partial("2016-01") is None


def test_nothing_measurable_is_an_error():
    con = duckdb.connect()
    build_store(con, population=population_rows(A, 2017) + population_rows(B, 2017))
    con.execute("DELETE FROM experience_responses; DELETE FROM reablement_episodes")
    # the discharge proportions need no population either: no discharges recorded
    con.execute(
        "UPDATE hospital_spells SET discharge_destination = NULL, discharge_ready_date = NULL"
    )
    with pytest.raises(MetricDataError, match=r"^nothing could be measured: .*no mid-2016"):
        compute_metrics(con, "year")


# -- HWB matching ------------------------------------------------------------------------
def test_store_hwb_codes():
    con = duckdb.connect()
    build_store(con)
    assert store_hwb_codes(con) == [B, A]  # sorted: E06... before E10...


def test_plan_for_another_hwb_is_refused(make_plan):
    plan = make_plan()  # Exampleshire, E06000099
    with pytest.raises(MetricDataError) as exc:
        resolve_hwb(plan, [A])
    msg = str(exc.value)
    assert "\n" not in msg
    assert "plan is for HWB E06000099 (Exampleshire Health and Wellbeing Board)" in msg
    assert "the store holds E10000018" in msg and "--hwb CODE" in msg


def test_named_hwb_and_several_hwbs(make_plan):
    plan = make_plan()
    assert resolve_hwb(plan, [A], requested=A) == A
    with pytest.raises(MetricDataError, match="HWB E06000001 is not in the store"):
        resolve_hwb(plan, [A], requested="E06000001")
    # a store of several HWBs measures the plan's one
    assert resolve_hwb(plan, [A, "E06000099", B]) == "E06000099"
    no_code = make_plan(lambda d: d["hwb"].pop("ons_code"))
    assert resolve_hwb(no_code, [A]) == A
    with pytest.raises(MetricDataError, match=r"states no hwb\.ons_code and the store holds"):
        resolve_hwb(no_code, [A, B])
