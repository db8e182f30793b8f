"""ECDS A&E attendances: the reader on hand-made rows (every code it maps, bad input
located), through the whole ingest, and the synthetic A&E feed (its own random stream:
every earlier feed is unchanged)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.csv as pacsv
import pytest
from conftest import KEY, NHS, table_rows, write_csv, write_feeds
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.ingest import ingest
from bettercare.data.ingest.read import FileRejected, Issue
from bettercare.data.national import cld, ecds
from bettercare.data.national.convert import read_national
from bettercare.data.schema import FEEDS
from bettercare.data.synth import preset
from bettercare.data.synth.generator import build_tables

HEADER = list(ecds.LAYOUT.required)
AMBULANCE = "1048031000000100"
OWN_TRANSPORT = "1048071000000103"
HOME = "306689006"
WARD = "306706006"


def attendance(i: int, **kw: str) -> list[str]:
    row = {
        "ec_ident": f"A{i}",
        "nhs_number": NHS[i % len(NHS)],
        "der_provider_code": "RR8",
        "arrival_date": "2024-04-03",
        "ec_department_type": "01",
        "ec_arrival_mode_snomed_ct": AMBULANCE,
        "discharge_destination_snomed_ct": WARD,
        "age_at_arrival": "84",
    }
    row.update(kw)
    return [row[c] for c in HEADER]


def read(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER) -> tuple:
    table, issues = read_national(write_csv(tmp_path / "ecds.csv", header, rows))
    return table.to_pylist(), issues


def located(issues: list[Issue]) -> list[tuple]:
    return [(i.file, i.row, i.column, i.rule, i.value) for i in issues]


# -- every code mapped (hand tables from codes/ecds.py's sources) ------------------------------

DEPARTMENT_TYPES = {"01": "type_1", "02": "type_2", "03": "type_3", "04": "type_4"}
ARRIVAL_MODES = {
    "1048031000000100": "ambulance",  # emergency road ambulance
    "1048041000000109": "ambulance",  # ... with medical escort
    "1048021000000102": "ambulance",  # non-emergency road ambulance
    "1048051000000107": "ambulance",  # helicopter air ambulance
    "1048081000000101": "ambulance",  # medical repatriation air ambulance
    "1048071000000103": "other",  # own transport
    "1048061000000105": "other",  # public transport
    "1048001000000106": "other",  # police transport
    "1047991000000102": "other",  # prison transport
}
DESTINATIONS = {
    "306706006": "admitted",  # ward
    "1066361000000104": "admitted",  # high dependency unit
    "1066391000000105": "admitted",  # intensive care unit
    "1066371000000106": "admitted",  # coronary care unit
    "1066381000000108": "admitted",  # special baby care unit
    "1066401000000108": "admitted",  # neonatal intensive care unit
    "1066331000000109": "ambulatory",  # emergency department short stay ward
    "1066341000000100": "ambulatory",  # ambulatory emergency care
    "1066351000000102": "ambulatory",  # hospital at home
    "306689006": "discharged",  # home
    "306691003": "discharged",  # residential home
    "306694006": "discharged",  # nursing home
    "306705005": "discharged",  # police custody
    "50861005": "discharged",  # legal custody
    "19712007": "transferred",  # another health care facility
    "183919006": "transferred",  # hospice
    "305398007": "died",  # mortuary
}


def test_every_department_type_maps(tmp_path: Path) -> None:
    rows, issues = read(
        tmp_path, [attendance(i, ec_department_type=c) for i, c in enumerate(DEPARTMENT_TYPES)]
    )
    assert issues == []
    assert [r["department_type"] for r in rows] == list(DEPARTMENT_TYPES.values())


def test_every_arrival_mode_maps(tmp_path: Path) -> None:
    rows, issues = read(
        tmp_path, [attendance(i, ec_arrival_mode_snomed_ct=c) for i, c in enumerate(ARRIVAL_MODES)]
    )
    assert issues == []
    assert [r["arrival_mode"] for r in rows] == list(ARRIVAL_MODES.values())


def test_every_discharge_destination_maps(tmp_path: Path) -> None:
    rows, issues = read(
        tmp_path,
        [attendance(i, discharge_destination_snomed_ct=c) for i, c in enumerate(DESTINATIONS)],
    )
    assert issues == []
    assert [r["disposal"] for r in rows] == list(DESTINATIONS.values())


def test_the_other_fields_map_and_empty_codes_read_as_not_recorded(tmp_path: Path) -> None:
    header = [*HEADER, "der_postcode_lsoa_2011_code", "gp_practice_code", "ec_attendancecategory"]
    rows, issues = read(
        tmp_path,
        [
            [*attendance(1), "E01000001", "A12345", "1"],
            [
                *attendance(2, ec_arrival_mode_snomed_ct="", discharge_destination_snomed_ct=""),
                "",
                "",
                "",
            ],
        ],
        header,
    )
    assert issues == []
    assert rows == [
        {
            "attendance_id": "A1",
            "nhs_number": NHS[1],
            "provider_code": "RR8",
            "arrival_date": "2024-04-03",
            "department_type": "type_1",
            "arrival_mode": "ambulance",
            "disposal": "admitted",
            "age": "84",
            "lsoa": "E01000001",
            "gp_practice": "A12345",
            "_row": 2,
        },
        {
            "attendance_id": "A2",
            "nhs_number": NHS[2],
            "provider_code": "RR8",
            "arrival_date": "2024-04-03",
            "department_type": "type_1",
            "arrival_mode": None,
            "disposal": None,
            "age": "84",
            "lsoa": None,
            "gp_practice": None,
            "_row": 3,
        },
    ]


def test_without_the_optional_fields_lsoa_and_practice_are_empty(tmp_path: Path) -> None:
    rows, issues = read(tmp_path, [attendance(1)])
    assert issues == []
    assert (rows[0]["lsoa"], rows[0]["gp_practice"]) == (None, None)


# -- bad input -------------------------------------------------------------------------------


def test_unknown_codes_are_quarantined_naming_field_and_code(tmp_path: Path) -> None:
    rows, issues = read(
        tmp_path,
        [
            attendance(1),
            attendance(2, ec_department_type="05"),
            attendance(3, ec_arrival_mode_snomed_ct="1048011000000104"),  # not in the list
            attendance(4, discharge_destination_snomed_ct="989501000000106"),  # a follow-up
            attendance(5),
        ],
    )
    assert [r["attendance_id"] for r in rows] == ["A1", "A5"]
    assert located(issues) == [
        ("ecds.csv", 3, "ec_department_type", "unknown_code", "05"),
        ("ecds.csv", 4, "ec_arrival_mode_snomed_ct", "unknown_code", "1048011000000104"),
        ("ecds.csv", 5, "discharge_destination_snomed_ct", "unknown_code", "989501000000106"),
    ]
    assert "EC department type" in issues[0].message


def test_a_file_in_another_datasets_layout_is_rejected(tmp_path: Path) -> None:
    cld_header = list(cld.LAYOUT.required)
    with pytest.raises(FileRejected) as exc:
        read_national(write_csv(tmp_path / "ecds.csv", cld_header, [["x"] * len(cld_header)]))
    first = exc.value.issues[0]
    assert (first.file, first.row, first.rule) == ("ecds.csv", 1, "wrong_dataset")
    assert "cld" in first.message
    # and ECDS fields in another dataset's file name ECDS
    with pytest.raises(FileRejected) as exc:
        read_national(write_csv(tmp_path / "cld.csv", HEADER, [attendance(1)]))
    assert exc.value.issues[0].rule == "wrong_dataset"
    assert "ecds" in exc.value.issues[0].message


def test_a_missing_field_rejects_the_file(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "ec_department_type"]
    with pytest.raises(FileRejected) as exc:
        read_national(write_csv(tmp_path / "ecds.csv", header, [attendance(1)[:-1]]))
    assert [(i.row, i.column, i.rule) for i in exc.value.issues] == [
        (1, "ec_department_type", "missing_column")
    ]


# -- through the ingest ----------------------------------------------------------------------

INTERNAL = [
    ["A1", NHS[0], "RR8", "2024-04-03", "type_1", "ambulance", "admitted", "84", "E01000001", ""],
    ["A2", NHS[3], "RR8", "2024-05-01", "type_3", "other", "discharged", "63", "", "A12345"],
]
NATIONAL_HEADER = [*HEADER, "der_postcode_lsoa_2011_code", "gp_practice_code"]
NATIONAL = [
    ["A1", NHS[0], "RR8", "2024-04-03", "01", AMBULANCE, WARD, "84", "E01000001", ""],
    ["A2", NHS[3], "RR8", "2024-05-01", "03", OWN_TRANSPORT, HOME, "63", "", "A12345"],
]


def run(directory: Path, store: Path) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["ingest", str(directory), "--store", str(store)])
    return res.exit_code, res.output


def quarantine(store: Path) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(
            'SELECT feed, file, "row", "column", rule, value FROM quarantine ORDER BY ALL'
        ).fetchall()
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.usefixtures("key_env")
def test_ecds_loads_the_same_store_as_the_internal_layout(tmp_path: Path) -> None:
    internal = write_feeds(tmp_path / "i")
    write_csv(internal / "ae_attendances.csv", FEEDS["ae_attendances"].column_names, INTERNAL)
    national = write_feeds(tmp_path / "n")
    write_csv(national / "ecds.csv", NATIONAL_HEADER, NATIONAL)
    a, b = tmp_path / "a" / "s.duckdb", tmp_path / "b" / "s.duckdb"
    assert run(internal, a)[0] == 0
    code, out = run(national, b)
    assert code == 0, out
    rows = table_rows(b, "ae_attendances")
    assert rows == table_rows(a, "ae_attendances")
    assert len(rows) == 2
    assert all(NHS[0] not in map(str, r) for r in rows)  # pseudonymised: person_id only


@pytest.mark.slow
@pytest.mark.usefixtures("key_env")
def test_ingest_quarantines_a_bad_row_naming_the_ecds_field(tmp_path: Path) -> None:
    directory = write_feeds(tmp_path / "n")
    rows = [list(r) for r in NATIONAL]
    rows[0][6] = "123"  # not a discharge destination
    rows[1][7] = "sixty"  # age_at_arrival not a whole number
    write_csv(directory / "ecds.csv", NATIONAL_HEADER, rows)
    store = tmp_path / "s" / "s.duckdb"
    assert run(directory, store)[0] == 1
    got = quarantine(store)
    assert got[0] == (
        "ae_attendances",
        "ecds.csv",
        2,
        "discharge_destination_snomed_ct",
        "unknown_code",
        "123",
    )
    assert got[1][:4] == ("ae_attendances", "ecds.csv", 3, "age_at_arrival")
    assert table_rows(store, "ae_attendances") == []


@pytest.mark.slow
@pytest.mark.usefixtures("key_env")
def test_a_rejected_ecds_file_loads_nothing_of_it(tmp_path: Path) -> None:
    directory = write_feeds(tmp_path / "n")
    (directory / "ecds.csv").write_bytes((directory / "hospital_spells.csv").read_bytes())
    store = tmp_path / "s" / "s.duckdb"
    code, out = run(directory, store)
    assert code == 2
    assert "ecds.csv" in out
    assert table_rows(store, "ae_attendances") == []
    assert len(table_rows(store, "hospital_spells")) == 3  # the other files load


# -- the synthetic feed ----------------------------------------------------------------------

#: SHA-256 of each feed's CSV for this fixed run, computed on main before the A&E feed was
#: added: the new feed draws from its own stream, so none of these may change.
BEFORE_AE = {
    "_truth/residents_risk": "ccc750e83fda310c437c131d274d3f8417ed29eb88198654f1fc400709570b42",
    "_truth/social_care_person": "ced0761bdd2ddd1af70c82f65af6e2e09e65973ff50b3a8410ffc83fd58194c4",
    "delayed_transfers": "ecf3c7d91407a2bf3ce5d3d56b7d240ee5a323e84d073b9263ef58c7fbf9b79b",
    "experience_responses": "f567631834066c423902fa247c200a50c1d5e3b9d36f77afb3f7818210a3278e",
    "hospital_spells": "8b42b1e60a248c92c6c0da495e1ca8158f77240184530c472c1b0200440e7430",
    "opt_outs": "db349c6e8b263f2e143a99c49c01a627384dcb3d4f7266917edac23e22616e69",
    "population": "886b5b38b574fd67b23778ae89cd73a50b7145fdae59604b2d63914793e684dd",
    "reablement_episodes": "4f32816acabd794de93152bd0204530812d3ef2745e484957a8ca8eeb924a88c",
    "residents": "1253b198beb634c5344742d21aab045078e3593d53bfdee89e0c19de4251b12d",
    "scheme_activity": "9e1111a704669154336313e6ceb1f52ae45555c01ec9a44195f8ae2766fd4034",
    "social_care_services": "ea2c87eff3d6da64222f1064e11d0e54a14c0867738bb794ddb5c3e18e4d891d",
}


@pytest.fixture(scope="module")
def synthetic() -> dict:
    params = preset("leicestershire").with_population(3000)
    return build_tables(params, ["2016/17", "2017/18"], 11, lambda _step: None)


def digest(table: object) -> str:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    return hashlib.sha256(buf.getvalue()).hexdigest()


def test_adding_the_ae_feed_left_every_other_feed_unchanged(synthetic: dict) -> None:
    got = {name: digest(t) for name, t in synthetic.items() if name != "ae_attendances"}
    # scheme activity has since gained its board's code (first column), nothing else
    activity = synthetic["scheme_activity"]
    assert set(activity.column("hwb_code").to_pylist()) == {"E10000018"}  # Leicestershire
    got["scheme_activity"] = digest(activity.drop_columns(["hwb_code"]))
    assert got == BEFORE_AE


def test_synthetic_attendances_are_plausible(synthetic: dict) -> None:
    ae = synthetic["ae_attendances"].to_pandas()
    res = synthetic["residents"].to_pandas().set_index("nhs_number")
    spells = synthetic["hospital_spells"].to_pandas()
    assert len(ae) > 1000
    assert ae["arrival_date"].astype(str).between("2016-04-01", "2018-03-31").all()
    born = res.loc[ae["nhs_number"], "date_of_birth"].to_numpy()
    died = res.loc[ae["nhs_number"], "date_of_death"].to_numpy()
    arrival = ae["arrival_date"].to_numpy()
    assert (arrival >= born).all()
    alive = [d is None or d != d or a <= d for a, d in zip(arrival, died, strict=True)]
    assert all(alive)
    # the age is the age on the arrival date
    age = [
        a.year - b.year - ((a.month, a.day) < (b.month, b.day))
        for a, b in zip(arrival, born, strict=True)
    ]
    assert ae["age"].tolist() == age
    # every admitted attendance is an emergency admission of the same person that day
    emergency = spells[spells["admission_method"] == "non_elective"]
    admitted = ae[ae["disposal"] == "admitted"]
    keys = set(zip(emergency["nhs_number"], emergency["admission_date"], strict=True))
    assert set(zip(admitted["nhs_number"], admitted["arrival_date"], strict=True)) <= keys
    assert len(admitted) > 0.5 * (emergency["admission_date"].astype(str) >= "2016-04-01").sum()
    assert set(ae["department_type"]) == {"type_1", "type_2", "type_3", "type_4"}
    assert ae["arrival_mode"].isna().mean() < 0.05
    assert 0.1 < (ae["arrival_mode"] == "ambulance").mean() < 0.5
    assert np.isin(ae["disposal"].dropna(), ["admitted", "ambulatory", "discharged"]).mean() > 0.9


def test_same_seed_same_attendances() -> None:
    params = preset("rutland").with_population(800)
    a = build_tables(params, ["2016/17"], 5, lambda _step: None)["ae_attendances"]
    b = build_tables(params, ["2016/17"], 5, lambda _step: None)["ae_attendances"]
    c = build_tables(params, ["2016/17"], 6, lambda _step: None)["ae_attendances"]
    assert a.equals(b)
    assert not a.equals(c)


@pytest.mark.slow
@pytest.mark.usefixtures("key_env")
def test_the_documented_sample_ingests(tmp_path: Path) -> None:
    sample = Path(__file__).parents[2] / "docs" / "datasets" / "samples" / "ecds.csv"
    directory = write_feeds(tmp_path / "n")
    (directory / "ecds.csv").write_bytes(sample.read_bytes())
    result = ingest(directory, tmp_path / "s" / "s.duckdb", KEY.encode())
    (ae,) = [f for f in result.feeds if f.feed == "ae_attendances"]
    assert (ae.status, ae.rows_quarantined) == ("loaded", 0)
    assert ae.rows_loaded == ae.rows_read > 0
