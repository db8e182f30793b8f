"""``bettercare evaluate``: help, one-line errors (exit 2), and a run on a small store."""

from __future__ import annotations

import json

import pytest
from analytics.synthetic_store import CHANGE, tables, write_store
from typer.testing import CliRunner

from bettercare.cli.main import app

runner = CliRunner()


def _one_line_error(res, *parts: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    for part in parts:
        assert part in lines[0], res.output


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("evaluate") / "store.duckdb"
    write_store(tables(), path).close()
    return path


def test_help():
    res = runner.invoke(app, ["evaluate", "--help"])
    assert res.exit_code == 0 and "--change-date" in res.output


def test_missing_store(tmp_path):
    _one_line_error(
        runner.invoke(app, ["evaluate", "--store", str(tmp_path / "x.duckdb")]), "not found"
    )


def test_not_a_store(tmp_path):
    bad = tmp_path / "x.duckdb"
    bad.write_text("hello")
    res = runner.invoke(app, ["evaluate", "--store", str(bad), "--change-date", "2024-04-01"])
    _one_line_error(res, "DuckDB")


def test_no_change_date(store):
    _one_line_error(runner.invoke(app, ["evaluate", "--store", str(store)]), "--change-date")


def test_bad_date_and_unknown_practice(store):
    res = runner.invoke(app, ["evaluate", "--store", str(store), "--change-date", "2024-13-01"])
    _one_line_error(res, "--change-date", "2024-13-01")
    res = runner.invoke(
        app, ["evaluate", "--store", str(store), "--change-date", "2024-04-01", "--treated", "ZZZ"]
    )
    _one_line_error(res, "ZZZ")


def test_bad_spec_field(store, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("change_date: 2024-04-01\nlevel: county\n")
    _one_line_error(
        runner.invoke(app, ["evaluate", "--store", str(store), "--spec", str(spec)]), "level"
    )


def test_enrolled_file_without_person_id(store, tmp_path):
    f = tmp_path / "enrolled.csv"
    f.write_text("nhs_number\n123\n")
    res = runner.invoke(
        app,
        ["evaluate", "--store", str(store), "--change-date", "2024-04-01", "--enrolled", str(f)],
    )
    _one_line_error(res, "person_id")


def test_run_writes_json(store, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps({"name": "Home first", "change_date": CHANGE.isoformat(), "treated": ["C82001"]})
    )
    out = tmp_path / "evaluation.json"
    res = runner.invoke(
        app, ["evaluate", "--store", str(store), "--spec", str(spec), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "interrupted time series" in res.output and "cannot be estimated" in res.output
    data = json.loads(out.read_text())
    methods = {e["method"]: e for e in data["effects"]}
    assert methods["matched control cohort"]["reason"] == "no enrolled people"
    assert methods["interrupted time series"]["estimable"] is True


def test_print_schema_and_no_store():
    res = runner.invoke(app, ["evaluate", "--print-schema"])
    assert res.exit_code == 0 and json.loads(res.output)["required"] == ["change_date"]
    _one_line_error(runner.invoke(app, ["evaluate"]), "--store")


def test_staggered_starts_and_enrolment_dates_from_the_command_line(store, tmp_path):
    f = tmp_path / "enrolled.csv"
    f.write_text("person_id,enrolment_date\nx1,2024-02-01\nx2,\n")
    out = tmp_path / "evaluation.json"
    res = runner.invoke(
        app,
        [
            "evaluate", "--store", str(store), "--change-date", "2024-04-01",
            "--treated", "C82001=2023-10-01", "--treated", "C82004",
            "--enrolled", str(f), "--method", "did", "--method", "its", "--out", str(out),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    spec = json.loads(out.read_text())["spec"]
    assert spec["starts"] == {"C82001": "2023-10-01"} and spec["treated"] == ["C82001", "C82004"]
    assert spec["enrolment_dates"] == {"x1": "2024-02-01"}
    effects = {e["method"]: e for e in json.loads(out.read_text())["effects"]}
    assert len(effects["difference-in-differences"]["details"]["cohorts"]) == 2
    assert "staggered" in effects["interrupted time series"]["reason"]


def test_bad_start_date_and_enrolment_date(store, tmp_path):
    base = ["evaluate", "--store", str(store), "--change-date", "2024-04-01"]
    res = runner.invoke(app, [*base, "--treated", "C82001=2023-02-30"])
    _one_line_error(res, "--treated C82001=2023-02-30")
    f = tmp_path / "enrolled.csv"
    f.write_text("person_id,enrolment_date\nx1,01/02/2024\n")
    _one_line_error(runner.invoke(app, [*base, "--enrolled", str(f)]), "row 2", "enrolment_date")
