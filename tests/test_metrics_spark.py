"""DuckDB and Spark (local mode) give identical results from the same Ibis definitions.

Kept to this one module so the single SparkSession (local[1], no UI) starts once.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from metrics_fixtures import build_store

from bettercare.analytics.engine import compute_metrics

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    build_store(c)
    yield c
    c.close()


@pytest.mark.parametrize("grain", ["month", "quarter", "year"])
def test_duckdb_and_spark_agree(con, grain):
    on_duckdb = compute_metrics(con, grain, backend="duckdb", period="2016/17")
    on_spark = compute_metrics(con, grain, backend="spark", period="2016/17")
    assert len(on_duckdb) > 10
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_exact=False, rtol=1e-12)
