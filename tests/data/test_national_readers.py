"""Each national reader, on hand-made rows: every code it maps, and bad input located."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from conftest import NHS, write_csv

from bettercare.data.ingest.read import FileRejected, Issue
from bettercare.data.national import apc, cld, gp_registrations, ons_population
from bettercare.data.national.convert import LAYOUTS, read_national

APC_SPELL = apc.SPELLS.required
EPISODE = apc.EPISODES.required


def spell(i: int, admimeth: str = "21", disdest: str = "19", **kw: str) -> list[str]:
    row = {
        "susspellid": f"S{i}",
        "newnhsno": NHS[i % len(NHS)],
        "procode3": "RR8",
        "admimeth": admimeth,
        "admidate": "2024-04-03",
        "disdate": "2024-04-10",
        "diag_4_01": "S720",
        "cause": "W19X",
        "disdest": disdest,
    }
    row.update(kw)
    return [row[c] for c in APC_SPELL]


def rows_of(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def only(issues: list[Issue], rule: str) -> list[Issue]:
    return [i for i in issues if i.rule == rule]


# -- admission method -------------------------------------------------------------------

ADMISSION_METHODS = {  # hand table from the NHS Data Dictionary (codes/admission_method.py)
    "11": "elective",
    "12": "elective",
    "13": "elective",
    "21": "non_elective",
    "22": "non_elective",
    "23": "non_elective",
    "24": "non_elective",
    "25": "non_elective",
    "2A": "non_elective",
    "2B": "non_elective",
    "2C": "non_elective",
    "2D": "non_elective",
    "28": "non_elective",
    "31": "non_elective",
    "32": "non_elective",
    "81": "non_elective",
    "82": "non_elective",
    "83": "non_elective",
}


def test_every_admission_method_code_maps(tmp_path: Path) -> None:
    codes = list(ADMISSION_METHODS)
    path = write_csv(
        tmp_path / "apc_spells.csv",
        list(APC_SPELL),
        [spell(i, admimeth=c) for i, c in enumerate(codes)],
    )
    table, issues = read_national(path)
    got = {r["spell_id"]: r["admission_method"] for r in rows_of(table)}
    assert got == {f"S{i}": ADMISSION_METHODS[c] for i, c in enumerate(codes)}
    (retired,) = issues  # 28 "other means" was replaced by 2A-2D: maps, with a warning
    assert (retired.rule, retired.severity, retired.column, retired.value, retired.row) == (
        "retired_code",
        "warning",
        "admimeth",
        "28",
        2 + codes.index("28"),
    )


def test_unknown_admission_method_is_quarantined_naming_field_and_code(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "apc_spells.csv",
        list(APC_SPELL),
        [spell(0), spell(1, admimeth="2E"), spell(2, admimeth="99")],
    )
    table, issues = read_national(path)
    assert [r["spell_id"] for r in rows_of(table)] == ["S0"]
    assert [(i.row, i.column, i.rule, i.value, i.severity) for i in issues] == [
        (3, "admimeth", "unknown_code", "2E", "error"),
        (4, "admimeth", "unknown_code", "99", "error"),
    ]
    assert "admimeth '2E'" in issues[0].message


# -- discharge destination ----------------------------------------------------------------

DESTINATIONS = {
    "19": "usual_residence",
    "29": "other",
    "30": "other_hospital",
    "37": "other",
    "40": "other",
    "42": "other",
    "48": "other_hospital",
    "49": "other_hospital",
    "50": "other_hospital",
    "51": "other_hospital",
    "52": "other_hospital",
    "53": "other_hospital",
    "55": "nursing_home",
    "56": "care_home",
    "66": "other",
    "79": "died",
    "84": "other_hospital",
    "87": "other_hospital",
    "88": "other",
    "89": "other",
    "98": None,
    "99": None,
    "38": "other",
    "54": "care_home",
    "65": "care_home",
    "85": "care_home",  # retired
}


def test_every_discharge_destination_code_maps(tmp_path: Path) -> None:
    codes = list(DESTINATIONS)
    path = write_csv(
        tmp_path / "apc_spells.csv",
        list(APC_SPELL),
        [spell(i, disdest=c) for i, c in enumerate(codes)],
    )
    table, issues = read_national(path)
    got = {r["spell_id"]: r["discharge_destination"] for r in rows_of(table)}
    assert got == {f"S{i}": DESTINATIONS[c] for i, c in enumerate(codes)}
    assert sorted(i.value for i in issues) == ["38", "54", "65", "85"]
    assert {(i.rule, i.severity, i.column) for i in issues} == {
        ("retired_code", "warning", "disdest")
    }


def test_diagnosis_cause_and_hes_null_dates(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "apc_spells.csv",
        list(APC_SPELL),
        [
            spell(0, diag_4_01="S720", cause="W19X"),
            spell(1, diag_4_01="R55X", cause="W00X"),
            spell(2, diag_4_01="I10", cause="V011"),  # a road accident, not a fall
            spell(3, diag_4_01="S72.0", cause="", disdate="1801-01-01", disdest="98"),
        ],
    )
    table, issues = read_national(path)
    assert issues == []
    got = [
        (r["primary_diagnosis"], r["injury_due_to_fall"], r["discharge_date"])
        for r in rows_of(table)
    ]
    assert got == [
        ("S72.0", "true", "2024-04-10"),
        ("R55X", "true", "2024-04-10"),
        ("I10", "false", "2024-04-10"),
        ("S72.0", "false", None),
    ]


# -- episodes into spells ---------------------------------------------------------------------


def episode(spell_id: str, order: int, start: str, end: str, **kw: str) -> list[str]:
    row = dict(zip(APC_SPELL, spell(0), strict=True))
    row.update(
        susspellid=spell_id,
        epikey=f"{spell_id}-{order}",
        epiorder=str(order),
        epistart=start,
        epiend=end,
    )
    row.update(kw)
    return [row[c] for c in EPISODE]


def test_episodes_join_into_spells(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "apc_episodes.csv",
        list(EPISODE),
        [
            episode("S1", 2, "2024-04-05", "2024-04-10", disdest="56", diag_4_01="J189"),
            episode("S1", 1, "2024-04-03", "2024-04-05", disdate="", disdest=""),
            episode("S2", 1, "2024-04-03", "2024-04-10", admimeth="11", cause=""),
        ],
    )
    table, issues = read_national(path)
    assert issues == []
    assert rows_of(table) == [
        {
            "spell_id": "S1",
            "nhs_number": NHS[0],
            "provider_code": "RR8",
            "admission_method": "non_elective",
            "admission_date": "2024-04-03",
            "discharge_date": "2024-04-10",
            "primary_diagnosis": "S72.0",
            "injury_due_to_fall": "true",
            "discharge_destination": "care_home",
            "discharge_ready_date": None,
            "_row": 3,
        },
        {
            "spell_id": "S2",
            "nhs_number": NHS[0],
            "provider_code": "RR8",
            "admission_method": "elective",
            "admission_date": "2024-04-03",
            "discharge_date": "2024-04-10",
            "primary_diagnosis": "S72.0",
            "injury_due_to_fall": "false",
            "discharge_destination": "usual_residence",
            "discharge_ready_date": None,
            "_row": 4,
        },
    ]


@pytest.mark.parametrize(
    ("rows", "row", "field"),
    [
        (
            [
                episode("S1", 1, "2024-04-03", "2024-04-05"),  # epiorder 1, 3: a gap
                episode("S1", 3, "2024-04-05", "2024-04-10"),
            ],
            3,
            "epiorder",
        ),
        (
            [
                episode("S1", 1, "2024-04-03", "2024-04-05"),  # two first episodes
                episode("S1", 1, "2024-04-05", "2024-04-10"),
            ],
            3,
            "epiorder",
        ),
        (
            [
                episode("S1", 1, "2024-04-03", "2024-04-05"),  # starts after the first ended
                episode("S1", 2, "2024-04-07", "2024-04-10"),
            ],
            3,
            "epistart",
        ),
        (
            [
                episode("S1", 1, "2024-04-03", "2024-04-05"),  # another patient
                episode("S1", 2, "2024-04-05", "2024-04-10", newnhsno=NHS[1]),
            ],
            3,
            "newnhsno",
        ),
        (
            [
                episode("S1", 1, "2024-04-03", "2024-04-05"),
                episode("S1", "x", "2024-04-05", "2024-04-10"),
            ],
            3,
            "epiorder",
        ),  # type: ignore[arg-type]
    ],
)
def test_episodes_that_do_not_form_spells_reject_the_file(
    tmp_path: Path, rows: list[list[str]], row: int, field: str
) -> None:
    path = write_csv(tmp_path / "apc_episodes.csv", list(EPISODE), rows)
    with pytest.raises(FileRejected) as exc:
        read_national(path)
    first = exc.value.issues[0]
    assert (first.file, first.row, first.column, first.rule) == (
        "apc_episodes.csv",
        row,
        field,
        "episodes_not_a_spell",
    )


# -- GP registrations -------------------------------------------------------------------------


def registration(i: int, gender: str) -> list[object]:
    row = [
        NHS[i],
        "Ann",
        "Lee",
        "1950-01-01",
        gender,
        "LS1 4AB",
        "E01000001",
        "A12345",
        "E08000035",
        3,
        2,
        "false",
        "",
        "",
    ]
    return row


@pytest.mark.parametrize(("code", "sex"), [("1", "M"), ("2", "F"), ("9", "U"), ("X", "U")])
def test_every_gender_code_maps(tmp_path: Path, code: str, sex: str) -> None:
    path = write_csv(
        tmp_path / "gp_registrations.csv",
        list(gp_registrations.LAYOUT.required),
        [registration(0, code)],
    )
    table, issues = read_national(path)
    assert issues == []
    (row,) = rows_of(table)
    assert (row["sex"], row["lsoa"], row["gp_practice"]) == (sex, "E01000001", "A12345")


def test_unknown_gender_code_and_dropped_optional_field(tmp_path: Path) -> None:
    header = [*gp_registrations.LAYOUT.required, "ethnic_category"]
    path = write_csv(
        tmp_path / "gp_registrations.csv",
        header,
        [[*registration(0, "2"), "A"], [*registration(1, "0"), "A"]],
    )
    table, issues = read_national(path)
    assert [r["nhs_number"] for r in rows_of(table)] == [NHS[0]]
    assert "ethnic_category" not in table.column_names  # data minimisation: dropped
    assert [(i.row, i.column, i.rule, i.value) for i in issues] == [
        (3, "gender", "unknown_code", "0")
    ]


# -- CLD --------------------------------------------------------------------------------------


def cld_row(
    i: int, service_type: str, local: str = "home_care", permanent: str = "false"
) -> list[str]:
    values = {
        "event_reference": f"C{i}",
        "nhs_number": NHS[0],
        "given_name": "Ann",
        "family_name": "Lee",
        "date_of_birth": "1940-01-01",
        "postcode": "LS1 4AB",
        "local_service_type": local,
        "event_start_date": "2024-04-11",
        "event_end_date": "",
        "permanent_admission": permanent,
        "service_type": service_type,
    }
    return [values[c] for c in cld.HEADER]


def test_every_cld_service_type_maps(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "cld.csv",
        list(cld.HEADER),
        [
            cld_row(1, "Long Term Support: Nursing Care", "nursing_care", "true"),
            cld_row(2, "Long Term Support: Residential Care", "residential_care", "true"),
            cld_row(3, "Long Term Support: Community"),
            cld_row(4, "Long Term Support: Prison"),
            cld_row(5, "", "equipment"),
            cld_row(6, "Short Term Support: Made Up"),  # not a confirmed code
        ],
    )
    table, issues = read_national(path)
    got = [
        (r["service_id"], r["setting"], r["service_type"], r["permanent_admission"])
        for r in rows_of(table)
    ]
    assert got == [
        ("C1", "nursing", "nursing_care", "true"),
        ("C2", "residential", "residential_care", "true"),
        ("C3", "community", "home_care", "false"),
        ("C4", "community", "home_care", "false"),
        ("C5", "community", "equipment", "false"),
    ]
    assert [(i.row, i.column, i.rule, i.value) for i in issues] == [
        (7, "service_type", "unknown_code", "Short Term Support: Made Up")
    ]


# -- ONS population ---------------------------------------------------------------------------


def ons_rows(code: str = "E10000018", ages: range = range(91)) -> list[list[object]]:
    return [[code, s, a, a + (1000 if s == "2" else 0)] for s in ("1", "2") for a in ages]


def test_population_single_years_sum_into_bands(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "ons_population.csv", ["code", "sex", "age", "population_2016"], ons_rows()
    )
    table, issues = read_national(path)
    assert issues == []
    got = {
        (r["sex"], r["age_band"]): (r["population"], r["year"], r["hwb_code"])
        for r in rows_of(table)
    }
    assert len(got) == 40
    # hand sums: 0+1+2+3+4 = 10; 15+16+17 = 48; 18+19 = 37; 90 alone (90 and over)
    assert got[("M", "0-4")] == ("10", "2016", "E10000018")
    assert got[("M", "15-17")][0] == "48"
    assert got[("M", "18-19")][0] == "37"
    assert got[("M", "90+")][0] == "90"
    assert got[("F", "0-4")][0] == str(5000 + 10)


def test_population_with_missing_ages_rejects_the_file(tmp_path: Path) -> None:
    rows = [r for r in ons_rows() if not (r[1] == "2" and r[2] in (3, 4, 5, 9))]
    path = write_csv(
        tmp_path / "ons_population.csv", ["code", "sex", "age", "population_2016"], rows
    )
    with pytest.raises(FileRejected) as exc:
        read_national(path)
    (issue,) = exc.value.issues
    assert (issue.file, issue.row, issue.column, issue.rule) == (
        "ons_population.csv",
        93,
        "age",
        "missing_ages",
    )
    assert "ages 3-5, 9 missing" in issue.message


def test_population_bad_age_and_count_are_located(tmp_path: Path) -> None:
    rows = ons_rows()
    rows[4][2] = "ninety"
    rows[7][3] = "-3"
    path = write_csv(
        tmp_path / "ons_population.csv", ["code", "sex", "age", "population_2016"], rows
    )
    with pytest.raises(FileRejected) as exc:
        read_national(path)
    assert [(i.row, i.column, i.rule) for i in exc.value.issues] == [
        (6, "age", "invalid_age"),
        (9, "population_2016", "invalid_population"),
    ]


# -- layouts ----------------------------------------------------------------------------------


def test_a_file_in_another_datasets_layout_is_rejected_naming_it(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "apc_spells.csv",
        list(cld.HEADER),
        [cld_row(1, "Long Term Support: Community")],
    )
    with pytest.raises(FileRejected) as exc:
        read_national(path)
    first = exc.value.issues[0]
    assert (first.row, first.rule) == (1, "wrong_dataset")
    assert "cld" in first.message
    assert any(i.rule == "missing_column" and i.column == "admimeth" for i in exc.value.issues)


def test_every_layout_is_known_to_the_dispatcher() -> None:
    assert {lay.name for lay in LAYOUTS} == {
        "gp_registrations",
        "apc_episodes",
        "apc_spells",
        "ecds",
        "cld",
        "ons_population",
    }
    assert ons_population.band_of(0) == "0-4" and ons_population.band_of(90) == "90+"


SAMPLES = Path(__file__).parents[2] / "docs" / "datasets" / "samples"


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.csv")))
def test_the_documented_sample_files_read_cleanly(name: str) -> None:
    table, issues = read_national(SAMPLES / name)
    assert issues == []
    assert table.num_rows > 0


def test_discharge_ready_date_is_read_from_the_last_episode(tmp_path: Path) -> None:
    header = [*EPISODE, "discharge_ready_date"]
    rows = [
        [*episode("S1", 1, "2024-04-03", "2024-04-05", disdate="", disdest=""), ""],
        [*episode("S1", 2, "2024-04-05", "2024-04-10"), "2024-04-08"],
    ]
    table, issues = read_national(write_csv(tmp_path / "apc_episodes.csv", header, rows))
    assert issues == []
    assert [r["discharge_ready_date"] for r in rows_of(table)] == ["2024-04-08"]


# -- CLD: every Service Type of both releases, the Service Component, the local field ----------

SERVICE_TYPES = {  # hand table from codes/cld_service_type.py's sources -> setting
    "Long Term Support: Nursing Care": "nursing",
    "Long Term Support: Residential Care": "residential",
    "Long Term Support: Community": "community",
    "Long Term Support: Prison": "community",
    "Short Term Support: ST-Max": "community",
    "Short Term Support: Ongoing Low Level": "community",
    "Short Term Support: Other Short Term": "community",
    "Long term support: Nursing care": "nursing",
    "Long term support: Residential care": "residential",
    "Long term support: Community": "community",
    "Long term support: Prison": "community",
    "Short term support: ST-Max": "community",
    "Short term support: Ongoing low level": "community",
    "Short term support: Other short term": "community",
    "Unpaid carer support: Direct to unpaid carer": "community",
    "Unpaid carer support: Support involving the person cared-for": "community",
}
CLD_WITH_COMPONENT = [*cld.HEADER, "service_component"]


def test_every_service_type_of_both_releases_maps_to_a_setting(tmp_path: Path) -> None:
    rows = [cld_row(i, t, "day_care") for i, t in enumerate(SERVICE_TYPES)]
    table, issues = read_national(write_csv(tmp_path / "cld.csv", list(cld.HEADER), rows))
    assert issues == []
    assert [r["setting"] for r in rows_of(table)] == list(SERVICE_TYPES.values())
    assert {r["service_type"] for r in rows_of(table)} == {"day_care"}  # the local field wins


def test_the_service_comes_from_the_cld_where_it_says_it(tmp_path: Path) -> None:
    cases = [  # (service type, component) -> (service_type, setting)
        ("Short Term Support: ST-Max", "", "reablement", "community"),
        ("Short term support: ST-Max", "", "reablement", "community"),
        ("Long Term Support: Residential Care", "", "residential_care", "residential"),
        ("Long term support: Residential care", "", "residential_care", "residential"),
        ("Long Term Support: Nursing Care", "", "nursing_care", "nursing"),
        ("Long term support: Nursing care", "", "nursing_care", "nursing"),
        (
            "Long Term Support: Community",
            "Home support or domiciliary care",
            "home_care",
            "community",
        ),
        ("Long term support: Community", "Direct payment", "direct_payment", "community"),
        ("Short Term Support: Ongoing Low Level", "Equipment", "equipment", "community"),
        (
            "Short Term Support: Other Short Term",
            "Short term residential care",
            "residential_care",
            "residential",
        ),
        (
            "Short term support: Other short term",
            "Short term nursing care",
            "nursing_care",
            "nursing",
        ),
        ("Long Term Support: Community", "Shared Lives", None, "community"),  # not read
    ]
    rows = [
        [*cld_row(i, kind, local=""), component] for i, (kind, component, _, _) in enumerate(cases)
    ]
    table, issues = read_national(write_csv(tmp_path / "cld.csv", CLD_WITH_COMPONENT, rows))
    assert issues == []  # an unconfirmed component is accepted, never quarantined
    got = [(r["service_type"], r["setting"]) for r in rows_of(table)]
    assert got == [(service, setting) for _, _, service, setting in cases]


def test_the_short_term_component_sets_the_setting_only_for_other_short_term(
    tmp_path: Path,
) -> None:
    rows = [
        [*cld_row(1, "Long Term Support: Community", "home_care"), "Short term residential care"],
        [*cld_row(2, "", "respite"), "Short term nursing care"],
    ]
    table, _ = read_national(write_csv(tmp_path / "cld.csv", CLD_WITH_COMPONENT, rows))
    assert [(r["service_type"], r["setting"]) for r in rows_of(table)] == [
        ("home_care", "community"),
        ("respite", "community"),
    ]


def test_without_the_local_field_the_cld_service_is_read(tmp_path: Path) -> None:
    header = [c for c in cld.HEADER if c != "local_service_type"]
    full = cld_row(1, "Short Term Support: ST-Max")
    rows = [[v for c, v in zip(cld.HEADER, full, strict=True) if c != "local_service_type"]]
    table, issues = read_national(write_csv(tmp_path / "cld.csv", header, rows))
    assert issues == []
    assert rows_of(table)[0]["service_type"] == "reablement"
