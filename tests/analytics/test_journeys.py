"""Pathway flows from the store: hand-made people with known paths, and suppression."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from bettercare.analytics.journeys import (
    JourneyDataError,
    ae_pathway,
    discharge_paths,
    discharge_pathway,
    readmission_pathway,
)
from bettercare.reporting.journeys import sankey_svg, write_pathways

D = date(2024, 6, 1)


def _store(
    people: list[dict], spells: list[dict], reab=(), care=(), ae=()
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE residents (person_id VARCHAR, birth_month DATE, gp_practice VARCHAR, "
        "date_of_death DATE)"
    )
    con.execute(
        "CREATE TABLE hospital_spells (spell_id VARCHAR, person_id VARCHAR, admission_method "
        "VARCHAR, admission_date DATE, discharge_date DATE, discharge_destination VARCHAR)"
    )
    con.execute(
        "CREATE TABLE reablement_episodes (episode_id VARCHAR, person_id VARCHAR, spell_id "
        "VARCHAR, start_date DATE, outcome_91_days VARCHAR)"
    )
    con.execute(
        "CREATE TABLE social_care_services (person_id VARCHAR, start_date DATE, "
        "permanent_admission BOOLEAN)"
    )
    con.execute(
        "CREATE TABLE ae_attendances (attendance_id VARCHAR, person_id VARCHAR, arrival_date "
        "DATE, arrival_mode VARCHAR, disposal VARCHAR)"
    )
    for table, rows in (
        ("residents", people),
        ("hospital_spells", spells),
        ("reablement_episodes", list(reab)),
        ("social_care_services", list(care)),
        ("ae_attendances", list(ae)),
    ):
        if rows:
            frame = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
    return con


def _person(pid: str, born=date(1940, 1, 1), death=None, practice="P1") -> dict:
    return {"person_id": pid, "birth_month": born, "gp_practice": practice, "date_of_death": death}


def _spell(sid, pid, adm, los=5, dest="usual_residence", method="non_elective") -> dict:
    return {
        "spell_id": sid,
        "person_id": pid,
        "admission_method": method,
        "admission_date": adm,
        "discharge_date": adm + timedelta(days=los),
        "discharge_destination": dest,
    }


@pytest.fixture()
def hand_made():
    people = [_person(f"p{i}") for i in range(20)]
    people[1]["date_of_death"] = D + timedelta(days=40)  # dies 35 days after discharge
    spells = [_spell(f"s{i}", f"p{i}", D) for i in range(20)]
    # p2: readmitted 10 days after discharge, still in hospital 91 days after the first
    spells.append(_spell("r2", "p2", D + timedelta(days=15), los=100))
    # p3: reablement, at home at 91 days; p4: permanent care home admission at day 30
    reab = [
        {
            "episode_id": "e3",
            "person_id": "p3",
            "spell_id": "s3",
            "start_date": D + timedelta(days=6),
            "outcome_91_days": "at_home",
        }
    ]
    care = [{"person_id": "p4", "start_date": D + timedelta(days=35), "permanent_admission": True}]
    # p5: elective spell only counts as nothing
    spells.append(_spell("el", "p5", D + timedelta(days=20), method="elective"))
    # a late spell so the store runs long enough for 91-day statuses
    spells.append(_spell("late", "p19", D + timedelta(days=200)))
    return _store(people, spells, reab, care)


def test_status_at_91_days_and_readmission_by_hand(hand_made):
    paths = discharge_paths(hand_made).set_index("spell_id")
    assert paths.loc["s1", "status_91_days"] == "died"
    assert paths.loc["s2", "status_91_days"] == "hospital"
    assert (
        bool(paths.loc["s2", "readmitted_30_days"]) and paths.loc["s2", "days_to_readmission"] == 10
    )
    assert (
        paths.loc["s3", "status_91_days"] == "at_home"
        and paths.loc["s3", "reablement"] == "reablement"
    )
    assert paths.loc["s3", "days_to_reablement"] == 1
    assert paths.loc["s4", "status_91_days"] == "care_home"
    assert paths.loc["s6", "status_91_days"] == "at home (no other record)"
    assert paths.loc["late", "status_91_days"] == "not yet known"
    assert "el" not in paths.index  # elective spells are not emergency admissions
    assert not bool(paths.loc["s5", "readmitted_30_days"])  # an elective spell is no readmission
    assert paths.loc["s0", "cohort"] == "65+" and paths.loc["s0", "period"] == "2024/25"


def test_flows_are_suppressed_and_rounded(hand_made):
    p = discharge_pathway(hand_made)
    first = p.flows[p.flows["stage"] == 0].set_index("target")["count"]
    assert first["usual_residence"] == 20  # 22 emergency spells -> rounded to 20
    status = p.flows[p.flows["stage"] == 2].set_index(["source", "target"])["count"]
    # 15 people "at home (no other record)" from "no reablement"; died 1 -> suppressed
    assert status[("no reablement", "at home (no other record)")] == 15
    assert pd.isna(status[("no reablement", "died")])
    los = p.timings.set_index(["what", "group"]).loc[("length of stay", "all")]
    assert los["median"] == 5.0 and los["people"] == 20
    reab = p.timings.set_index(["what", "group"]).loc[
        ("discharge to reablement start", "reablement")
    ]
    assert pd.isna(reab["median"])  # one person: not shown
    tables = p.tables
    practice = tables[(tables["breakdown"] == "practice") & (tables["stage"] == "admission")]
    assert practice["count"].tolist() == [20]


def test_readmission_and_ae_pathways(hand_made):
    r = readmission_pathway(hand_made)
    assert set(r.flows["target"]) == {"readmitted within 30 days", "not readmitted within 30 days"}
    ae = [
        {
            "attendance_id": f"a{i}",
            "person_id": f"p{i}",
            "arrival_date": D,
            "arrival_mode": "ambulance",
            "disposal": "admitted",
        }
        for i in range(10)
    ]
    con = _store(
        [_person(f"p{i}") for i in range(10)],
        [_spell(f"s{i}", f"p{i}", D + timedelta(days=1)) for i in range(10)],
        ae=ae,
    )
    p = ae_pathway(con)
    last = p.flows[p.flows["stage"] == 2].set_index("target")["count"]
    assert last["emergency admission"] == 10


def test_a_missing_table_is_one_line():
    con = duckdb.connect(":memory:")
    with pytest.raises(JourneyDataError, match="no table"):
        discharge_pathway(con)


def test_sankey_is_svg_and_files_are_written(hand_made, tmp_path):
    p = discharge_pathway(hand_made)
    root = ET.fromstring(sankey_svg(p))
    assert root.tag.endswith("svg")
    assert "suppressed" in sankey_svg(p)
    paths = write_pathways([p], tmp_path)
    assert {x.name for x in paths} == {
        "discharge_flows.csv",
        "discharge_tables.csv",
        "discharge_timings.csv",
        "discharge_sankey.svg",
    }
    assert all(x.is_file() for x in paths)


def test_tier_transitions_on_a_generated_store():
    from analytics.synthetic_store import tables, write_store
    from bettercare.analytics.journeys import GONE, NOT_TIERED, tier_pathway

    con = write_store(tables(population=4000))
    p = tier_pathway(con)
    assert p.stages == ("tier_before", "tier_after")
    assert set(p.flows["source"]) <= {"top 0.5%", "top 2%", "top 5%", NOT_TIERED}
    assert set(p.flows["target"]) <= {"top 0.5%", "top 2%", "top 5%", NOT_TIERED, GONE}
    # nobody goes from no tier to no tier (or to leaving): only tiered people are counted
    pairs = set(zip(p.flows["source"], p.flows["target"], strict=True))
    assert (NOT_TIERED, NOT_TIERED) not in pairs and (NOT_TIERED, GONE) not in pairs
    counts = p.flows["count"].dropna()
    assert (counts % 5 == 0).all()
