"""The compiled-SQL cache: each query shape compiled from Ibis to DuckDB SQL once a process.

Compiling seven Ibis expressions costs ~0.2 s of Python, more than computing them on a
small store; the SQL depends only on (metrics, grain, window), the store tables being fixed
by the schema contract, so it is compiled once per process and reused. Owns the cache, the
union of the metric expressions into one statement, and the view of snapshot periods
registered for a call. It does not own the metric definitions or the Spark path
(:mod:`.backends`, which compiles nothing ahead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from bettercare.analytics.engine.frames import normalise
from bettercare.analytics.metrics import OUTPUT_COLUMNS, SPECS
from bettercare.analytics.metrics.base import Context

#: Column types of the snapshot periods table (``Context.periods``).
PERIODS_SCHEMA = {
    "period": "string",
    "period_start": "date",
    "period_end": "date",
    "pop_year": "int64",
}
PERIODS_VIEW = "_bettercare_periods"
_PERIODS_ARROW = pa.schema(
    [
        ("period", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("pop_year", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Query:
    """The shape of one metrics query: the compiled SQL depends on nothing else."""

    ids: tuple[str, ...]  # the metrics, in output order
    tables: tuple[str, ...]  # the store tables they read
    grain: str
    start: date | None
    end: date | None


_SQL_CACHE: dict[Query, str] = {}


def union(ctx: Context, ids: Sequence[str]) -> ibis.Table:
    """Every metric as one statement: the backend plans and parallelises them together."""
    exprs = [SPECS[mid].build(ctx).select(*OUTPUT_COLUMNS) for mid in ids]
    return ibis.union(*exprs) if len(exprs) > 1 else exprs[0]


def cached_sql(con: duckdb.DuckDBPyConnection, query: Query, snapshots: bool) -> str:
    """The DuckDB SQL of ``query``; compiled on the first call of its shape."""
    sql = _SQL_CACHE.get(query)
    if sql is None:
        db = ibis.duckdb.from_connection(con)
        ctx = Context(
            tables={t: db.table(t) for t in query.tables},
            grain=query.grain,
            start=query.start,
            end=query.end,
            periods=db.table(PERIODS_VIEW) if snapshots else None,
        )
        sql = _SQL_CACHE[query] = str(ibis.to_sql(union(ctx, query.ids), dialect="duckdb"))
    return sql


def run_duckdb(
    con: duckdb.DuckDBPyConnection, query: Query, periods: pd.DataFrame | None
) -> pd.DataFrame:
    """Run the Ibis definitions on DuckDB through the cached SQL.

    The period list (snapshot metrics) is a view registered for the call.
    """
    if periods is not None:
        arrow = pa.Table.from_pandas(periods, preserve_index=False).cast(_PERIODS_ARROW)
        con.register(PERIODS_VIEW, arrow)
    try:
        return normalise(con.execute(cached_sql(con, query, periods is not None)).df())
    finally:
        if periods is not None:
            con.unregister(PERIODS_VIEW)
