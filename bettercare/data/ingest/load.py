"""Writing a file's accepted rows into its store table.

The months or keys it replaces, keys already loaded for another month, the
nothing-lost check, and a store table older than its feed's contract.
"""

from __future__ import annotations

import duckdb

from bettercare.data.ingest.read import ROW, FileRejected, Issue
from bettercare.data.ingest.rules import display, t
from bettercare.data.ingest.store import count
from bettercare.data.schema import (
    FeedSpec,
    outdated_columns,
    outdated_message,
    store_columns,
    store_ddl,
    store_value_sql,
)


def check_store_current(
    con: duckdb.DuckDBPyConnection, feed: FeedSpec, name: str, replace: bool
) -> None:
    """A store table lacking a required column of its feed: replace it or reject the file.

    Its rows were loaded before the column joined the contract (an empty one was created
    afresh by :func:`~bettercare.data.schema.create_store_tables`); the new rows cannot
    be added beside them. With ``replace`` the old rows are dropped (inside the run's
    transaction: a failed run keeps them) and the file's rows take their place; without
    it the file is rejected, naming the table and the way to replace them.
    """
    table = feed.store_table
    if table is None:
        return
    missing = outdated_columns(con, table)
    if not missing:
        return
    rows = count(con, f"SELECT count(*) FROM {table}")
    if replace:
        con.execute(f"DROP TABLE {table}")
        con.execute(store_ddl(table))
        return
    raise FileRejected(
        [
            Issue(
                name,
                None,
                missing[0],
                "store_table_outdated",
                f"{name}: {outdated_message(table, missing, rows)}; nothing of it loaded",
            )
        ]
    )


def board_scoped(feed: FeedSpec) -> bool:
    """A file of this feed replaces its months only for the HWBs it holds.

    So for a feed keyed by HWB with a period (``scheme_activity``): one board's file
    never deletes another board's rows for the same month.
    """
    return bool(feed.period_column) and "hwb_code" in feed.key


def months(con: duckdb.DuckDBPyConnection, feed: FeedSpec, stg: str) -> list[str]:
    """The months (``YYYY-MM``) the period column of the rows in ``stg`` covers."""
    if not feed.period_column:
        return []
    col = t(feed.column(feed.period_column))
    rows = con.execute(
        f"SELECT DISTINCT strftime({col}, '%Y-%m') FROM {stg} WHERE {col} IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def store_key_conflicts(
    con: duckdb.DuckDBPyConnection, feed: FeedSpec, stg: str, iss: str, name: str
) -> None:
    """Keys already in the store for a month this file does not cover."""
    table, period = feed.store_table, feed.period_column
    assert table is not None and period is not None  # only feeds with both are checked
    on = " AND ".join(f"s.{t(feed.column(k))} = x.{k}" for k in feed.key)
    first = feed.key[0]
    shown = display(feed.column(first), f"s.{first}")
    con.execute(
        f"""INSERT INTO {iss}
        SELECT '{name}', s.{ROW}, '{first}', 'duplicate_key_in_store', 'error',
               '{first} already loaded for ' || strftime(x.{period}, '%Y-%m') ||
               ', a month this file does not cover', {shown}
        FROM {stg} s JOIN {table} x ON {on}
        WHERE strftime(x.{period}, '%Y-%m') NOT IN (
            SELECT DISTINCT strftime({t(feed.column(period))}, '%Y-%m') FROM {stg}
            WHERE {t(feed.column(period))} IS NOT NULL)"""
    )


def check_nothing_lost(
    con: duckdb.DuckDBPyConnection, feed: FeedSpec, ok: str, months: list[str], name: str
) -> None:
    """Reject the file when it would leave fewer rows for a month than are loaded.

    A truncated or partial extract must not delete data silently. The file's row
    findings still go to the report (not the store).
    """
    if not feed.period_column or not months:
        return
    col = t(feed.column(feed.period_column))
    marks = ", ".join("?" for _ in months)
    # per board for a board-scoped feed (its file replaces only its boards' months)
    board, typed = ("hwb_code", "hwb_code") if board_scoped(feed) else ("''", "''")
    rows = con.execute(
        f"""WITH before AS (
              SELECT {board} AS b, strftime({feed.period_column}, '%Y-%m') AS m,
                count(*) AS n
              FROM {feed.store_table} GROUP BY 1, 2),
            now AS (SELECT {typed} AS b, strftime({col}, '%Y-%m') AS m, count(*) AS n
              FROM {ok} WHERE {col} IS NOT NULL GROUP BY 1, 2)
            SELECT before.b || ' ' || before.m, before.n, now.n
            FROM before JOIN now USING (b, m)
            WHERE before.m IN ({marks}) AND now.n < before.n ORDER BY 1""",
        months,
    ).fetchall()
    if not rows:
        return
    rows = [(m.strip(), before, now) for m, before, now in rows]
    iss = f"iss_{feed.name}"
    con.execute(f"INSERT INTO run_issues SELECT * FROM {iss}")
    raise FileRejected(
        [
            Issue(
                name,
                None,
                feed.period_column,
                "fewer_rows_than_loaded",
                f"{name}: {feed.name} {m}: {before:,} rows loaded, {now:,} in this file; "
                f"loading it would remove {before - now:,}; nothing of it loaded "
                "(--replace to accept)",
                f"{m}: {before} -> {now}",
            )
            for m, before, now in rows
        ]
    )


def replace_rows(con: duckdb.DuckDBPyConnection, feed: FeedSpec, ok: str, months: list[str]) -> int:
    """Replace the file's months (or keys) in its store table with ``ok``; rows written."""
    table = feed.store_table
    assert table is not None
    if feed.period_column:
        if months and board_scoped(feed):
            col = t(feed.column(feed.period_column))
            con.execute(
                f"DELETE FROM {table} WHERE (hwb_code, strftime({feed.period_column}, "
                f"'%Y-%m')) IN (SELECT DISTINCT (hwb_code, strftime({col}, '%Y-%m')) "
                f"FROM {ok} WHERE {col} IS NOT NULL)"
            )
        elif months:
            marks = ", ".join("?" for _ in months)
            con.execute(
                f"DELETE FROM {table} WHERE strftime({feed.period_column}, '%Y-%m') IN ({marks})",
                months,
            )
    else:
        keys = ["person_id" if k == "nhs_number" else k for k in feed.key]
        src = [k if k == "person_id" else t(feed.column(k)) for k in keys]
        con.execute(
            f"DELETE FROM {table} WHERE ({', '.join(keys)}) IN "
            f"(SELECT ({', '.join(src)}) FROM {ok})"
        )
    cols = store_columns(feed)
    names = ", ".join(c.name for c in cols)
    exprs = ", ".join(
        c.name
        if c.name in ("person_id", "link_method", "match_probability")
        else store_value_sql(feed, c.name, t)  # birth_month: the month only
        for c in cols
    )
    con.execute(f"INSERT INTO {table} ({names}) SELECT {exprs} FROM {ok} ORDER BY {ROW}")
    return count(con, f"SELECT count(*) FROM {ok}")
