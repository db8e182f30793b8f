"""Backend binding: the store connection, and the store's tables on DuckDB or Spark.

Owns how the metrics engine reaches data: opening the DuckDB store read only (one-line
errors for a missing, locked or foreign file), listing its tables, the one local Spark
session per process, and binding the store's tables as Ibis tables on the chosen backend
(Spark reads them as Parquet exported by DuckDB ``COPY``). It does not own the metric
definitions (:mod:`bettercare.analytics.metrics`), compiling them
(:mod:`.sql_cache`) or what is computed (:mod:`.compute`).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis

from bettercare.analytics.metrics import MetricDataError
from bettercare.data import duck

#: The backends :func:`~bettercare.analytics.engine.compute_metrics` can run on.
BACKENDS: tuple[str, ...] = ("duckdb", "spark")
#: A store: its file, or an open DuckDB connection to it.
Store = str | Path | duckdb.DuckDBPyConnection
#: The one-line error when the Spark extra is not installed.
SPARK_MISSING = "Spark backend needs `pip install bettercare[spark]`"  # (as the ingest's)


def require_spark() -> None:
    """Raise :class:`MetricDataError` (:data:`SPARK_MISSING`) when pyspark is absent."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise MetricDataError(SPARK_MISSING) from None


def spark_session() -> Any:
    """The process's one Spark session (:func:`bettercare.data.spark_ingest.session.spark_session`).

    ``BETTERCARE_SPARK_MASTER`` (default ``local[2]``) names the master, e.g.
    ``spark://host:7077`` or ``yarn`` (docs/spark.md); everything else is the same on
    a cluster. The ingest on Spark and the metrics share it.
    """
    require_spark()
    from bettercare.data.spark_ingest.session import spark_session as session

    return session()


#: Parquet stores open now: the DuckDB connection's id -> the store's directory (Spark
#: reads the tables from there, not through DuckDB).
_PARQUET_DIRS: dict[int, Path] = {}


def is_parquet_store(path: Path) -> bool:
    """Whether ``path`` is a Parquet store (``bettercare ingest --backend spark``)."""
    return path.is_dir() and (path / "store_meta").is_dir()


@contextmanager
def _open_parquet_store(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with a view per table of the Parquet store."""
    con = duck.connect(":memory:")
    try:
        for table in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not any(table.glob("*.parquet")):
                continue
            glob = str(table / "*.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW \"{table.name}\" AS SELECT * FROM read_parquet('{glob}')")
        _PARQUET_DIRS[id(con)] = path
        yield con
    finally:
        _PARQUET_DIRS.pop(id(con), None)
        con.close()


@contextmanager
def open_store(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection to the store; a path must exist (never create an empty store)."""
    if isinstance(store, duckdb.DuckDBPyConnection):
        yield store
        return
    path = Path(store)
    if is_parquet_store(path):
        with _open_parquet_store(path) as con:
            yield con
        return
    if not path.is_file():
        raise MetricDataError(f"store file not found: {path}")
    try:
        con = duck.connect(path, read_only=True)  # no extension autoload / network
    except duck.DatabaseFileError as exc:
        cause = exc.__cause__  # a duckdb.Error (locked, corrupt) or None (not a DuckDB file)
        message = (
            _open_error(path, cause)
            if isinstance(cause, duckdb.Error)
            else f"store {path} cannot be opened as a DuckDB analytics store: {exc}"
        )
        raise MetricDataError(message) from None
    try:
        yield con
    finally:
        con.close()


def _open_error(path: Path, exc: duckdb.Error) -> str:
    """One line for a store DuckDB cannot open: locked by a writer, or not a store."""
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"store {path} is in use by another process (e.g. an ingest holding the write "
            "lock); run metrics when it has finished"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"store {path} cannot be opened as a DuckDB analytics store: {first}"


def store_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the store's main schema."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Names of the columns of the store table ``table``."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {str(r[0]) for r in rows}


@contextmanager
def bind(
    con: duckdb.DuckDBPyConnection, tables: list[str], backend: str
) -> Iterator[dict[str, ibis.Table]]:
    """Ibis tables for ``tables`` on the chosen backend (Spark: via Parquet in a temp dir)."""
    if backend == "duckdb":
        db = ibis.duckdb.from_connection(con)
        yield {t: db.table(t) for t in tables}
        return
    session = spark_session()
    parquet = _PARQUET_DIRS.get(id(con))
    if parquet is not None:  # a Parquet store: Spark reads its tables where they are
        sp = ibis.pyspark.connect(session)
        tag = uuid.uuid4().hex[:8]
        yield {t: sp.read_parquet(str(parquet / t), table_name=f"bc_{t}_{tag}") for t in tables}
        return
    with tempfile.TemporaryDirectory(prefix="bettercare-spark-") as tmp:
        sp = ibis.pyspark.connect(session)
        tag = uuid.uuid4().hex[:8]
        bound = {}
        for t in tables:
            path = Path(tmp) / f"{t}.parquet"
            con.execute(f"COPY {t} TO '{path}' (FORMAT parquet)")
            bound[t] = sp.read_parquet(str(path), table_name=f"bc_{t}_{tag}")
        yield bound
