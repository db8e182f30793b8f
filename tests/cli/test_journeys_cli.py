"""``bettercare journeys flows``: one-line errors and the files it writes."""

from __future__ import annotations

from analytics.synthetic_store import tables, write_store
from typer.testing import CliRunner

from bettercare.cli.main import app

runner = CliRunner()


def test_missing_store_and_unknown_pathway(tmp_path):
    res = runner.invoke(
        app, ["journeys", "flows", "--store", str(tmp_path / "x"), "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and res.output.startswith("error:") and "not found" in res.output
    store = tmp_path / "s.duckdb"
    write_store(tables(population=1500), store).close()
    res = runner.invoke(
        app, ["journeys", "flows", "--store", str(store), "--out", str(tmp_path), "--pathway", "zz"]
    )
    assert res.exit_code == 2 and "unknown --pathway 'zz'" in res.output
    assert "Traceback" not in res.output


def test_flows_written(tmp_path):
    store = tmp_path / "s.duckdb"
    write_store(tables(population=1500), store).close()
    out = tmp_path / "out"
    res = runner.invoke(app, ["journeys", "flows", "--store", str(store), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "suppressed" in res.output
    assert len(list(out.glob("*_sankey.svg"))) == 3 and len(list(out.glob("*.csv"))) == 9
