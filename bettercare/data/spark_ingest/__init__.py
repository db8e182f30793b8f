"""The ingest on Spark (``bettercare ingest --backend spark``): a Parquet store.

The DuckDB ingest's steps from the same definitions (identifier scans, national
layouts, row rules, pseudonyms, opt-outs, linkage model), evaluated by Spark:
:func:`ingest` (:mod:`.run`). Modules: [session] the one Spark session, [sql] DuckDB
SQL transpiled for Spark, [pseudonym] HMAC-SHA256 in Spark SQL, [files] paths through
Spark's file system (and national files converted on the driver), [scan] the
identifier scans' engine, [linkage] Splink's SparkAPI, [run] the feeds in order and the
store written then renamed into place.
"""

from __future__ import annotations

from bettercare.data.spark_ingest.run import ingest

__all__ = ["ingest"]
