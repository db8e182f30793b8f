"""``bettercare return write --figures``: metric actuals pre-filled from published figures."""

from pathlib import Path

from openpyxl import load_workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.data.returns import METRICS, read_return
from bettercare.domain.plan import MetricReturnStatus

runner = CliRunner()
PLAN = Path(__file__).resolve().parents[2] / "examples" / "marlbury_2025.yaml"
BC = "metric,area_code,period,numerator,denominator,value\n"
HWB = "E10000034"  # Marlbury is fictional (no ONS code): the figures are filed under this one
# Marlbury plans 2025/26: emergency admissions 23,100 (lower is better), discharge delay
# 1.1 days (lower is better), long-term admissions 540. 22,000 < 23,100: on track (GREEN);
# 1.5 > 1.1 by 36%: not on track (RED); no long-term admissions figure: left empty.
FIGURES = (
    BC
    + f"emergency_admissions_65,{HWB},2025/26,,,22000\n"
    + f"discharge_delay_days,{HWB},2025/26,,,1.5\n"
    + f"discharge_delay_days,{HWB},2024/25,,,0.9\n"  # the year before: not this return's
    + "emergency_admissions_65,E06000001,2025/26,,,99999\n"  # another board's
)


def _db(tmp_path: Path, text: str) -> Path:
    csv, db = tmp_path / "f.csv", tmp_path / "f.duckdb"
    csv.write_text(text)
    r = runner.invoke(app, ["figures", "load", str(csv), "--figures-db", str(db)])
    assert r.exit_code == 0, r.output
    return db


def _write(tmp_path: Path, db: Path, kind: str = "year-end", *extra: str):
    out = tmp_path / "r.xlsx"
    args = ["return", "write", "--plan", str(PLAN), "--year", "2025/26", "--kind", kind]
    return out, runner.invoke(app, [*args, "--out", str(out), "--figures", str(db), *extra])


def test_year_end_return_prefilled_from_published_figures(tmp_path: Path):
    out, r = _write(tmp_path, _db(tmp_path, FIGURES), "year-end", "--hwb", HWB)
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())  # the metric by its name, not its code
    assert "left empty (source 'none'): Long-term admissions to residential and nursing" in said
    assert "long_term_admissions_care_homes_65" not in said
    report = read_return(out, load_plan(PLAN))
    got = {m.metric: m for m in report.metrics}
    assert got["emergency_admissions_65"].actual == 22000
    assert got["emergency_admissions_65"].status is MetricReturnStatus.ON_TRACK
    assert got["discharge_delay_days"].actual == 1.5
    assert got["discharge_delay_days"].status is MetricReturnStatus.NOT_ON_TRACK
    assert "Published figures, 2025/26" in (got["discharge_delay_days"].narrative or "")
    empty = got["long_term_admissions_care_homes_65"]
    assert empty.actual is None and empty.status is MetricReturnStatus.DATA_NOT_AVAILABLE
    assert "left empty" in (empty.narrative or "")
    ws = load_workbook(out)[METRICS]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    assert ws["G1"].value == "Source"
    sources = sorted(ws.cell(r, 7).value for r in rows.values())
    assert sources == ["none", "published", "published"]
    empty_row = next(r for r in rows.values() if ws.cell(r, 7).value == "none")
    assert ws.cell(empty_row, 3).value is None  # empty, not zero
    # Read back equal, and `return read` accepts the pre-filled workbook.
    again = runner.invoke(app, ["return", "read", str(out), "--plan", str(PLAN), "--yaml"])
    assert again.exit_code == 0, again.output
    assert "actual: 22000.0" in again.output


def test_quarter_return_uses_no_figure_ending_after_the_quarter(tmp_path: Path):
    # The 2025/26 yearly figures end in March 2026, after Q2 ends: none judged yet.
    out, r = _write(tmp_path, _db(tmp_path, FIGURES), "q2", "--hwb", HWB)
    assert r.exit_code == 0, r.output
    report = read_return(out, load_plan(PLAN))
    assert all(m.actual is None for m in report.metrics)


def test_no_rows_for_the_board_gives_empty_cells_and_a_note(tmp_path: Path):
    db = _db(tmp_path, BC + "emergency_admissions_65,E06000001,2025/26,,,99999\n")
    out, r = _write(tmp_path, db, "year-end", "--hwb", HWB)
    assert r.exit_code == 0, r.output
    assert "note: no published figure" in r.output
    # the metrics by their names, not their codes (a name with a comma: "; " between)
    said = " ".join(r.output.split())
    assert "Emergency admissions to hospital for people aged 65+; " in said
    assert "Long-term admissions to residential and nursing care homes, people aged 65+" in said
    assert not any(code in said for code in ("emergency_admissions_65", "discharge_delay_days"))
    assert "long_term_admissions_care_homes_65" not in said
    report = read_return(out, load_plan(PLAN))
    assert [m.actual for m in report.metrics] == [None, None, None]
    assert {m.status for m in report.metrics} == {MetricReturnStatus.DATA_NOT_AVAILABLE}


def test_missing_figures_db_is_one_error_line(tmp_path: Path):
    out, r = _write(tmp_path, tmp_path / "nope.duckdb", "q2", "--hwb", HWB)
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.output
    assert "Traceback" not in r.output and not out.exists()


def test_plan_without_ons_code_needs_hwb(tmp_path: Path):
    out, r = _write(tmp_path, _db(tmp_path, FIGURES), "q2")
    assert r.exit_code == 2 and "--hwb" in r.output and not out.exists()
