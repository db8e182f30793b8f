"""``bettercare metrics`` through Typer's CliRunner on the tiny hand-built store."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import typer
import yaml
from metrics_fixtures import A, store_file
from typer.testing import CliRunner

from bettercare.cli import metrics as metrics_cli
from bettercare.domain.metrics import CATALOGUE

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    # Our own root app: the command is registered exactly as bettercare.cli.main does it.
    root = typer.Typer()
    metrics_cli.register(root)

    @root.command()
    def other() -> None:  # a second command keeps Typer in multi-command mode
        pass

    return root


@pytest.fixture
def files(tmp_path, valid_plan_data):
    data = dict(valid_plan_data)
    data["hwb"] = {**data["hwb"], "ons_code": A}
    data["metrics"] = [
        {
            "metric": "delayed_transfers_of_care",
            "baseline": {"period": "2015/16", "value": 25},
            "time_basis": "month",
            "planned": [{"period": "2016/17", "value": 18.0}],
        },
    ]
    data["schemes"] = [
        {**data["schemes"][1], "reference": "ICRS", "admissions_avoided": {"2016/17": 1200}},
    ]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    return plan, store_file(tmp_path / "store.duckdb")


def _tables(output: str) -> str:
    """The printed tables (and notes), without the file paths and warnings around them."""
    return "\n".join(
        line for line in output.splitlines() if not line.startswith(("wrote", "warning"))
    )


def test_metrics_command_prints_and_writes(app, files, tmp_path, monkeypatch):
    from rich.console import Console

    monkeypatch.setattr(metrics_cli, "out", Console(width=400))  # one line per table row
    plan, store = files
    out_dir = tmp_path / "out"
    res = runner.invoke(
        app, ["metrics", "--plan", str(plan), "--store", store, "--out", str(out_dir), "--charts"]
    )
    assert res.exit_code == 0, res.output
    # Delayed transfers, latest month May: 5.0 per 100,000 vs plan 18.0 -> GREEN; the table
    # names the metric and its unit, the month in words, the values at one decimal place
    text = " ".join(res.output.split())  # Rich wraps long cells
    assert "Delayed transfers of care" in text and "GREEN" in text
    assert "per 100,000 population" in text and "aged 18+, per month" in text
    assert "May 2016" in text and "2016-05" not in text
    assert "5.0" in text and "18.0" in text and "5.00" not in text
    assert "delayed_transfers_of_care" not in res.output  # no raw metric codes
    assert not re.search(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", _tables(res.output))
    assert "Scheme impact" in res.output
    # two months are too few for SPC limits: said in the table, never "assurance"
    assert "too few points" in res.output and "hit and miss" not in res.output
    assert "2 points: too few for SPC limits and assurance (at least 12)" in text
    assert (out_dir / "charts" / "non_elective_admissions.png").read_bytes()[:4] == b"\x89PNG"
    df = pd.read_parquet(out_dir / "metrics.parquet")
    assert (out_dir / "metrics.csv").is_file() and (out_dir / "scheme_impact.csv").is_file()
    dtoc = df[
        (df.metric == "delayed_transfers_of_care") & (df.breakdown == "all") & (df.hwb_code == A)
    ].set_index("period")
    assert dtoc.loc["2016-04", "rag"] == "RED"  # 20.0 vs 18.0: 11% worse
    assert dtoc.loc["2016-05", "rag"] == "GREEN"
    assert set(df.metric) >= {"non_elective_admissions", "falls_65"}
    # the 2025-26 headline metrics are in the table and the files
    for metric in (
        "emergency_admissions_65",
        "discharge_delay_days",
        "long_term_admissions_care_homes_65",
    ):
        assert CATALOGUE[metric].name.split(" (")[0][:30] in text and metric in set(df.metric)
    capacity = pd.read_csv(out_dir / "capacity_demand.csv")
    april = capacity[(capacity.hwb_code == A) & (capacity.month == "2016-04")]
    assert april.set_index("service").loc["discharge_pathway_0", "measured"] == 3
    assert (out_dir / "capacity_demand_vs_plan.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grain", "week"], "grain 'week' is not one of month"),
        (["--backend", "oracle"], "backend 'oracle' is not one of duckdb"),
        (["--period", "2016/18"], "--period: '2016/18' is not a financial year"),
        (["--store", "missing.duckdb"], "store file not found"),
    ],
)
def test_clear_errors_exit_2(app, files, args, message):
    plan, store = files
    base = {"--plan": str(plan), "--store": store}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    argv = ["metrics", *[x for kv in base.items() for x in kv]]
    res = runner.invoke(app, argv)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_unknown_table_and_bad_plan(app, files, tmp_path):
    import duckdb

    plan, _ = files
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    res = runner.invoke(app, ["metrics", "--plan", str(plan), "--store", str(empty)])
    assert res.exit_code == 2 and "store has no table(s)" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("plan_id: Not Valid\n")
    res = runner.invoke(app, ["metrics", "--plan", str(bad), "--store", str(empty)])
    assert res.exit_code == 2 and "bad.yaml:1: plan_id:" in res.output
    assert "[error: format]" in res.output and "Traceback" not in res.output


def test_registered_on_the_bettercare_command():
    from bettercare.cli.main import app as root

    res = runner.invoke(root, ["metrics", "--help"])
    assert res.exit_code == 0 and "--backend" in res.output and "--grain" in res.output
