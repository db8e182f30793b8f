"""One test per bad-input class: located and ruled in the report, valid rows load, bad rows
quarantined, and the exit code says so."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from conftest import NHS, spells_rows, table_rows, write_csv
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.schema import FEEDS

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

SPELL_COLS = FEEDS["hospital_spells"].column_names


def run(feed_dir: Path, store: Path) -> tuple[int, list[dict[str, str]], str]:
    result = CliRunner().invoke(app, ["ingest", str(feed_dir), "--store", str(store)])
    report_path = store.parent / "ingest_report.csv"
    report: list[dict[str, str]] = []
    if report_path.exists():
        with open(report_path, newline="") as fh:
            report = list(csv.DictReader(fh))
    return result.exit_code, report, result.output


def find(report: list[dict[str, str]], rule: str) -> list[dict[str, str]]:
    return [r for r in report if r["rule"] == rule]


def spells_with(feed_dir: Path, index: int, column: str, value: str) -> None:
    rows = spells_rows()
    rows[index][SPELL_COLS.index(column)] = value
    write_csv(feed_dir / "hospital_spells.csv", SPELL_COLS, rows)


def quarantined(store: Path, rule: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(
            'SELECT feed, file, "row", "column", value FROM quarantine WHERE rule = ?', [rule]
        ).fetchall()
    finally:
        con.close()


def spell_ids(store: Path) -> list[str]:
    return sorted(r[1] for r in table_rows(store, "hospital_spells"))


@pytest.mark.usefixtures("key_env")
class TestFileLevel:
    def test_wrong_delimiter(self, feed_dir: Path, store: Path) -> None:
        write_csv(feed_dir / "hospital_spells.csv", SPELL_COLS, spells_rows(), delimiter=";")
        code, report, out = run(feed_dir, store)
        assert code == 2
        (issue,) = find(report, "wrong_delimiter")
        assert issue["file"] == "hospital_spells.csv" and issue["row"] == "1"
        assert "';'" in issue["message"]
        assert spell_ids(store) == []  # nothing of the file
        assert len(table_rows(store, "residents")) == 6  # other files still load
        assert "Traceback" not in out

    def test_missing_column(self, feed_dir: Path, store: Path) -> None:
        cols = [c for c in SPELL_COLS if c != "provider_code"]
        rows = [
            [v for c, v in zip(SPELL_COLS, r, strict=True) if c != "provider_code"]
            for r in spells_rows()
        ]
        write_csv(feed_dir / "hospital_spells.csv", cols, rows)
        code, report, _ = run(feed_dir, store)
        assert code == 2
        (issue,) = find(report, "missing_column")
        assert (issue["file"], issue["row"], issue["column"]) == (
            "hospital_spells.csv",
            "1",
            "provider_code",
        )
        assert spell_ids(store) == []

    def test_extra_column(self, feed_dir: Path, store: Path) -> None:
        rows = [[*r, 7] for r in spells_rows()]
        write_csv(feed_dir / "hospital_spells.csv", [*SPELL_COLS, "length_of_stay"], rows)
        code, report, _ = run(feed_dir, store)
        assert code == 2
        (issue,) = find(report, "unknown_column")
        assert (issue["file"], issue["row"], issue["column"]) == (
            "hospital_spells.csv",
            "1",
            "length_of_stay",
        )
        assert spell_ids(store) == []

    def test_unknown_feed_file(self, feed_dir: Path, store: Path) -> None:
        write_csv(feed_dir / "spells_2024.csv", SPELL_COLS, spells_rows())
        code, report, _ = run(feed_dir, store)
        assert code == 2
        assert find(report, "unknown_feed")[0]["file"] == "spells_2024.csv"
        assert spell_ids(store) == ["S1", "S2", "S3"]


@pytest.mark.usefixtures("key_env")
class TestRowLevel:
    def _check(
        self, store: Path, report: list[dict[str, str]], rule: str, row: str, column: str
    ) -> dict[str, str]:
        (issue,) = find(report, rule)
        assert (issue["file"], issue["row"], issue["column"], issue["severity"]) == (
            "hospital_spells.csv",
            row,
            column,
            "error",
        )
        assert len(quarantined(store, rule)) == 1
        return issue

    def test_bad_date(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 1, "admission_date", "2024-13-05")
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issue = self._check(store, report, "bad_date", "3", "admission_date")
        assert issue["value"] == "2024-13-05"
        assert spell_ids(store) == ["S1", "S3"]

    def test_nhs_number_mod11(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 0, "nhs_number", "9990000019")  # check digit should be 8
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issue = self._check(store, report, "nhs_number_mod11", "2", "nhs_number")
        assert issue["value"] == "999*****19"  # never the full number
        assert spell_ids(store) == ["S2", "S3"]

    def test_negative_length_of_stay(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 0, "discharge_date", "2024-04-02")  # admitted 2024-04-03
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issue = self._check(store, report, "discharge_before_admission", "2", "discharge_date")
        assert "length of stay -1 days" in issue["message"]
        assert spell_ids(store) == ["S2", "S3"]

    def test_discharge_before_admission(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 2, "discharge_date", "2023-12-25")  # admitted 2024-05-01
        code, report, _ = run(feed_dir, store)
        assert code == 1
        self._check(store, report, "discharge_before_admission", "4", "discharge_date")
        assert spell_ids(store) == ["S1", "S2"]

    def test_discharge_ready_date_before_admission(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 0, "discharge_ready_date", "2024-04-01")  # admitted 2024-04-03
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issue = self._check(store, report, "ready_before_admission", "2", "discharge_ready_date")
        assert "(-2 days)" in issue["message"]
        assert spell_ids(store) == ["S2", "S3"]

    def test_discharge_ready_date_after_discharge(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 1, "discharge_ready_date", "2024-04-07")  # discharged 04-06
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issue = self._check(store, report, "discharge_before_ready", "3", "discharge_date")
        assert "(-1 days)" in issue["message"]
        assert spell_ids(store) == ["S1", "S3"]

    def test_discharge_ready_date_may_be_empty(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 0, "discharge_ready_date", "")
        assert run(feed_dir, store)[0] == 0
        assert spell_ids(store) == ["S1", "S2", "S3"]

    def test_duplicate_spell_id(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 2, "spell_id", "S1")
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issues = find(report, "duplicate_key")
        assert [(i["row"], i["column"]) for i in issues] == [("2", "spell_id"), ("4", "spell_id")]
        assert "first on row 2" in issues[1]["message"]
        assert spell_ids(store) == ["S2"]  # both copies quarantined: which is right is unknown

    def test_duplicate_spell_id_already_in_store(self, feed_dir: Path, store: Path) -> None:
        assert run(feed_dir, store)[0] == 0  # S1 loaded for 2024-04
        rows = [
            [
                "S1",
                NHS[0],
                "RR8",
                "elective",
                "2024-06-03",
                "2024-06-04",
                "K40",
                "false",
                "usual_residence",
                "",
            ]
        ]
        write_csv(feed_dir / "hospital_spells.csv", SPELL_COLS, rows)
        code, report, _ = run(feed_dir, store)
        assert code == 1
        (issue,) = find(report, "duplicate_key_in_store")
        assert (issue["row"], issue["column"]) == ("2", "spell_id")
        assert spell_ids(store) == ["S1", "S2", "S3"]

    def test_unknown_code(self, feed_dir: Path, store: Path) -> None:
        spells_with(feed_dir, 1, "admission_method", "emergency")
        code, report, _ = run(feed_dir, store)
        assert code == 1
        issue = self._check(store, report, "unknown_code", "3", "admission_method")
        assert issue["value"] == "emergency"
        assert spell_ids(store) == ["S1", "S3"]

    def test_wrong_field_count(self, feed_dir: Path, store: Path) -> None:
        path = feed_dir / "hospital_spells.csv"
        lines = path.read_text().splitlines()
        lines[2] = "S2,short"
        path.write_text("\n".join(lines) + "\n")
        code, report, _ = run(feed_dir, store)
        assert code == 1
        (issue,) = find(report, "wrong_field_count")
        assert issue["row"] == "3"
        assert spell_ids(store) == ["S1", "S3"]
        # the row after the skipped one keeps its own spreadsheet row number
        spells = {r[1]: r for r in table_rows(store, "hospital_spells")}
        assert "S3" in spells

    def test_social_care_invalid_nhs_number_is_a_warning(self, feed_dir: Path, store: Path) -> None:
        cols = FEEDS["social_care_services"].column_names
        from conftest import social_care_rows

        rows = social_care_rows()
        rows[0][1] = "9990000019"
        write_csv(feed_dir / "social_care_services.csv", cols, rows)
        code, report, _ = run(feed_dir, store)
        assert code == 0
        (issue,) = find(report, "nhs_number_mod11")
        assert issue["severity"] == "warning" and issue["value"] == "999*****19"
        linked = {r[1]: r[-2] for r in table_rows(store, "social_care_services")}
        assert linked["C1"] == "probabilistic"  # still linked, by name/DOB/postcode


def test_no_key_is_a_usage_error(
    feed_dir: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BETTERCARE_PSEUDONYM_KEY", raising=False)
    code, _, out = run(feed_dir, store)
    assert code == 2
    assert "no pseudonymisation key" in out
    assert not store.exists()


def test_missing_directory_is_a_usage_error(tmp_path: Path, store: Path, key_env: bytes) -> None:
    code, _, out = run(tmp_path / "nope", store)
    assert code == 2
    assert "Traceback" not in out


def test_event_after_date_of_death_is_quarantined(
    feed_dir: Path, store: Path, key_env: bytes
) -> None:
    from conftest import residents_rows

    rows = residents_rows()
    died = FEEDS["residents"].column_names.index("date_of_death")
    rows[0][died] = "2024-04-01"  # Margaret Thompson died before spell S1 (2024-04-03)
    write_csv(feed_dir / "residents.csv", FEEDS["residents"].column_names, rows)
    code, report, _ = run(feed_dir, store)
    assert code == 1  # quarantined (events outside a plausible window)
    issues = find(report, "after_date_of_death")
    assert {(i["file"], i["row"], i["column"], i["severity"]) for i in issues} == {
        ("hospital_spells.csv", "2", "admission_date", "error"),
        ("social_care_services.csv", "2", "start_date", "error"),
    }
    assert spell_ids(store) == ["S2", "S3"]
    assert "C1" not in {r[1] for r in table_rows(store, "social_care_services")}


def test_dementia_diagnosis_before_birth_is_quarantined(
    feed_dir: Path, store: Path, key_env: bytes
) -> None:
    from conftest import residents_rows

    cols = FEEDS["residents"].column_names
    rows = residents_rows()
    rows[1][cols.index("dementia_diagnosis")] = "true"
    rows[1][cols.index("dementia_diagnosis_date")] = "1900-01-01"  # before any birth here
    write_csv(feed_dir / "residents.csv", cols, rows)
    code, report, _ = run(feed_dir, store)
    assert code == 1
    (issue,) = find(report, "diagnosis_before_birth")
    assert (issue["file"], issue["row"], issue["column"], issue["severity"]) == (
        "residents.csv",
        "3",
        "dementia_diagnosis_date",
        "error",
    )
    assert "dementia_diagnosis_date is before date_of_birth" in issue["message"]
    assert len(quarantined(store, "diagnosis_before_birth")) == 1
    assert len(table_rows(store, "residents")) == len(rows) - 1  # the others load


def test_reload_keeps_one_copy_of_the_findings(feed_dir: Path, store: Path, key_env: bytes) -> None:
    spells_with(feed_dir, 1, "admission_date", "2024-13-05")
    run(feed_dir, store)
    code, _, _ = run(feed_dir, store)
    assert code == 1
    assert quarantined(store, "bad_date") == [
        ("hospital_spells", "hospital_spells.csv", 3, "admission_date", "2024-13-05")
    ]


def test_a_file_of_bad_rows_deletes_nothing(feed_dir: Path, store: Path, key_env: bytes) -> None:
    assert run(feed_dir, store)[0] == 0
    rows = spells_rows()
    for r in rows:
        r[SPELL_COLS.index("admission_method")] = "emergency"  # e.g. a new code list
    write_csv(feed_dir / "hospital_spells.csv", SPELL_COLS, rows)
    code, report, _ = run(feed_dir, store)
    assert code == 1 and len(find(report, "unknown_code")) == 3
    assert spell_ids(store) == ["S1", "S2", "S3"]  # April and May kept from the first load
