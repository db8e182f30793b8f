"""Quarterly returns as XLSX: written, read back equal; malformed sheets named by cell."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.data.returns import (
    CONDITIONS,
    COVER,
    METRICS,
    SPEND,
    ReturnError,
    ReturnFileError,
    parse_quarter,
    read_return,
)
from bettercare.domain.plan import MetricReturnStatus
from bettercare.reporting.returns import build_return, planned_to_date, write_return

EXAMPLE = Path(__file__).parents[2] / "examples" / "marlbury_2025.yaml"


@pytest.fixture(scope="module")
def plan():
    return load_plan(EXAMPLE)


@pytest.fixture
def written(plan, tmp_path):
    path = tmp_path / "q2.xlsx"
    write_return(plan, "2025/26", 2, path)
    return path


def edit(path: Path, sheet: str, cell: str, value) -> None:
    book = load_workbook(path)
    book[sheet][cell] = value
    book.save(path)


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_round_trip_is_equal(plan, tmp_path, quarter):
    """Recorded quarters (1, 2) and blank ones (3, year-end 4) read back as written."""
    path = tmp_path / f"q{quarter}.xlsx"
    written = write_return(plan, "2025/26", quarter, path)
    assert read_return(path, plan) == written
    if quarter <= 2:
        assert written == plan.quarter_report("2025/26", quarter)


def test_written_return_holds_the_plan_figures(plan, written):
    book = load_workbook(written)
    assert book.sheetnames == [COVER, SPEND, METRICS, CONDITIONS, "Narrative"]
    spend = book[SPEND]
    # MB01 plans £12m in the year: £6m to the end of Q2; £5.95m spent; variance -£50k
    assert [c.value for c in spend[2]][:2] == ["MB01", "Home First reablement"]
    assert spend["D2"].value == 12_000_000
    assert Decimal(str(spend["E2"].value)) == Decimal(6_000_000)
    assert spend["F2"].value == 5_950_000
    assert Decimal(str(spend["G2"].value)) == Decimal(-50_000)
    assert spend["C2"].value == "icb_minimum, local_authority_bcf_grant"
    assert book[METRICS]["D3"].value == "On track"
    assert book[COVER]["B5"].value == "Quarter 2"


def test_year_end_and_blank_return(plan):
    report = build_return(plan, "2025/26", 4)
    assert set(report.actual_spend) == {f"MB0{i}" for i in range(1, 8)}
    assert all(v is None for v in report.actual_spend.values())
    assert {m.status for m in report.metrics} == {MetricReturnStatus.DATA_NOT_AVAILABLE}
    assert [c.confirmed for c in report.conditions] == [None] * 4


def test_planned_profile_is_even():
    assert planned_to_date(Decimal(1_000_000), 3) == Decimal("750000.00")
    assert planned_to_date(None, 1) is None


def test_quarter_outside_plan_writes_nothing(plan, tmp_path):
    out = tmp_path / "x.xlsx"
    with pytest.raises(ReturnError, match="2026/27 Q1 is outside plan marlbury_2025"):
        write_return(plan, "2026/27", 1, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_parse_quarter():
    assert parse_quarter("2025/26 Q2") == ("2025/26", 2)
    with pytest.raises(ReturnError, match="not a quarter"):
        parse_quarter("Q2 2025")


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "message"),
    [
        (METRICS, "D2", "Maybe", "sheet 'Metrics' cell D2: 'Maybe' is not a status"),
        (SPEND, "F3", "lots", "sheet 'Income and Expenditure' cell F3: 'lots' is not an amount"),
        (SPEND, "F4", -5, "cell F4: -5 is not between £0 and £100bn"),
        (SPEND, "A5", "MB99", "cell A5: scheme 'MB99' is not in the plan"),
        (CONDITIONS, "C2", "Perhaps", "sheet 'National Conditions' cell C2"),
        (CONDITIONS, "A3", "seven_day_services", "cell A3: condition 'seven_day_services'"),
        (METRICS, "A2", "delayed_transfers_of_care", "cell A2: metric 'delayed_transfers"),
        (COVER, "B2", "another_plan", "sheet 'Cover' cell B2: the return is for plan"),
        (COVER, "B3", "2026/27", "sheet 'Cover' cell B3: 2026/27 Q2 is outside plan"),
        (SPEND, "F1", "Spent", "cell F1: header is 'Spent'"),
    ],
)
def test_malformed_cell_is_named(plan, written, sheet, cell, value, message):
    edit(written, sheet, cell, value)
    with pytest.raises(ReturnFileError) as exc:
        read_return(written, plan)
    assert message in str(exc.value)
    assert exc.value.sheet == sheet


def test_missing_sheet_is_named(plan, written):
    book = load_workbook(written)
    del book[METRICS]
    book.save(written)
    with pytest.raises(ReturnFileError, match="sheet 'Metrics': the sheet is missing"):
        read_return(written, plan)


def test_not_a_workbook(plan, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_text("not a zip")
    with pytest.raises(ReturnError, match="not an XLSX workbook"):
        read_return(path, plan)


def test_cli_write_read_and_errors(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.xlsx"
    args = ["return", "write", "--plan", str(EXAMPLE), "--quarter", "2025/26 Q2", "--out"]
    result = runner.invoke(app, [*args, str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["return", "read", str(out), "--plan", str(EXAMPLE)])
    assert result.exit_code == 0
    assert "matches the return recorded in the plan" in result.output
    result = runner.invoke(app, ["return", "read", str(out), "--plan", str(EXAMPLE), "--yaml"])
    assert "quarter: 2" in result.output and "on_track" in result.output
    bad = tmp_path / "none.xlsx"
    args[5] = "2030/31 Q1"
    result = runner.invoke(app, [*args, str(bad)])
    assert result.exit_code == 2
    assert "outside plan" in result.output and "Traceback" not in result.output
    assert not bad.exists()
    edit(out, METRICS, "D2", "Maybe")
    result = runner.invoke(app, ["return", "read", str(out), "--plan", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "cell D2" in result.output


def test_recorded_report_naming_an_unknown_scheme_is_refused(tmp_path):
    text = EXAMPLE.read_text().replace("actual_spend: {MB01:", "actual_spend: {MB77:", 1)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    from bettercare.data.plan_files import PlanFileError

    with pytest.raises(PlanFileError, match=r"quarterly_reports\[0\]\.actual_spend\.MB77"):
        load_plan(path)


def test_latest_recorded_return_is_written(plan, tmp_path):
    from bettercare.reporting.returns import write_latest_return

    path = write_latest_return(plan, tmp_path)
    assert path.name == "marlbury_2025_2025-26_Q2.xlsx"
    assert read_return(path, plan) == plan.quarter_report("2025/26", 2)
    assert write_latest_return(load_plan(EXAMPLE.with_name("rutland_2014.yaml")), tmp_path) is None


def test_demo_plans_only_writes_the_xlsx_return(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--plans-only", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "returns" / "marlbury_2025_2025-26_Q2.xlsx").is_file()
