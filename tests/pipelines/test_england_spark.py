"""A small synthetic England, ingested, gives the same metrics on DuckDB and on Spark.

Three HWB areas of the England list at 1/500 scale: synthesised, ingested into a DuckDB
store (row rules, pseudonyms, opt-outs, linkage), then every metric per HWB per month
by the Ibis definitions on DuckDB and on Spark local mode, compared row for row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bettercare.analytics.engine import compute_metrics
from bettercare.data.geography import hwb_by_code
from bettercare.data.ingest import ingest
from bettercare.data.synth.england import generate_england

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CODES = ("E06000016", "E06000017", "E10000018")  # Leicester, Rutland, Leicestershire


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("england")
    areas = tuple(hwb_by_code()[c] for c in CODES)
    generate_england(0.002, ["2016/17"], 11, root / "feeds", areas=areas)
    path = root / "store" / "store.duckdb"
    result = ingest(root / "feeds", path, b"england-spark-test-key-" + b"0" * 41)
    assert result.outcome in ("loaded", "quarantined")
    return path


def test_duckdb_and_spark_agree_for_every_area(store: Path) -> None:
    on_duckdb = compute_metrics(store, "month", backend="duckdb", period="2016/17")
    on_spark = compute_metrics(store, "month", backend="spark", period="2016/17")
    assert set(on_duckdb.hwb_code) == set(CODES)
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_exact=False, rtol=1e-12)
