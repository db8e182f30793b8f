"""``bettercare risk``: help, and bad input as one ``error:`` line with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from analytics.test_risk_features import RESIDENTS, SPELLS, make_store
from typer.testing import CliRunner

from bettercare.cli.main import app

runner = CliRunner()


def _risk(*args: str):
    return runner.invoke(app, ["risk", *args])


def _one_line_error(res, *parts: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    for part in parts:
        assert part in lines[0], res.output


def test_help():
    res = _risk("--help")
    assert res.exit_code == 0 and "evaluate" in res.output and "stratify" in res.output


@pytest.mark.parametrize("command", ["evaluate", "stratify"])
def test_missing_store(tmp_path, command):
    _one_line_error(_risk(command, "--store", str(tmp_path / "nope.duckdb")), "not found")


@pytest.mark.parametrize("command", ["evaluate", "stratify"])
def test_not_a_store(tmp_path, command):
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    _one_line_error(_risk(command, "--store", str(junk)), "cannot be opened")


@pytest.mark.parametrize("command", ["evaluate", "stratify"])
def test_unknown_model(tmp_path, command):
    store = make_store(tmp_path / "s.duckdb")
    _one_line_error(
        _risk(command, "--store", str(store), "--model", "xgb"), "unknown --model 'xgb'"
    )


def test_too_few_years(tmp_path):
    # spells from 2016-03-25 to 2017-03-30: one whole financial year, 2016/17
    spells = [s for s in SPELLS if "2016-03" <= s[3] <= "2017-03-31"]
    store = make_store(tmp_path / "short.duckdb", spells=spells)
    _one_line_error(_risk("evaluate", "--store", str(store)), "1 financial year", "need 3")
    _one_line_error(_risk("stratify", "--store", str(store)), "1 financial year", "needs 2")


def test_too_few_people(tmp_path):
    store = make_store(tmp_path / "small.duckdb", residents=RESIDENTS)
    _one_line_error(_risk("evaluate", "--store", str(store)), "too few people")
    _one_line_error(_risk("stratify", "--store", str(store)), "too few people")


def test_direct_care_needs_out(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    _one_line_error(_risk("stratify", "--store", str(store), "--direct-care"), "--out")


def test_bad_index_date(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    res = _risk("stratify", "--store", str(store), "--index-date", "2017-13-01")
    _one_line_error(res, "--index-date")


def test_no_half_written_out_on_error(tmp_path: Path):
    store = make_store(tmp_path / "small.duckdb")
    out = tmp_path / "out"
    _one_line_error(_risk("evaluate", "--store", str(store), "--out", str(out)), "too few")
    assert not out.exists()


def test_index_date_outside_the_data(tmp_path):
    store = make_store(tmp_path / "s.duckdb")
    res = _risk("stratify", "--store", str(store), "--index-date", "2030-04-01")
    _one_line_error(res, "index date 2030-04-01 is outside the store's data")
