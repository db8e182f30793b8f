"""``bettercare metrics``: crashes once reported are one-line errors (exit 2), the wrong
HWB is refused, a store without scheme activity is measured with a warning; ``bettercare
demo --plans-only`` works from any directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from metrics_fixtures import A, B, store_file
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.cli.metrics import scheme_reference_notes
from bettercare.data.plan_files import load_plan

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _plan(tmp_path: Path, data: dict, code: str | None) -> Path:
    data = dict(data)
    data["hwb"] = {**data["hwb"], "ons_code": code}
    if code is None:
        data["hwb"].pop("ons_code")
    data["schemes"] = [
        {**data["schemes"][1], "reference": "ICRS", "admissions_avoided": {"2016/17": 1200}},
    ]
    path = tmp_path / f"plan-{code}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def store(tmp_path) -> str:
    return store_file(tmp_path / "store.duckdb")


def _one_line_error(res, *parts: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    for part in parts:
        assert part in lines[0], res.output


def _metrics(*args: str):
    return runner.invoke(app, ["metrics", *args])


def test_plan_for_another_hwb_is_refused_unless_named(tmp_path, store, valid_plan_data):
    other = _plan(tmp_path, valid_plan_data, "E06000099")
    out = tmp_path / "out"
    res = _metrics("--plan", str(other), "--store", store, "--out", str(out))
    _one_line_error(res, "plan is for HWB E06000099", f"the store holds {B}, {A}", "--hwb")
    assert not out.exists()
    res = _metrics("--plan", str(other), "--store", store, "--out", str(out), "--hwb", A)
    assert res.exit_code == 0, res.output
    res = _metrics("--plan", str(other), "--store", store, "--hwb", "E06000001")
    _one_line_error(res, "HWB E06000001 is not in the store")


def test_a_store_of_several_hwbs_measures_the_plans_one(tmp_path, store, valid_plan_data):
    out = tmp_path / "out"
    for code in (A, B):
        res = _metrics(
            "--plan",
            str(_plan(tmp_path, valid_plan_data, code)),
            "--store",
            store,
            "--grain",
            "year",
            "--out",
            str(out / code),
        )
        assert res.exit_code == 0, res.output
        table = pd.read_csv(out / code / "metrics.csv")
        assert set(table.hwb_code) == {A, B}  # every HWB's actuals are written
        # the plan columns are filled for the plan's HWB only
        assert set(table[table.rag.notna() | table.planned.notna()].hwb_code) <= {code}
    # a plan without an ONS code on a store of two HWBs must name one
    res = _metrics("--plan", str(_plan(tmp_path, valid_plan_data, None)), "--store", store)
    _one_line_error(res, "states no hwb.ons_code", "--hwb CODE")


@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_bad_amber_tolerance(tmp_path, store, valid_plan_data, value):
    out = tmp_path / "out"
    res = _metrics(
        "--plan",
        str(_plan(tmp_path, valid_plan_data, A)),
        "--store",
        store,
        "--amber-tolerance",
        value,
        "--out",
        str(out),
    )
    _one_line_error(res, "--amber-tolerance must be a finite percentage >= 0")
    assert not out.exists()


def test_out_naming_a_file(tmp_path, store, valid_plan_data):
    target = tmp_path / "metrics.csv"
    target.write_text("keep me")
    res = _metrics(
        "--plan", str(_plan(tmp_path, valid_plan_data, A)), "--store", store, "--out", str(target)
    )
    _one_line_error(res, f"--out {target} is a file, not a directory")
    assert target.read_text() == "keep me"


def test_store_without_scheme_activity_is_measured_with_a_warning(tmp_path, store, valid_plan_data):
    con = duckdb.connect(store)
    con.execute("DROP TABLE scheme_activity")
    con.close()
    out = tmp_path / "out"
    res = _metrics(
        "--plan", str(_plan(tmp_path, valid_plan_data, A)), "--store", store, "--out", str(out)
    )
    assert res.exit_code == 0, res.output
    assert "warning: store has no scheme_activity table: scheme impact not measured" in (res.output)
    assert (out / "metrics.csv").exists()
    assert pd.read_csv(out / "scheme_impact.csv").empty  # the header only


def test_store_whose_scheme_activity_predates_hwb_code_is_one_line(
    tmp_path, store, valid_plan_data
):
    con = duckdb.connect(store)
    con.execute("ALTER TABLE scheme_activity DROP COLUMN hwb_code")  # as stores were before
    con.close()
    out = tmp_path / "out"
    res = _metrics(
        "--plan", str(_plan(tmp_path, valid_plan_data, A)), "--store", store, "--out", str(out)
    )
    _one_line_error(res, "store table scheme_activity has no hwb_code column", "--replace")
    assert not (out / "metrics.csv").exists()  # never half a result


def test_store_that_is_not_duckdb(tmp_path, valid_plan_data):
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database\n")
    res = _metrics("--plan", str(_plan(tmp_path, valid_plan_data, A)), "--store", str(junk))
    _one_line_error(res, f"store {junk} cannot be opened as a DuckDB analytics store")


def test_store_locked_by_another_process(tmp_path, store, valid_plan_data):
    # Another process holds the store open for writing, as a running ingest does.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
            "sys.stdin.read()",
            store,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = _metrics("--plan", str(_plan(tmp_path, valid_plan_data, A)), "--store", store)
        _one_line_error(res, "is in use by another process")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_scheme_reference_notes(valid_plan_data, tmp_path):
    plan = load_plan(_plan(tmp_path, valid_plan_data, A))  # one scheme, ICRS, targeted
    activity = pd.DataFrame(
        {
            "scheme_reference": ["ICRS", "LCC-X"],
            "month": ["2016-04-01"] * 2,
            "admissions_avoided": [3, 4],
        }
    )
    assert scheme_reference_notes(activity, plan) == [
        "scheme_activity has scheme reference(s) not in the plan: LCC-X (no target to compare with)"
    ]
    assert scheme_reference_notes(activity[activity.scheme_reference == "LCC-X"], plan)[1] == (
        "plan scheme(s) with an admissions-avoided target but no activity in the store: ICRS "
        "(counted as 0 avoided)"
    )
    assert scheme_reference_notes(activity[activity.scheme_reference == "ICRS"], plan) == []


def test_demo_plans_only_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no examples/ here
    res = runner.invoke(app, ["demo", "--plans-only", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    pages = {p.name for p in (tmp_path / "demo").glob("*.html")}
    assert len(pages) == len(list(EXAMPLES.glob("*.yaml"))) + 1
    assert not (tmp_path / "data").exists()  # plans only: no synthetic data or store


def test_spark_backend_without_pyspark_is_one_line(tmp_path, store, valid_plan_data, monkeypatch):
    # `import pyspark` fails as it does when the [spark] extra is not installed
    monkeypatch.setitem(sys.modules, "pyspark", None)
    plan = _plan(tmp_path, valid_plan_data, A)
    out = tmp_path / "out"
    res = _metrics("--plan", str(plan), "--store", store, "--backend", "spark", "--out", str(out))
    _one_line_error(res, "Spark backend needs `pip install bettercare[spark]`")
    assert not out.exists()


def test_a_plan_without_a_code_on_a_one_hwb_store_says_which_board(tmp_path, valid_plan_data):
    path = store_file(tmp_path / "one.duckdb")
    con = duckdb.connect(path)
    for table in ("residents", "population"):
        con.execute(f"DELETE FROM {table} WHERE hwb_code = ?", [B])
    con.close()
    plan = _plan(tmp_path, valid_plan_data, None)
    res = _metrics("--plan", str(plan), "--store", path, "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    shown = " ".join(res.output.split())
    assert f"states no hwb.ons_code: measuring the store's only HWB, {A}" in shown
