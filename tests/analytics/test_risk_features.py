"""Risk features, outcome and cohorts on a hand-made store, checked row by row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bettercare.analytics.risk.cohorts import cohort_flags
from bettercare.analytics.risk.features import (
    RiskDataError,
    age_band_of,
    build_features,
    coverage,
    years_before,
)
from bettercare.data.schema import create_store_tables

INDEX = date(2017, 4, 1)
HWB, PRACTICE = "E06000016", "C82001"

# person, birth month, sex, imd decile, ltc count, dementia, dementia date, death
RESIDENTS = [
    ("p01", "1950-06-01", "F", 1, 1, False, None, None),  # 66
    ("p02", "1957-04-01", "M", 2, 0, False, None, None),  # 60 on the 1st of her birth month
    ("p03", "1957-05-01", "F", 3, 3, False, None, None),  # 59, 3 LTCs
    ("p04", "1990-01-01", "M", 4, 2, False, None, None),  # 27
    ("p05", "1999-04-01", "F", 5, 4, False, None, None),  # 18 today, 4 LTCs
    ("p06", "1999-05-01", "M", 6, 5, False, None, None),  # 17: not an adult
    ("p07", "1980-01-01", "F", 7, 0, True, "2016-01-01", None),  # dementia before the index
    ("p08", "1940-01-01", "M", 8, 2, True, "2017-06-01", None),  # diagnosed after it
    ("p09", "1940-01-01", "F", 9, 1, False, None, "2017-03-01"),  # died before the index
    ("p10", "1945-01-01", "M", 10, 6, False, None, "2017-09-01"),  # dies in the outcome year
]
# spell, person, method, admitted, discharged, fall
SPELLS = [
    ("s1", "p01", "non_elective", "2016-05-01", "2016-05-11", True),  # 10 nights, a fall
    ("s2", "p01", "elective", "2016-06-01", "2016-06-03", False),  # not an emergency
    ("s3", "p01", "non_elective", "2016-03-25", "2016-04-05", False),  # 4 nights in window
    ("s4", "p01", "non_elective", "2017-05-01", "2017-05-02", False),  # the outcome
    ("s5", "p04", "non_elective", "2017-03-30", None, False),  # still in: 2 nights to index
    ("s6", "p03", "non_elective", "2018-04-01", "2018-04-02", False),  # after the outcome year
    ("s7", "p10", "non_elective", "2017-06-01", "2017-06-05", False),
    ("s8", "p02", "non_elective", "2015-04-10", "2015-04-12", False),  # before the window
]
# service, person, start, end
SOCIAL_CARE = [
    ("c1", "p02", "2015-01-01", "2016-05-01"),  # open in the window
    ("c2", "p03", "2016-01-01", "2016-03-31"),  # ended before it
    ("c3", "p04", "2017-03-01", None),  # open
    ("c4", None, "2017-01-01", None),  # unlinked
    ("c5", "p05", "2017-04-01", None),  # starts on the index date: not before it
]


def make_store(path: Path, residents=RESIDENTS, spells=SPELLS, care=SOCIAL_CARE) -> Path:
    """A store holding exactly the rows given."""
    con = duckdb.connect(str(path))
    create_store_tables(con)
    for pid, birth, sex, imd, ltc, dem, dem_date, death in residents:
        con.execute(
            "INSERT INTO residents (person_id, birth_month, sex, lsoa, gp_practice, hwb_code, "
            "imd_decile, ltc_count, dementia_diagnosis, date_of_death, dementia_diagnosis_date) "
            "VALUES (?, ?, ?, 'E01000001', ?, ?, ?, ?, ?, ?, ?)",
            [pid, birth, sex, PRACTICE, HWB, imd, ltc, dem, death, dem_date],
        )
    for sid, pid, method, adm, dis, fall in spells:
        con.execute(
            "INSERT INTO hospital_spells (person_id, spell_id, provider_code, admission_method, "
            "admission_date, discharge_date, primary_diagnosis, injury_due_to_fall) "
            "VALUES (?, ?, 'RWE', ?, ?, ?, 'R55X', ?)",
            [pid, sid, method, adm, dis, fall],
        )
    for sid, pid, start, end in care:
        con.execute(
            "INSERT INTO social_care_services (person_id, service_id, service_type, setting, "
            "start_date, end_date, permanent_admission) "
            "VALUES (?, ?, 'home_care', 'community', ?, ?, false)",
            [pid, sid, start, end],
        )
    con.close()
    return path


@pytest.fixture
def hand_store(tmp_path: Path) -> Path:
    return make_store(tmp_path / "hand.duckdb")


def test_features_match_the_hand_worked_rows(hand_store):
    f = build_features(hand_store, INDEX).set_index("person_id")
    # adults alive on the index date: not p06 (17) nor p09 (died before)
    assert sorted(f.index) == ["p01", "p02", "p03", "p04", "p05", "p07", "p08", "p10"]
    assert f.loc["p01", "age"] == 66 and f.loc["p02", "age"] == 60 and f.loc["p03", "age"] == 59
    assert f.loc["p05", "age"] == 18
    assert f.loc["p01", "age_band"] == "65-69" and f.loc["p05", "age_band"] == "18-29"
    # p01: s1 (a fall, 10 nights) admitted in the window; s3 admitted before it, 4 nights inside
    assert f.loc["p01", "prior_emergency_admissions"] == 1
    assert f.loc["p01", "prior_bed_days"] == 14
    assert f.loc["p01", "prior_falls_admissions"] == 1
    # p04: admitted 30 March, not discharged: 2 nights up to the index date
    assert f.loc["p04", "prior_emergency_admissions"] == 1
    assert f.loc["p04", "prior_bed_days"] == 2
    # p02's admission was two years before
    assert f.loc["p02", "prior_emergency_admissions"] == 0
    assert f.loc["p02", "prior_bed_days"] == 0
    social = f["social_care"].to_dict()
    assert social == {
        "p01": False,
        "p02": True,
        "p03": False,
        "p04": True,
        "p05": False,
        "p07": False,
        "p08": False,
        "p10": False,
    }
    assert f.loc["p07", "dementia"] and not f.loc["p08", "dementia"]
    assert "admitted" not in f.columns


def test_outcome_and_exclusion_of_deaths(hand_store):
    f = build_features(hand_store, INDEX, outcome=True).set_index("person_id")
    assert "p10" not in f.index  # dies before the outcome year ends
    admitted = f["admitted"]
    assert admitted["p01"]  # s4 in May 2017
    assert not admitted["p03"]  # admitted on the first day after the outcome year
    assert not admitted["p04"]  # in hospital at the index date, no new admission
    assert admitted.sum() == 1


def test_cohorts_match_the_hand_made_rows(hand_store):
    f = build_features(hand_store, INDEX)
    flags = cohort_flags(f).set_index(f["person_id"])
    expected = pd.DataFrame(
        {
            # p01 66, p02 60, p08 77, p10 72; p03 59 with 3 LTCs, p05 18 with 4; p07 dementia
            "cohort_60_plus": [True, True, False, False, False, False, True, True],
            "cohort_18_59_ltc3": [False, False, True, False, True, False, False, False],
            "cohort_dementia": [False, False, False, False, False, True, False, False],
        },
        index=pd.Index(["p01", "p02", "p03", "p04", "p05", "p07", "p08", "p10"], name="person_id"),
    )
    pd.testing.assert_frame_equal(flags, expected)


def test_coverage_is_whole_financial_years(hand_store):
    con = duckdb.connect(str(hand_store), read_only=True)
    try:
        cover = coverage(con)
    finally:
        con.close()
    # spells from 2015-04-10 (so 2015/16 is incomplete) to 2018-04-01 (the 2018/19 year)
    assert (cover.start, cover.end, cover.years) == (date(2016, 4, 1), date(2019, 4, 1), 3)


def test_age_bands_and_leap_days():
    assert list(age_band_of([18, 29, 30, 59, 60, 64, 65, 89, 90, 104])) == [
        "18-29",
        "18-29",
        "30-39",
        "50-59",
        "60-64",
        "60-64",
        "65-69",
        "85-89",
        "90+",
        "90+",
    ]
    assert years_before(date(2016, 2, 29)) == date(2015, 2, 28)


def test_missing_store_and_missing_table(tmp_path):
    with pytest.raises(RiskDataError, match="store file not found"):
        build_features(tmp_path / "none.duckdb", INDEX)
    path = tmp_path / "bare.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(RiskDataError, match="no table"):
        build_features(path, INDEX)
