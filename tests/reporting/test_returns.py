"""Quarterly returns as XLSX: written, read back equal; malformed sheets named by cell."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.data.returns import (
    CAPACITY,
    CONDITIONS,
    COVER,
    DFG_ADF,
    INCOME,
    METRICS,
    SHEETS,
    SPEND,
    YEAR_END,
    ReturnError,
    ReturnFileError,
    parse_quarter,
    read_return,
)
from bettercare.domain.plan import DfgReturn, FundingSource, MetricReturnStatus, QuarterReport
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
    assert book.sheetnames == list(SHEETS)
    spend = book[SPEND]
    # MB01 plans £12m in the year: £6m to the end of Q2; £5.95m spent; variance a formula
    assert [c.value for c in spend[2]][:2] == ["MB01", "Home First reablement"]
    assert spend["D2"].value == 12_000_000
    assert Decimal(str(spend["E2"].value)) == Decimal(6_000_000)
    assert spend["F2"].value == 5_950_000
    assert spend["G2"].value == '=IF(OR(E2="",F2=""),"",F2-E2)'
    # labels, not codes
    assert spend["C2"].value == "NHS minimum contribution (ICB), Local Authority Better Care Grant"
    assert book[METRICS]["A3"].value == (
        "Average length of discharge delay for adult acute patients (days)"
    )
    assert book[METRICS]["E3"].value == "On track"
    assert book[COVER]["B5"].value == "Quarter 2"


def test_workbook_protects_all_but_the_input_cells(written):
    book = load_workbook(written)
    for ws in book.worksheets:
        assert ws.protection.sheet, ws.title
        assert not ws.protection.password, ws.title  # documented: no password
    spend = book[SPEND]
    assert spend["F2"].protection.locked is False  # actual spend: the lead types it
    assert spend["D2"].protection.locked and spend["G2"].protection.locked
    assert book["Guidance"]["A2"].protection.locked
    lists = {str(dv.sqref): dv.formula1 for dv in book[METRICS].data_validations.dataValidation}
    assert lists["E2:E4"] == '"On track,Not on track,Data not available"'
    answers = book[CONDITIONS].data_validations.dataValidation
    assert [(str(dv.sqref), dv.formula1) for dv in answers] == [("B2:B5", '"Yes,No"')]
    money = [dv for dv in spend.data_validations.dataValidation if dv.type == "decimal"]
    assert [str(dv.sqref) for dv in money] == ["F2:F8"]


def test_year_end_return_filled_in_by_a_lead_reads_back_equal(plan, tmp_path):
    """Every section of the year-end return, typed into the blank workbook, reads back.

    Hand-worked: MB01 outturn £11.8m against £12m planned (variance -£200k by the
    reconciliation formula); the ICB minimum £40m received in full; DFG £4.1m spent on
    612 adaptations; £5.2m of the £5.5m discharge funding (£3m + £2.5m in the plan) spent;
    £350k carried forward.
    """
    path = tmp_path / "ye.xlsx"
    write_return(plan, "2025/26", 4, path)
    book = load_workbook(path)
    assert book.sheetnames == [*SHEETS, YEAR_END]
    assert book[DFG_ADF]["B4"].value == 5_500_000  # ADF planned, from the plan's funding
    inc = book[INCOME]
    assert [inc.cell(r, 1).value for r in range(2, 6)] == [
        "NHS minimum contribution (ICB)",
        "Local Authority Better Care Grant",
        "Disabled Facilities Grant",
        "Additional local authority contribution",
    ]
    inc["D2"] = 40_000_000
    inc["D4"] = 5_000_000
    book[SPEND]["F2"] = 11_800_000
    book[SPEND]["F3"] = "£13,950,000"  # typed with a pound sign and commas
    dfg = book[DFG_ADF]
    dfg["C2"], dfg["C3"], dfg["C4"] = 4_100_000, 612, 5_200_000
    met = book[METRICS]
    met["C2"], met["E2"], met["F2"] = 1850.5, "Not on track", "Winter pressures."
    cap = book[CAPACITY]
    assert cap["A2"].value == "Discharge pathway 0 (home, no new support)"
    assert [cap.cell(r, 2).value for r in (2, 3, 4)] == ["2026-01", "2026-02", "2026-03"]
    cap["D2"], cap["F2"] = 310, 295
    book[CONDITIONS]["B2"] = "Yes"
    ye = book[YEAR_END]
    assert ye["E2"].value == '=IF(OR(C2="",D2=""),"",D2-C2)'
    assert ye["A2"].value == "='Income and Expenditure'!A2"
    carry = next(
        r for r in range(2, 20) if ye.cell(r, 1).value == "Underspend carried forward to next year"
    )
    assert ye.cell(carry - 1, 2).value == f"=B{carry - 3}-B{carry - 2}"  # balance formula
    ye.cell(carry, 2).value = 350_000
    book.save(path)

    got = read_return(path, plan)
    assert got.quarter == 4 and got.carry_forward == Decimal(350_000)
    assert got.income[FundingSource.ICB_MINIMUM] == Decimal(40_000_000)
    assert got.income[FundingSource.DISABLED_FACILITIES_GRANT] == Decimal(5_000_000)
    assert got.income[FundingSource.ADDITIONAL_LA] is None
    assert got.actual_spend["MB01"] == Decimal(11_800_000)
    assert got.actual_spend["MB02"] == Decimal(13_950_000)
    assert got.dfg == DfgReturn(spend=Decimal(4_100_000), adaptations=612)
    assert got.discharge_funding_spend == Decimal(5_200_000)
    assert got.metrics[0].actual == 1850.5 and got.metrics[0].status == "not_on_track"
    assert got.capacity_demand[0].demand == 310 and got.capacity_demand[0].capacity == 295
    assert got.conditions[0].confirmed is True
    # the reconciliation in words: MB01 -£200,000; balance £45m income less £25.75m spend
    from bettercare.reporting.returns import return_lines

    lines = dict(return_lines(plan, got))
    assert lines["outturn MB01 against plan"] == "£11,800,000 against £12,000,000: -£200,000"
    assert lines["outturn MB03 against plan"].endswith(": —")  # not stated
    assert lines["Balance: income less spend"] == "£19,250,000"
    # written back from the plan with this return recorded, it reads back equal
    data = plan.model_dump(mode="json")
    data["quarterly_reports"].append(json.loads(got.model_dump_json()))
    recorded = type(plan).model_validate(data)
    again = tmp_path / "again.xlsx"
    assert write_return(recorded, "2025/26", 4, again) == got
    assert read_return(again, recorded) == got


def test_carry_forward_only_at_year_end():
    with pytest.raises(ValueError, match="year-end return"):
        QuarterReport(financial_year="2025/26", quarter=2, carry_forward=Decimal(1))


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
        (METRICS, "E2", "Maybe", "sheet 'Metrics' cell E2: 'Maybe' is not a status"),
        (METRICS, "C2", "high", "sheet 'Metrics' cell C2: 'high' is not a number"),
        (SPEND, "F3", "lots", "sheet 'Income and Expenditure' cell F3: 'lots' is not an amount"),
        (SPEND, "F4", -5, "cell F4: -5 is not between £0 and £100bn"),
        (SPEND, "A5", "MB99", "cell A5: scheme 'MB99' is not in the plan"),
        (CONDITIONS, "B2", "Perhaps", "sheet 'National Conditions' cell B2"),
        (CONDITIONS, "A3", "Seven-day services", "cell A3: condition 'Seven-day services'"),
        (METRICS, "A2", "Delayed transfers of care", "cell A2: metric 'Delayed transfers of"),
        (SPEND, "A3", "MB01", "cell A3: scheme 'MB01' appears twice"),
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
    edit(out, METRICS, "E2", "Maybe")
    result = runner.invoke(app, ["return", "read", str(out), "--plan", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "cell E2" in result.output


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


def test_cli_return_kind_year_end_and_old_quarter_form(tmp_path):
    runner = CliRunner()
    out = tmp_path / "ye.xlsx"
    base = ["return", "write", "--plan", str(EXAMPLE), "--out", str(out)]
    result = runner.invoke(app, [*base, "--year", "2025/26", "--kind", "year-end"])
    assert result.exit_code == 0, result.output
    assert "2025-26 year-end return" in result.output  # the pages' notation
    assert load_workbook(out).sheetnames[-1] == YEAR_END
    result = runner.invoke(app, ["return", "read", str(out), "--plan", str(EXAMPLE)])
    assert result.exit_code == 0 and "Underspend carried forward" in result.output
    # the old form still works: Q4 is the year-end return, Q2 a quarterly one
    result = runner.invoke(app, [*base, "--quarter", "2025/26 Q2"])
    assert result.exit_code == 0 and "quarter 2 return" in result.output
    assert YEAR_END not in load_workbook(out).sheetnames
    for bad, says in (
        (["--year", "2025/26", "--kind", "q5"], "'q5' is not a kind of return"),
        (["--year", "2025/26"], "say which return"),
        (["--quarter", "2025/26 Q1", "--kind", "q1"], "not both"),
    ):
        result = runner.invoke(app, [*base, *bad])
        assert result.exit_code == 2 and says in result.output, result.output


@pytest.mark.parametrize(
    ("example", "fy"), [("marlbury_2025.yaml", "2025/26"), ("marlbury_2026.yaml", "2026/27")]
)
@pytest.mark.parametrize("quarter", [3, 4])
def test_every_input_cell_filled_reads_back_as_typed(example, fy, quarter, tmp_path):
    """Each yellow cell of a blank return gets a distinct value; the report read back holds
    exactly those values (built here from what was typed, not from the reader)."""
    the_plan = load_plan(EXAMPLE.with_name(example))
    path = tmp_path / "r.xlsx"
    blank = write_return(the_plan, fy, quarter, path)
    book = load_workbook(path)
    n = iter(range(1_000, 10_000_000, 1_013))  # distinct whole amounts and counts
    income = {}
    for r, src in enumerate(blank.income, start=2):
        income[src] = Decimal(book[INCOME].cell(r, 4, next(n)).value)
    spend = {}
    for r, ref in enumerate(blank.actual_spend, start=2):
        spend[ref] = Decimal(book[SPEND].cell(r, 6, next(n)).value)
    metrics = []
    statuses = ["On track", "Not on track", "Data not available"]
    for r, m in enumerate(blank.metrics, start=2):
        actual = book[METRICS].cell(r, 3, next(n) / 8).value  # eighths: exact in binary
        status = book[METRICS].cell(r, 5, statuses[r % 3]).value
        text = book[METRICS].cell(r, 6, f"metric note {r}").value
        metrics.append({"metric": m.metric, "status": status, "actual": actual, "narrative": text})
    capacity = []
    for r, c in enumerate(blank.capacity_demand, start=2):
        demand, cap = (
            book[CAPACITY].cell(r, 4, next(n)).value,
            book[CAPACITY].cell(r, 6, next(n)).value,
        )
        capacity.append({"service": c.service, "month": c.month, "demand": demand, "capacity": cap})
    conditions = []
    for r, c in enumerate(blank.conditions, start=2):
        answer = book[CONDITIONS].cell(r, 2, "Yes" if r % 2 else "No").value
        conditions.append({"id": c.id, "confirmed": answer == "Yes", "narrative": f"cond {r}"})
        book[CONDITIONS].cell(r, 3, f"cond {r}")
    dfg = book[DFG_ADF]
    dfg_spend, adaptations, adf = (dfg.cell(row, 3, next(n)).value for row in (2, 3, 4))
    book["Narrative"]["A2"] = "All sections filled in."
    carry = None
    if quarter == 4:
        ye = book[YEAR_END]
        row = next(
            r
            for r in range(2, 40)
            if ye.cell(r, 1).value == "Underspend carried forward to next year"
        )
        carry = Decimal(ye.cell(row, 2, next(n)).value)
    book.save(path)

    labels = {
        "On track": "on_track",
        "Not on track": "not_on_track",
        "Data not available": "data_not_available",
    }
    expected = QuarterReport(
        financial_year=fy,
        quarter=quarter,
        income=income,
        actual_spend=spend,
        dfg={"spend": Decimal(dfg_spend), "adaptations": adaptations},
        discharge_funding_spend=Decimal(adf),
        carry_forward=carry,
        metrics=[{**m, "status": labels[m["status"]]} for m in metrics],
        capacity_demand=capacity,
        conditions=conditions,
        narrative="All sections filled in.",
    )
    assert read_return(path, the_plan) == expected


def test_return_lines_name_every_section_in_words(plan):
    from bettercare.reporting.returns import return_lines

    report = QuarterReport(
        financial_year="2025/26",
        quarter=4,
        income={FundingSource.ICB_MINIMUM: Decimal(40_000_000)},
        actual_spend={"MB01": Decimal(11_800_000)},
        dfg=DfgReturn(spend=Decimal(4_100_000), adaptations=1_612),
        discharge_funding_spend=Decimal(5_200_000),
        carry_forward=Decimal(350_000),
        conditions=[{"id": "plans_jointly_agreed", "confirmed": False}],
        capacity_demand=[{"service": "discharge_pathway_1", "month": "2026-01", "demand": 310}],
    )
    lines = dict(return_lines(plan, report))
    assert lines["income: NHS minimum contribution (ICB)"] == "£40,000,000"
    assert lines["spend MB01"] == "£11,800,000"
    assert lines["Disabled Facilities Grant spend"] == "£4,100,000"
    assert lines["Adaptations completed (DFG)"] == "1,612"
    assert lines["Additional Discharge Funding spend"] == "£5,200,000"
    assert lines["Underspend carried forward to next year"] == "£350,000"
    assert lines["Discharge pathway 1 (home with support), 2026-01"] == (
        "demand 310, capacity not stated"
    )
    jointly = "Plans to be jointly agreed by the ICB and local authority and signed off by the HWB"
    assert lines[jointly] == "no"
