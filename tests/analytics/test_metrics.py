"""Each metric on the tiny hand-built store (tests/metrics_fixtures.py), answers by hand."""

from __future__ import annotations

import duckdb
import pytest
from metrics_fixtures import A, B, build_store, population_rows, store_file

from bettercare.analytics.engine import compute_metrics
from bettercare.analytics.metrics import SPECS, MetricDataError
from bettercare.analytics.metrics.base import label_for, labels_between
from bettercare.domain.metrics import CATALOGUE


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


def test_every_spec_is_in_the_catalogue():
    assert set(SPECS) <= set(CATALOGUE)
    assert len(SPECS) == 13


def test_period_labels_follow_the_plan_grammar():
    from datetime import date

    assert label_for(date(2016, 4, 1), "month") == "2016-04"
    assert label_for(date(2017, 3, 31), "quarter") == "2016/17 Q4"
    assert label_for(date(2016, 12, 31), "quarter") == "2016/17 Q3"
    assert label_for(date(2017, 3, 31), "year") == "2016/17"
    assert labels_between(date(2016, 2, 1), date(2016, 7, 1), "quarter") == [
        "2015/16 Q4",
        "2016/17 Q1",
        "2016/17 Q2",
    ]


def test_non_elective_admissions(con):
    # A: s1 (Apr), s2 (Apr), s3 (May), s4 (Oct), s8 (Jan 2017) are non-elective;
    # s5 is elective, s6 is not a resident. Population all ages 100,000.
    # Apr 2/100,000 x 100,000 = 2.0; the count is the numerator. The months between the
    # first (Apr) and last (Jan) with admissions that have none are zeros, not gaps.
    zero = (0, 100_000, 0.0)
    assert values(con, "non_elective_admissions") == {
        "2016-04": (2, 100_000, 2.0),
        "2016-05": (1, 100_000, 1.0),
        "2016-06": zero,
        "2016-07": zero,
        "2016-08": zero,
        "2016-09": zero,
        "2016-10": (1, 100_000, 1.0),
        "2016-11": zero,
        "2016-12": zero,
        "2017-01": (1, 100_000, 1.0),
    }
    # Quarters: Q1 = Apr+May = 3, Q2 none (a zero), Q3 = Oct, Q4 = Jan. Year = 5.
    assert values(con, "non_elective_admissions", "quarter") == {
        "2016/17 Q1": (3, 100_000, 3.0),
        "2016/17 Q2": zero,
        "2016/17 Q3": (1, 100_000, 1.0),
        "2016/17 Q4": (1, 100_000, 1.0),
    }
    assert values(con, "non_elective_admissions", "year") == {"2016/17": (5, 100_000, 5.0)}
    # B: s7 only.
    assert values(con, "non_elective_admissions", "year", hwb=B) == {"2016/17": (1, 100_000, 1.0)}


def test_delayed_transfers_of_care_total_and_by_attribution(con):
    # Apr: d1 10 days (nhs) + d2 6 days (social care); d3 is a child (15): excluded.
    # 16 days / 80,000 18+ x 100,000 = 20.0; nhs 10 -> 12.5; social care 6 -> 7.5.
    # May: d4 4 days (both) -> 5.0.
    assert values(con, "delayed_transfers_of_care") == {
        "2016-04": (16, 80_000, 20.0),
        "2016-05": (4, 80_000, 5.0),
    }
    # Every breakdown has a row in each month of the run: no nhs days in May is a zero.
    assert values(con, "delayed_transfers_of_care", breakdown="nhs") == {
        "2016-04": (10, 80_000, 12.5),
        "2016-05": (0, 80_000, 0.0),
    }
    assert values(con, "delayed_transfers_of_care", breakdown="social_care") == {
        "2016-04": (6, 80_000, 7.5),
        "2016-05": (0, 80_000, 0.0),
    }
    assert values(con, "delayed_transfers_of_care", breakdown="both") == {
        "2016-04": (0, 80_000, 0.0),
        "2016-05": (4, 80_000, 5.0),
    }
    assert values(con, "delayed_transfers_of_care", "year", breakdown="both") == {
        "2016/17": (4, 80_000, 5.0)
    }


def test_permanent_admissions_65(con):
    # c1 + c2: p1 (75) admitted twice in June -> one person. c3: p3 is 64 -> excluded.
    # c4 unlinked, c5 not permanent, c6 community -> excluded.
    # 1 / 20,000 65+ x 100,000 = 5.0
    assert values(con, "permanent_admissions_care_homes_65") == {"2016-06": (1, 20_000, 5.0)}
    assert values(con, "permanent_admissions_care_homes_65", "year") == {
        "2016/17": (1, 20_000, 5.0)
    }


def test_reablement_91_days(con):
    # r1 Oct at home; r2 Nov died (denominator only); r3 p3 (born October 1951: the store
    # keeps the month only, so taken as born 1 Oct) counts as 65 on 9 Oct: included, the
    # documented one-year error in the birth month; r4 Dec unknown (denominator only);
    # r5 Jun at home.
    assert values(con, "reablement_91_days") == {
        "2016-06": (1, 1, 100.0),
        "2016-10": (2, 2, 100.0),
        "2016-11": (0, 1, 0.0),
        "2016-12": (0, 1, 0.0),
    }
    # Q3 (Oct-Dec): 2 of 4 = 50%.
    assert values(con, "reablement_91_days", "quarter")["2016/17 Q3"] == (2, 4, 50.0)
    # Year = the ASCOF Oct-Dec window only: r5 (June) is left out -> 2 of 4.
    assert values(con, "reablement_91_days", "year") == {"2016/17": (2, 4, 50.0)}


