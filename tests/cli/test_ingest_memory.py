"""``bettercare ingest`` out of memory within ``--memory-limit``: one clear line, exit 3,
nothing loaded (the run's transaction rolled back)."""

from __future__ import annotations

import duckdb
from typer.testing import CliRunner

from bettercare.cli.main import app

runner = CliRunner()
KEY = "memory-test-key-0123456789abcdef0123456789"


def test_out_of_memory_is_one_line_naming_the_limit_and_loads_nothing(tmp_path) -> None:
    env = {"BETTERCARE_PSEUDONYM_KEY": KEY}
    raw, store = tmp_path / "raw", tmp_path / "store.duckdb"
    made = runner.invoke(
        app, ["synth", "--hwb", "rutland", "-n", "1500", "--years", "2016/17", "--out", str(raw)]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        app, ["ingest", str(raw), "--store", str(store), "--memory-limit", "8MB"], env=env
    )
    assert result.exit_code == 3, result.output
    text = " ".join(result.output.split())
    assert "out of memory within the memory limit (8MB)" in text
    assert "Raise --memory-limit" in text
    assert "Traceback" not in result.output
    if store.exists():  # the store may be created, but holds nothing of the run
        with duckdb.connect(str(store), read_only=True) as con:
            found = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            tables = {r[0] for r in found}
            if "residents" in tables:
                assert con.execute("SELECT count(*) FROM residents").fetchone() == (0,)
