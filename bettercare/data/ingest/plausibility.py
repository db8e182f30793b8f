"""Events outside a person's life: before birth or after death.

As the store's residents table records them. Row-level date bounds (before 1900, after
the run date, outside the extract period) are rules of :mod:`.rules`.
"""

from __future__ import annotations

import duckdb

from bettercare.data.ingest.read import ROW
from bettercare.data.ingest.rules import t
from bettercare.data.schema import FeedSpec


def quarantine_outside_life(
    con: duckdb.DuckDBPyConnection, feed: FeedSpec, ok: str, iss: str, name: str
) -> None:
    """Quarantine rows dated before the person's birth or after their death.

    The event date is the period column; birth and death as the store's residents table
    records them (``before_birth``, ``after_date_of_death``). Monthly census
    rows count from the month of the date; the birth check works at the precision the
    residents table keeps (a full date, or the month / year of birth).
    """
    birth = birth_condition(
        con, f"o.{t(feed.column(feed.period_column or ''))}", feed.period_is_month
    )
    for select in outside_life_sql(feed, ok, name, birth):
        con.execute(f"INSERT INTO {iss} {select}")
    con.execute(
        f'DELETE FROM {ok} WHERE {ROW} IN (SELECT "row" FROM {iss} WHERE rule IN '
        "('after_date_of_death', 'before_birth'))"
    )


def outside_life_sql(feed: FeedSpec, ok: str, name: str, birth: str) -> list[str]:
    """DuckDB SELECTs of the findings of rows of ``ok`` outside the person's life.

    One per rule, each a finding row (file, row, column, rule, severity, message,
    value), joined to the store's ``residents``; ``birth`` is :func:`birth_condition`'s
    SQL ("" when the residents table keeps no birth date). The DuckDB and the Spark
    ingest evaluate the same statements.
    """
    period = feed.period_column
    assert period is not None
    col = t(feed.column(period))
    monthly = feed.period_is_month
    event = f"o.{col}"
    conditions: list[tuple[str, str, str]] = []
    death = "date_trunc('month', r.date_of_death)" if monthly else "r.date_of_death"
    conditions.append(
        (
            "after_date_of_death",
            f"r.date_of_death IS NOT NULL AND {event} > {death}",
            "is after the date of death in the residents feed",
        )
    )
    if birth:
        conditions.append(
            ("before_birth", birth, "is before the date of birth in the residents feed")
        )
    return [
        f"""SELECT '{name}', o.{ROW}, '{period}', '{rule}', 'error',
                   '{period} ' || strftime({event}, '%Y-%m-%d') || ' {text}',
                   left(o.{period}, 60)
            FROM {ok} o JOIN residents r ON o.person_id = r.person_id
            WHERE {where}"""
        for rule, where, text in conditions
    ]


def birth_condition(con: duckdb.DuckDBPyConnection, event: str, monthly: bool) -> str:
    """SQL (over ``r``, the residents table) true when ``event`` precedes the birth.

    At the precision the residents table keeps; "" when it keeps no birth date.
    """
    cols = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE residents)").fetchall())
    return birth_condition_of(cols, event, monthly)


def birth_condition_of(cols: dict[str, str], event: str, monthly: bool) -> str:
    """:func:`birth_condition` given the residents table's columns (name -> DuckDB type)."""
    if cols.get("date_of_birth") == "DATE":
        born = "date_trunc('month', r.date_of_birth)" if monthly else "r.date_of_birth"
        return f"{event} < {born}"
    for name, kind in cols.items():
        if "birth" not in name:
            continue
        if kind == "DATE":  # month of birth kept as a date
            return f"date_trunc('month', {event}) < date_trunc('month', r.{name})"
        if kind in ("INTEGER", "BIGINT", "SMALLINT") and "year" in name:
            return f"year({event}) < r.{name}"
    return ""
