"""The store for an ingest: open it safely, its bookkeeping tables, the key check.

Opening never downloads or loads a DuckDB extension (no network; a SQLite file is a
one-line error) and spills only to a private temporary directory that the next run
clears (no identifiers at rest outside the store).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from bettercare.data import duck, pseudonymise
from bettercare.data.ingest.results import UsageError

AUX_DDL = (
    """CREATE TABLE IF NOT EXISTS ingest_log (
      run_id VARCHAR, feed VARCHAR, file VARCHAR, sha256 VARCHAR, periods VARCHAR,
      rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_opted_out BIGINT,
      loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
      run_id VARCHAR, feed VARCHAR, file VARCHAR, sha256 VARCHAR, "row" BIGINT,
      "column" VARCHAR,
      rule VARCHAR, severity VARCHAR, message VARCHAR, value VARCHAR)""",
    "CREATE TABLE IF NOT EXISTS opt_out_register (person_id VARCHAR PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS store_meta (name VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS linkage_report (
      run_id VARCHAR, metric VARCHAR, value DOUBLE)""",
)


def temp_directory(store: Path) -> Path:
    """DuckDB's spill directory for an ingest into ``store``: ``<store>.tmp/``.

    Mode 0700, emptied when a run starts (a crashed run's leftovers) and removed when it
    ends.
    """
    return store.with_name(store.name + ".tmp")


def connect(store: Path, *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the store for an ingest, offline and spilling only to a private directory.

    It never downloads or loads an extension (a file that is not a DuckDB store is a
    one-line :class:`UsageError`), and spills only to the private
    :func:`temp_directory`, cleared of any earlier run's leftovers.

    The leftovers are removed only once the store is open: DuckDB's file lock means no
    other ingest is running (whose spill files they could be).
    """
    new = not store.exists()
    try:  # bettercare.data.duck: extension autoload/autoinstall off, file magic checked
        con = duck.connect(store)
    except duck.DatabaseFileError as exc:  # not a DuckDB file, locked by another process
        raise UsageError(f"cannot open the store: {exc}") from None
    if new:
        os.chmod(store, 0o600)  # a new store is private whatever the umask
    try:
        tmp = temp_directory(store)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        os.chmod(tmp, 0o700)  # whatever the umask
        con.execute(f"SET temp_directory = '{sql_path(tmp)}'")
        if memory_limit:
            try:
                con.execute("SET memory_limit = ?", [memory_limit])
            except duckdb.Error as exc:
                raise UsageError(f"memory limit {memory_limit!r}: {exc}") from None
    except BaseException:
        con.close()
        shutil.rmtree(temp_directory(store), ignore_errors=True)
        raise
    return con


#: The share of the ingest's memory limit that the store's connection keeps while the
#: linkage runs on its own connection (which gets the rest).
STORE_SHARE_DURING_LINKAGE = 0.25


@contextmanager
def lend_memory(con: duckdb.DuckDBPyConnection, memory_limit: str | None) -> Iterator[str | None]:
    """Lend most of the ingest's DuckDB memory to the linkage while it runs: its limit.

    The linkage has a DuckDB connection of its own (nothing of it reaches the store); with
    the whole limit each, the two would take up to twice the limit. Meanwhile the store's
    connection keeps :data:`STORE_SHARE_DURING_LINKAGE` of it (DuckDB writes what no
    longer fits, the run's TEMP tables, to the private spill directory) and the linkage
    gets the rest, each at least :data:`~bettercare.data.duck.MIN_JOIN_MEMORY`; the
    store's limit is restored after. ``None`` (DuckDB's default limit): nothing is lent.
    """
    if not memory_limit:
        yield None
        return
    total = duck.memory_bytes(memory_limit)
    least = duck.memory_bytes(duck.MIN_JOIN_MEMORY)
    keep = max(total * STORE_SHARE_DURING_LINKAGE, least)
    lent = max(total - keep, least)
    con.execute(f"SET memory_limit = '{keep / 1e6:.0f}MB'")
    try:
        yield f"{lent / 1e6:.0f}MB"
    finally:
        con.execute("SET memory_limit = ?", [memory_limit])


def check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Stamp a new store with the key's check value; refuse another key (:class:`UsageError`)."""
    kcv = pseudonymise.key_check_value(key)
    row = con.execute("SELECT value FROM store_meta WHERE name = 'key_check'").fetchone()
    if row is None:
        con.execute("INSERT INTO store_meta VALUES ('key_check', ?)", [kcv])
    elif row[0] != kcv:
        raise UsageError(
            "this store was loaded with a different pseudonymisation key; "
            "use the same key (pseudonyms would not match)"
        )


def count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    """The one number an aggregate counting query (``SELECT count``) returns."""
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row is not None else 0


def arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The result of ``sql`` as an Arrow table."""
    con.complete()  # DuckDB 2: finish any pending execute() result first
    return con.sql(sql).to_arrow_table()


def sql_path(path: Path) -> str:
    """``path`` quoted for a SQL string literal."""
    return str(path).replace("'", "''")
