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
    birth = birth_condition(con, event, monthly)
    if birth:
        conditions.append(
            ("before_birth", birth, "is before the date of birth in the residents feed")
        )
    for rule, where, text in conditions:
        con.execute(
            f"""INSERT INTO {iss}
            SELECT '{name}', o.{ROW}, '{period}', '{rule}', 'error',
                   '{period} ' || strftime({event}, '%Y-%m-%d') || ' {text}',
                   left(o.{period}, 60)
            FROM {ok} o JOIN residents r ON o.person_id = r.person_id
            WHERE {where}"""
        )
    con.execute(
        f'DELETE FROM {ok} WHERE {ROW} IN (SELECT "row" FROM {iss} WHERE rule IN '
        "('after_date_of_death', 'before_birth'))"
    )


def birth_condition(con: duckdb.DuckDBPyConnection, event: str, monthly: bool) -> str:
    """SQL (over ``r``, the residents table) true when ``event`` precedes the birth.

    At the precision the residents table keeps; "" when it keeps no birth date.
    """
    cols = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE residents)").fetchall())
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
