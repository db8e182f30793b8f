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


HEADLINE_2025_26 = [
    "emergency_admissions_65",
    "discharge_delay_days",
    "long_term_admissions_care_homes_65",
]


@pytest.mark.parametrize("grain", ["month", "year"])
def test_2025_26_headline_metrics_agree(con, grain):
    on_duckdb = compute_metrics(con, grain, metrics=HEADLINE_2025_26, period="2016/17")
    on_spark = compute_metrics(
        con, grain, backend="spark", metrics=HEADLINE_2025_26, period="2016/17"
    )
    assert set(on_duckdb.metric) == set(HEADLINE_2025_26)
    assert set(on_duckdb.breakdown) == {"all", "on_ready_date", "delayed"}
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_exact=False, rtol=1e-12)


def test_capacity_and_demand_agree(con):
    from bettercare.analytics.capacity_demand import TABLES, measured_capacity_demand
    from bettercare.analytics.engine.backends import bind

    frames = []
    for backend in ("duckdb", "spark"):
        with bind(con, list(TABLES), backend) as tables:
            frames.append(measured_capacity_demand(tables))
    assert frames[0].measured.sum() > 0
    pd.testing.assert_frame_equal(frames[0], frames[1])
