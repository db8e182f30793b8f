"""``bettercare ingest --backend spark --identities``: the identity file is taken on Spark.

Checked without starting Spark: the file is bound to the key as for DuckDB (another
key's file refused, exit 2), and a good one goes through to the Spark ingest (here
stopped where pyspark is needed, as when the [spark] extra is not installed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import KEY, write_feeds
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import identities

runner = CliRunner()


def _ingest(tmp_path: Path, ids: Path) -> tuple[int, str]:
    feeds = write_feeds(tmp_path / "feeds")
    res = runner.invoke(
        app,
        [
            "ingest",
            str(feeds),
            "--backend",
            "spark",
            "--store",
            str(tmp_path / "s" / "store.parquet"),
            "--identities",
            str(ids),
        ],
        env={"BETTERCARE_PSEUDONYM_KEY": KEY},
    )
    return res.exit_code, " ".join(res.output.split())


def test_another_keys_identity_file_is_refused_before_spark_starts(tmp_path: Path) -> None:
    ids = tmp_path / "private" / "identities.duckdb"
    identities.bind_key(ids, b"another-key-" + b"0123456789abcdef" * 3)
    code, text = _ingest(tmp_path, ids)
    assert code == 2
    assert "different pseudonymisation key" in text
    assert "not supported" not in text


def test_the_identity_file_goes_through_to_the_spark_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as without the [spark] extra
    ids = tmp_path / "private" / "identities.duckdb"
    code, text = _ingest(tmp_path, ids)
    assert code == 2
    assert "Spark backend needs `pip install bettercare[spark]`" in text
    assert "not supported" not in text
    held = identities.read(ids, KEY.encode())  # bound to the key; no people yet
    assert held is not None and held.num_rows == 0
