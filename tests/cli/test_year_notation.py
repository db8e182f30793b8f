"""Every CLI option taking a financial year reads ``2025-26`` (the pages' notation) as
well as ``2025/26`` (the files'), and stores the files' form."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.returns import COVER
from bettercare.data.synth.generator import check_years

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MARLBURY = str(EXAMPLES / "marlbury_2025.yaml")  # one financial year: 2025/26


def _cover(path: Path) -> tuple[str, str]:
    sheet = load_workbook(path)[COVER]
    return sheet["B3"].value, sheet["B4"].value


@pytest.mark.parametrize(
    "which",
    [
        ["--year", "2025-26", "--kind", "q2"],
        ["--year", "2025/26", "--kind", "q2"],
        ["--quarter", "2025-26 Q2"],
        ["--quarter", "Q2 2025-26"],
    ],
)
def test_return_write_reads_either_notation(tmp_path: Path, which: list[str]) -> None:
    out = tmp_path / "r.xlsx"
    r = runner.invoke(app, ["return", "write", "--plan", MARLBURY, *which, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "2025-26 quarter 2 return" in r.output  # told in the pages' notation
    fy, quarter = _cover(out)
    assert fy == "2025/26" and str(quarter) in ("2", "Q2")  # the file keeps its form


@pytest.mark.parametrize(
    ("which", "says"),
    [
        (["--year", "2025", "--kind", "q2"], "'2025' is not a financial year: write it as 2025-26"),
        (["--year", "2025-27", "--kind", "q2"], "must follow each other, e.g. 2025-26"),
        (["--quarter", "2025-26 Q7"], "is not a quarter: write it as 2025-26 Q2"),
        (["--year", "2026-27", "--kind", "q1"], "outside plan marlbury_2025"),
    ],
)
def test_return_write_refuses_a_year_that_is_not_one(
    tmp_path: Path, which: list[str], says: str
) -> None:
    out = tmp_path / "r.xlsx"
    r = runner.invoke(app, ["return", "write", "--plan", MARLBURY, *which, "--out", str(out)])
    assert r.exit_code == 2 and says in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output and not out.exists()


def test_figures_synth_stores_the_files_notation(tmp_path: Path) -> None:
    pub = tmp_path / "pub.csv"
    r = runner.invoke(
        app,
        ["figures", "synth", "--out", str(pub), "--year", "2023-24", "--monthly-year", "2023-24"],
    )
    assert r.exit_code == 0, r.output
    with pub.open(newline="") as f:
        periods = {row["period"] for row in csv.DictReader(f)}
    assert "2023/24" in periods and "2023-24" not in periods
    bad = runner.invoke(app, ["figures", "synth", "--out", str(pub), "--year", "2023"])
    assert bad.exit_code == 2 and "write it as 2025-26" in bad.output


def test_synth_years_read_either_notation() -> None:
    assert check_years(["2016-17", "2015/16"]) == ["2015/16", "2016/17"]
    with pytest.raises(ValueError, match="consecutive"):
        check_years(["2014-15", "2016-17"])


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "--plan", MARLBURY, "--figures", "none.duckdb", "--period", "next year"],
        ["figures", "peers", "--hwb", "E06000017", "--figures-db", "x.duckdb", "--period", "x"],
    ],
)
def test_a_period_that_is_not_one_is_refused_before_any_work(args: list[str]) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "--period:" in r.output and "a financial year 2015-16" in " ".join(r.output.split())
