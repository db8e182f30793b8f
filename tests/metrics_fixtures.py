"""A tiny hand-built analytics store whose metric values are worked out by hand.

Two HWBs: A = E10000018 (most rows), B = E06000016 (one admission).

Population, mid-2016, identical for A and B (so every rate below is easy to check):
  under 18: 4 bands x 2 sexes x 2,500 = 20,000
  18-64:   10 bands x 2 sexes x 3,000 = 60,000
  65-89:    5 bands x 2 sexes x 1,500 = 15,000;  90+: M 2,000 + F 3,000 = 5,000
  => all ages 100,000;  18+ 80,000;  65+ 20,000.

Residents (A unless noted):
  p1 born 1940-06-15 (75-76 in 2016/17), dementia
  p2 born 1990-01-01
  p3 born 1951-10-10 (turns 65 on 2016-10-10)
  p4 born 1945-03-01, dementia, died 2016-05-20
  p5 born 1950-01-01, HWB B, dementia
  p6 born 2000-05-05 (a child)
"""

from __future__ import annotations

from datetime import date

import duckdb

from bettercare.data.schema import AGE_BANDS, create_store_tables

A = "E10000018"
B = "E06000016"


def population_rows(hwb: str, year: int = 2016) -> list[tuple]:
    rows = []
    for band in AGE_BANDS:
        for sex in ("M", "F"):
            if band in AGE_BANDS[:4]:
                n = 2500
            elif band in AGE_BANDS[4:14]:
                n = 3000
            elif band == "90+":
                n = 2000 if sex == "M" else 3000
            else:
                n = 1500
            rows.append((hwb, year, sex, band, n))
    return rows


RESIDENTS = [
    # person_id, birth_month (the store keeps the month only), sex, lsoa, gp_practice, hwb,
    # imd, ltc, dementia, death,
    # dementia diagnosis date (None: not known, counted as diagnosed throughout)
    ("p1", date(1940, 6, 1), "F", "E01000001", "C82001", A, 5, 2, True, None, None),
    ("p2", date(1990, 1, 1), "M", "E01000001", "C82001", A, 3, 0, False, None, None),
    ("p3", date(1951, 10, 1), "M", "E01000002", "C82001", A, 7, 1, False, None, None),
    ("p4", date(1945, 3, 1), "F", "E01000002", "C82002", A, 2, 4, True, date(2016, 5, 20), None),
    ("p5", date(1950, 1, 1), "M", "E01000003", "C82003", B, 6, 1, True, None, None),
    ("p6", date(2000, 5, 1), "F", "E01000001", "C82001", A, 5, 0, False, None, None),
    ("p7", date(1944, 2, 1), "M", "E01000003", "C82001", A, 4, 3, True, None, date(2016, 8, 15)),
]


HOSPITAL_SPELLS = [
    # spell, person, provider, method, admitted, discharged, diagnosis, fall, destination,
    # discharge ready date (delay = discharged - ready)
    (
        "s1",
        "p1",
        "RWE",
        "non_elective",
        date(2016, 4, 10),
        date(2016, 4, 20),
        "S72.0",
        True,
        "usual_residence",
        date(2016, 4, 15),
    ),  # 5 days' delay
    (
        "s2",
        "p2",
        "RWE",
        "non_elective",
        date(2016, 4, 20),
        date(2016, 4, 22),
        "S52.5",
        True,
        "usual_residence",
        date(2016, 4, 22),
    ),  # on the ready date
    (
        "s3",
        "p3",
        "RWE",
        "non_elective",
        date(2016, 5, 1),
        date(2016, 5, 10),
        "S72.0",
        True,
        "care_home",
        date(2016, 5, 7),
    ),  # 3 days
    (
        "s4",
        "p3",
        "RWE",
        "non_elective",
        date(2016, 10, 10),
        date(2016, 10, 20),
        "S72.0",
        True,
        "reablement",
        None,
    ),  # no ready date recorded
    (
        "s5",
        "p1",
        "RWE",
        "elective",
        date(2016, 4, 12),
        date(2016, 4, 12),
        "H25.1",
        False,
        "usual_residence",
        date(2016, 4, 12),
    ),
    (
        "s6",
        "px",
        "RWE",
        "non_elective",
        date(2016, 4, 15),
        date(2016, 4, 18),
        "I50.0",
        False,
        "usual_residence",
        date(2016, 4, 16),
    ),  # not a resident
    (
        "s7",
        "p5",
        "RWE",
        "non_elective",
        date(2016, 4, 5),
        date(2016, 4, 9),
        "J18.9",
        False,
        "usual_residence",
        date(2016, 4, 8),
    ),  # HWB B, 1 day
    ("s8", "p2", "RWE", "non_elective", date(2017, 1, 15), None, "J45.9", False, None, None),
    # elective: counted by no admissions metric; a child, and a death in hospital
    (
        "s10",
        "p6",
        "RWE",
        "elective",
        date(2016, 4, 25),
        date(2016, 4, 27),
        "K40.9",
        False,
        "usual_residence",
        date(2016, 4, 26),
    ),
    (
        "s11",
        "p4",
        "RWE",
        "elective",
        date(2016, 5, 15),
        date(2016, 5, 20),
        "C34.9",
        False,
        "died",
        date(2016, 5, 18),
    ),
]