def test_patient_experience(con):
    # July: e1 positive, e2 negative (gpps), e3 positive (ascs); e5 not a resident.
    assert values(con, "patient_experience") == {"2016-07": (2, 3, 66.666667)}
    assert values(con, "patient_experience", breakdown="gpps") == {"2016-07": (1, 2, 50.0)}
    assert values(con, "patient_experience", breakdown="ascs") == {"2016-07": (1, 1, 100.0)}


def test_falls_65(con):
    # s1 p1 aged 75 (Apr) counts; s2 p2 aged 26 no; s3 p3 aged 64 on 1 May no;
    # s4 p3 on his 65th birthday (10 Oct) counts. 1 / 20,000 x 100,000 = 5.0 per month;
    # May to September, inside the run, are zeros.
    falls = values(con, "falls_65")
    assert falls == {
        "2016-04": (1, 20_000, 5.0),
        **{f"2016-{m:02d}": (0, 20_000, 0.0) for m in range(5, 10)},
        "2016-10": (1, 20_000, 5.0),
    }
    # HWB B has no falls at all: no rows (no run to fill).
    assert values(con, "falls_65", hwb=B) == {}
    assert values(con, "falls_65", "year") == {"2016/17": (2, 20_000, 10.0)}


def test_dementia_diagnosis_rate(con):
    # Expected prevalence, CFAS II rates x mid-2016 population 65+ of A:
    #   men   65-89: 1,500 x (0.012+0.030+0.052+0.106+0.128 = 0.328) =  492.0
    #   women 65-89: 1,500 x (0.018+0.025+0.062+0.095+0.181 = 0.381) =  571.5
    #   90+: 2,000 x 0.171 = 342.0; 3,000 x 0.350 = 1,050.0       total 2,455.5
    # Diagnosed 65+ alive at month end: April p1 + p4 = 2; from May (p4 died 20 May) 1;
    # from August 2 again (p7 diagnosed 15 August 2016, not on the register before).
    v = values(con, "dementia_diagnosis_rate")
    assert v["2016-04"] == (2, 2455.5, round(2 / 2455.5 * 100, 6))
    assert v["2016-05"] == (1, 2455.5, round(1 / 2455.5 * 100, 6))
    assert v["2016-07"][0] == 1
    assert v["2016-08"] == (2, 2455.5, round(2 / 2455.5 * 100, 6))
    assert len(v) == 12
    assert values(con, "dementia_diagnosis_rate", "year")["2016/17"][0] == 2


def test_store_file_and_all_metrics(tmp_path):
    df = compute_metrics(store_file(tmp_path / "s.duckdb"), "year")
    assert set(df.metric) == set(SPECS)
    assert df.attrs["warnings"] == []


# -- clear messages --------------------------------------------------------------------------
def test_bad_period_and_grain(con):
    with pytest.raises(MetricDataError, match="bad period: '2016/17 Q5' is not a period"):
        compute_metrics(con, "month", period="2016/17 Q5")
    with pytest.raises(MetricDataError, match="grain 'week' is not one of month"):
        compute_metrics(con, "week")
    with pytest.raises(MetricDataError, match="unknown metric"):
        compute_metrics(con, metrics=["nope"])


def test_missing_population_band_names_hwb_year_and_band():
    c = duckdb.connect()
    pop = [r for r in population_rows(A) if not (r[3] == "90+" and r[2] == "F")]
    build_store(c, population=pop + population_rows(B))
    with pytest.raises(
        MetricDataError, match=r"HWB E10000018, mid-2016, is missing age band\(s\) 90\+ \(F\)"
    ):
        compute_metrics(c, metrics=["falls_65"])
    # All-ages metrics need the band too; 18+ ones as well.
    with pytest.raises(MetricDataError, match="90\\+ \\(F\\) needed for the 18\\+"):
        compute_metrics(c, metrics=["delayed_transfers_of_care"])


def test_missing_population_year():
    c = duckdb.connect()
    build_store(c, population=population_rows(A, 2015) + population_rows(B))
    with pytest.raises(
        MetricDataError,
        match="no mid-2016 estimate for HWB E10000018 \\(years present: 2015\\)",
    ):
        compute_metrics(c, metrics=["non_elective_admissions"])


def test_empty_numerator(con):
    with pytest.raises(MetricDataError, match="patient_experience: empty numerator"):
        compute_metrics(con, metrics=["patient_experience"], period="2015/16")
    # Without naming metrics, empty ones are skipped with a warning (2017/18: only the
    # dementia register snapshot has rows).
    c = duckdb.connect()
    build_store(c, population=population_rows(A, 2017) + population_rows(B, 2017))
    df = compute_metrics(c, "year", period="2017/18")
    assert set(df.metric) == {"dementia_diagnosis_rate"}
    assert (
        "falls_65: empty numerator - no qualifying rows in hospital_spells for 2017/18"
        in (df.attrs["warnings"])
    )


def test_missing_store_and_table(tmp_path):
    with pytest.raises(MetricDataError, match="store file not found"):
        compute_metrics(tmp_path / "nope.duckdb")
    c = duckdb.connect()
    c.execute("CREATE TABLE residents (person_id VARCHAR)")
    with pytest.raises(MetricDataError, match="store has no table\\(s\\) hospital_spells"):
        compute_metrics(c, metrics=["non_elective_admissions"])
