"""``bettercare return write --store``: metric actuals from the analytics store (and figures)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from metrics_fixtures import A, store_file
from openpyxl import load_workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.data.returns import METRICS, read_return
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.plan import MetricReturnStatus

runner = CliRunner()
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "valid_plan.yaml"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    """The valid plan moved on to 2016/17 (the tiny store's year), measured on board A."""
    tmp = tmp_path_factory.mktemp("store")
    text = FIXTURE.read_text().replace("2015/16", "2016/17").replace("2014/15", "2015/16")
    data = yaml.safe_load(text)
    data["hwb"]["ons_code"] = A
    data["metrics"] = [
        {  # monthly: judged month by month (the tiny store: April 20.0, May 5.0)
            "metric": "delayed_transfers_of_care",
            "time_basis": "month",
            "planned": [{"period": "2016/17", "value": 18.0}],
        },
        {  # over the whole year: judged on the year only
            "metric": "non_elective_admissions",
            "planned": [{"period": "2016/17", "value": 100.0}],
        },
    ]
    plan = tmp / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    return plan, Path(store_file(tmp / "store.duckdb"))


def _metrics_csv(plan: Path, store: Path, grain: str, out: Path) -> pd.DataFrame:
    args = ["metrics", "--plan", str(plan), "--store", str(store), "--grain", grain]
    r = runner.invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out / "metrics.csv", dtype={"period": str})
    return df[(df.hwb_code == A) & (df.breakdown == "all")].set_index(["metric", "period"])


def _write(plan: Path, out: Path, kind: str, *extra: str):
    args = ["return", "write", "--plan", str(plan), "--year", "2016/17", "--kind", kind]
    return runner.invoke(app, [*args, "--out", str(out), *extra])


def _cells(out: Path) -> dict[str, tuple[object, str]]:
    """(actual cell, source cell) of the return's metrics sheet, by metric id."""
    ws = load_workbook(out)[METRICS]
    ids = {CATALOGUE[m].name: m for m in CATALOGUE}
    rows = range(2, ws.max_row + 1)
    return {ids[ws.cell(r, 1).value]: (ws.cell(r, 3).value, ws.cell(r, 7).value) for r in rows}


def test_q1_return_from_the_store_matches_bettercare_metrics(files, tmp_path) -> None:
    plan, store = files
    out = tmp_path / "q1.xlsx"
    r = _write(plan, out, "q1", "--store", str(store))
    assert r.exit_code == 0, r.output
    assert "from the store" in r.output
    got = {m.metric: m for m in read_return(out, load_plan(plan)).metrics}
    by_month = _metrics_csv(plan, store, "month", tmp_path / "m")
    # The latest month of Q1 judged: May 2016, 5.0 per 100,000 (4 of 80,000) vs 18.0.
    may = by_month.loc[("delayed_transfers_of_care", "2016-05")]
    assert got["delayed_transfers_of_care"].actual == may.value == 5.0
    assert got["delayed_transfers_of_care"].status is MetricReturnStatus.ON_TRACK
    assert may.rag == "GREEN"
    # Planned over the year: no year ends by the end of Q1, so left empty (not zero).
    assert got["non_elective_admissions"].actual is None
    assert _cells(out)["delayed_transfers_of_care"] == (may.value, "store")


def test_year_end_from_store_and_figures_together(files, tmp_path) -> None:
    plan, store = files
    csv, db = tmp_path / "f.csv", tmp_path / "f.duckdb"
    # A published month after the store's last one: the latest judged for the year end.
    csv.write_text(
        "metric,area_code,period,numerator,denominator,value\n"
        f"delayed_transfers_of_care,{A},2017-03,,,12\n"
    )
    loaded = runner.invoke(app, ["figures", "load", str(csv), "--figures-db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    out = tmp_path / "ye.xlsx"
    r = _write(plan, out, "year-end", "--store", str(store), "--figures", str(db))
    assert r.exit_code == 0, r.output
    got = {m.metric: m for m in read_return(out, load_plan(plan)).metrics}
    by_year = _metrics_csv(plan, store, "year", tmp_path / "y")
    year = by_year.loc[("non_elective_admissions", "2016/17")]
    assert got["non_elective_admissions"].actual == year.value
    assert got["delayed_transfers_of_care"].actual == 12.0
    cells = _cells(out)
    assert cells["non_elective_admissions"] == (year.value, "store")
    assert cells["delayed_transfers_of_care"] == (12, "published")


def test_bad_store_path_is_one_error_line_and_nothing_written(files, tmp_path) -> None:
    plan, _ = files
    not_duckdb = tmp_path / "text.duckdb"
    not_duckdb.write_text("not a database\n")
    for store in (tmp_path / "missing.duckdb", not_duckdb, tmp_path):
        out = tmp_path / "r.xlsx"
        r = _write(plan, out, "q1", "--store", str(store))
        assert r.exit_code == 2, r.output
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), r.output
        assert "Traceback" not in r.output and not out.exists()
    assert not (tmp_path / "missing.duckdb").exists()  # not created by trying to open it
