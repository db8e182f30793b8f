"""The one Spark session of a process, for the Spark ingest and the metrics on Spark.

Local and small unless told otherwise: ``BETTERCARE_SPARK_MASTER`` (default
``local[2]``) names the master (``spark://host:7077``, ``yarn``, ``local[*]``), and
``BETTERCARE_SPARK_SHUFFLE_PARTITIONS`` (default 4) the shuffle partitions and
``BETTERCARE_SPARK_DRIVER_MEMORY`` (default ``2g``) the driver's heap (in local mode the
driver is the executor too, so this is all the memory Spark has). Splink's
similarity functions (Jaro-Winkler, Damerau-Levenshtein) are Scala UDFs in a jar shipped
with Splink; it is added to ``spark.jars`` here (on Databricks, Splink registers it
itself). Time zone UTC, so dates never shift. When a session already exists (a
notebook, ``spark-submit``), it is used as it is: the jar must then be on its
``spark.jars`` (docs/spark.md).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from bettercare.errors import BadInput

#: The one-line error when the Spark extra is not installed.
SPARK_MISSING = "Spark backend needs `pip install bettercare[spark]`"


class SparkUnavailable(BadInput):
    """pyspark is not installed."""


def require_spark() -> None:
    """Raise :class:`SparkUnavailable` (:data:`SPARK_MISSING`) when pyspark is absent."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(SPARK_MISSING) from None


def splink_jar() -> str | None:
    """The path of Splink's similarity-function jar for this Spark, if Splink has one."""
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        return None
    path = similarity_jar_location()
    return path if os.path.isfile(path) else None


@cache
def spark_session() -> Any:
    """The process's Spark session (created small and local unless configured)."""
    require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:  # spark-submit, Databricks, a notebook: theirs as it is
        return active
    master = os.environ.get("BETTERCARE_SPARK_MASTER", "local[2]")
    partitions = os.environ.get("BETTERCARE_SPARK_SHUFFLE_PARTITIONS", "4")
    driver_memory = os.environ.get("BETTERCARE_SPARK_DRIVER_MEMORY", "2g")
    builder = (
        SparkSession.builder.master(master)
        .appName("bettercare")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", partitions)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", driver_memory)
    )
    jar = splink_jar()
    if jar:
        builder = builder.config("spark.jars", jar)
    return builder.getOrCreate()
