"""Compute every BCF metric per HWB per month / quarter / year on DuckDB or Spark.

The metric definitions (:mod:`bettercare.analytics.metrics`) are Ibis expressions written
once; this package binds them to a backend and turns their rows into one result. The
result is one pandas DataFrame with :data:`OUTPUT_COLUMNS` (metric, hwb_code, period,
breakdown, numerator, denominator, value), sorted. Find each step by its module:

* :mod:`.compute` -- :func:`compute_metrics`, the public entry point;
* :mod:`.backends` -- the store connection and backend binding (``duckdb``: the store
  itself, read only; ``spark``: the store tables as Parquet read by a local Spark
  session through ``ibis.pyspark``, the *same* expressions, no second copy of SQL);
* :mod:`.sql_cache` -- the Ibis -> DuckDB SQL compiled once per query shape;
* :mod:`.zero_fill` -- count metrics' periods without events as zeros;
* :mod:`.coverage` -- population and edge-of-data checks: what cannot be measured;
* :mod:`.hwb` -- which board's data a plan is measured on;
* :mod:`.frames` -- the output's columns and dtypes.
"""

from bettercare.analytics.engine.backends import (
    BACKENDS,
    SPARK_MISSING,
    Store,
    open_store,
    spark_session,
    store_tables,
)
from bettercare.analytics.engine.compute import compute_metrics, resolve_metrics
from bettercare.analytics.engine.coverage import Coverage, Unmeasured, activity_span
from bettercare.analytics.engine.hwb import resolve_hwb, store_hwb_codes
from bettercare.analytics.metrics import GRAINS, OUTPUT_COLUMNS, MetricDataError

__all__ = [
    "BACKENDS",
    "GRAINS",
    "OUTPUT_COLUMNS",
    "SPARK_MISSING",
    "Coverage",
    "MetricDataError",
    "Store",
    "Unmeasured",
    "activity_span",
    "compute_metrics",
    "open_store",
    "resolve_hwb",
    "resolve_metrics",
    "spark_session",
    "store_hwb_codes",
    "store_tables",
]
