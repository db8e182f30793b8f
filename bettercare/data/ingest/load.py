"""Writing a file's accepted rows into its store table.

The months or keys it replaces, keys already loaded for another month, and the
nothing-lost check.
"""

from __future__ import annotations

import duckdb

from bettercare.data.ingest.read import ROW, FileRejected, Issue
from bettercare.data.ingest.rules import display, t
from bettercare.data.ingest.store import count
from bettercare.data.schema import FeedSpec, store_columns, store_value_sql


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
    rows = con.execute(
        f"""WITH before AS (
              SELECT strftime({feed.period_column}, '%Y-%m') AS m, count(*) AS n
              FROM {feed.store_table} GROUP BY 1),
            now AS (SELECT strftime({col}, '%Y-%m') AS m, count(*) AS n FROM {ok}
              WHERE {col} IS NOT NULL GROUP BY 1)
            SELECT before.m, before.n, now.n FROM before JOIN now USING (m)
            WHERE before.m IN ({marks}) AND now.n < before.n ORDER BY 1""",
        months,
    ).fetchall()
    if not rows:
        return
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
        if months:
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