DELAYED_TRANSFERS = [
    ("d1", "p1", "s1", "RWE", date(2016, 4, 1), 10, "awaiting_care_package", "nhs"),
    ("d2", "p2", "s2", "RWE", date(2016, 4, 1), 6, "awaiting_assessment", "social_care"),
    ("d3", "p6", "s9", "RWE", date(2016, 4, 1), 5, "housing", "nhs"),
    ("d4", "p1", "s1", "RWE", date(2016, 5, 1), 4, "disputes", "both"),
]

REABLEMENT = [
    ("r1", "p1", None, date(2016, 10, 5), date(2016, 10, 5), "at_home"),
    ("r2", "p1", None, date(2016, 11, 1), date(2016, 11, 1), "died"),
    ("r3", "p3", None, date(2016, 10, 9), date(2016, 10, 9), "at_home"),
    ("r4", "p3", None, date(2016, 12, 1), date(2016, 12, 1), "unknown"),
    ("r5", "p1", None, date(2016, 6, 1), date(2016, 6, 1), "at_home"),
]

SOCIAL_CARE = [
    # service, person, dob, type, setting, start, end, permanent, link, prob
    (
        "c1",
        "p1",
        date(1940, 6, 1),
        "residential_care",
        "residential",
        date(2016, 6, 1),
        None,
        True,
        "nhs_number",
        None,
    ),
    (
        "c2",
        "p1",
        date(1940, 6, 1),
        "nursing_care",
        "nursing",
        date(2016, 6, 20),
        None,
        True,
        "nhs_number",
        None,
    ),
    (
        "c3",
        "p3",
        date(1951, 10, 1),
        "residential_care",
        "residential",
        date(2016, 7, 1),
        None,
        True,
        "nhs_number",
        None,
    ),
    (
        "c4",
        None,
        date(1930, 1, 1),
        "residential_care",
        "residential",
        date(2016, 6, 5),
        None,
        True,
        None,
        None,
    ),
    (
        "c5",
        "p4",
        date(1945, 3, 1),
        "residential_care",
        "residential",
        date(2016, 4, 5),
        None,
        False,
        "nhs_number",
        None,
    ),
    (
        "c6",
        "p4",
        date(1945, 3, 1),
        "home_care",
        "community",
        date(2016, 4, 5),
        None,
        True,
        "nhs_number",
        None,
    ),
]

EXPERIENCE = [
    ("e1", "p1", "gpps", date(2016, 7, 1), "q32", True),
    ("e2", "p2", "gpps", date(2016, 7, 2), "q32", False),
    ("e3", "p3", "ascs", date(2016, 7, 3), "q3a", True),
    ("e5", "px", "gpps", date(2016, 7, 5), "q32", True),
]

SCHEME_ACTIVITY = [
    (A, "ICRS", date(2016, 4, 1), 30),
    (A, "ICRS", date(2016, 5, 1), 40),
    (A, "ICRS", date(2016, 6, 1), 50),
    (A, "OPU", date(2016, 4, 1), 10),
    (A, "OPU", date(2016, 6, 1), 5),
    # board B has a scheme of the same reference: never counted in A's plan
    (B, "ICRS", date(2016, 4, 1), 7000),
    (B, "OPU", date(2016, 5, 1), 900),
]


COLUMNS = {
    "residents": "person_id, birth_month, sex, lsoa, gp_practice, hwb_code, imd_decile, "
    "ltc_count, dementia_diagnosis, date_of_death, dementia_diagnosis_date",
    "hospital_spells": "spell_id, person_id, provider_code, admission_method, admission_date, "
    "discharge_date, primary_diagnosis, injury_due_to_fall, discharge_destination, "
    "discharge_ready_date",
    "delayed_transfers": "delay_id, person_id, spell_id, provider_code, census_month, "
    "delayed_days, reason, attribution",
    "reablement_episodes": "episode_id, person_id, spell_id, discharge_date, start_date, "
    "outcome_91_days",
    "social_care_services": "service_id, person_id, birth_month, service_type, setting, "
    "start_date, end_date, permanent_admission, link_method, match_probability",
    "experience_responses": "response_id, person_id, survey, response_date, question, positive",
    "scheme_activity": "hwb_code, scheme_reference, month, admissions_avoided",
    "population": "hwb_code, year, sex, age_band, population",
}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", rows)


def build_store(con: duckdb.DuckDBPyConnection, population: list[tuple] | None = None) -> None:
    create_store_tables(con)
    _insert(con, "residents", RESIDENTS)
    _insert(con, "hospital_spells", HOSPITAL_SPELLS)
    _insert(con, "delayed_transfers", DELAYED_TRANSFERS)
    _insert(con, "reablement_episodes", REABLEMENT)
    _insert(con, "social_care_services", SOCIAL_CARE)
    _insert(con, "experience_responses", EXPERIENCE)
    _insert(con, "scheme_activity", SCHEME_ACTIVITY)
    pop = population if population is not None else population_rows(A) + population_rows(B)
    _insert(con, "population", pop)


def store_file(path) -> str:
    """Write the tiny store to a DuckDB file and return its path."""
    con = duckdb.connect(str(path))
    build_store(con)
    con.close()
    return str(path)
