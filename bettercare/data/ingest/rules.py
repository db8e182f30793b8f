"""Row rules of a feed as DuckDB SQL over the file's rows read as text.

The rows are staged in a TEMP table. Rules: types, code lists, patterns, ranges, NHS
numbers, dates in order, plausible dates, duplicate keys. Each finding is a row (file,
row, column, rule, severity, message, value) with identifier values masked.

Rule ids: ``required``, ``bad_date``, ``bad_integer``, ``bad_number``, ``bad_boolean``,
``unknown_code``, ``pattern``, ``below_minimum``, ``above_maximum``,
``nhs_number_format``, ``nhs_number_mod11``, ``discharge_before_admission`` (negative
length of stay), ``ready_before_admission`` and ``discharge_before_ready``
(``discharge_ready_date`` outside the stay), ``start_before_discharge``, ``end_before_start``,
``diagnosis_before_birth``, ``death_before_birth``, ``before_birth`` (social care start
before the record's own date of birth), plausible dates: ``implausible_date``
(before 1900), ``future_date`` (after the run date; not for a column marked
``may_be_future``), ``outside_extract_period`` (when the run declares one),
``duplicate_key`` (within the file). An invalid NHS number in the social care feed, and
a malformed identifier (postcode), are *warnings*: the row loads and is linked
probabilistically instead. Rules needing the store (``duplicate_key_in_store``,
``before_birth`` / ``after_date_of_death`` against the residents table) are in
:mod:`.load` and :mod:`.plausibility`.
"""

from __future__ import annotations

import datetime as dt

from bettercare.data import nhs_numbers
from bettercare.data.ingest import identifiers
from bettercare.data.ingest.read import ROW
from bettercare.data.schema import Column, FeedSpec

NHS = "_nhs"  # normalised NHS number (10 digits) or NULL
NHS_OK = "_nhs_ok"  # normalised NHS number passes modulus 11

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_expr(col: Column, src: str) -> str:
    """DuckDB expression parsing the text column ``src`` into the column's type.

    NULL when it does not parse.
    """
    if col.type == "DATE":
        return f"coalesce(try_cast({src} AS DATE), CAST(try_strptime({src}, '%d/%m/%Y') AS DATE))"
    if col.type == "INTEGER":
        return (
            f"CASE WHEN regexp_full_match({src}, '[+-]?[0-9]+') THEN try_cast({src} AS INTEGER) END"
        )
    if col.type == "DOUBLE":
        return f"try_cast({src} AS DOUBLE)"
    if col.type == "BOOLEAN":
        t = ", ".join(map(_q, _TRUE))
        f = ", ".join(map(_q, _FALSE))
        return (
            f"CASE WHEN lower({src}) IN ({t}) THEN TRUE WHEN lower({src}) IN ({f}) THEN FALSE END"
        )
    return src


def staging_sql(feed: FeedSpec, raw: str) -> str:
    """SELECT over the raw text table: trimmed text and typed columns.

    ``<col>__t`` are the typed columns, and ``_nhs`` / ``_nhs_ok`` are added for feeds
    with an NHS number.
    """
    parts = [ROW]
    for c in feed.columns:
        parts.append(f"nullif(trim({c.name}), '') AS {c.name}")
    inner = f"SELECT {', '.join(parts)} FROM {raw}"
    typed = [f"{typed_expr(c, c.name)} AS {c.name}__t" for c in feed.columns if c.type != "VARCHAR"]
    extra = ""
    if "nhs_number" in feed.column_names:
        extra = f", {nhs_numbers.sql_normalise('nhs_number')} AS {NHS}"
    sel = f"SELECT *{', ' if typed else ''}{', '.join(typed)}{extra} FROM ({inner})"
    if extra:
        sel = (  # CASE, not AND: the check digit only where there are ten digits
            f"SELECT *, CASE WHEN {NHS} IS NOT NULL THEN "
            f"coalesce({nhs_numbers.sql_is_valid_digits(NHS)}, FALSE) ELSE FALSE END "
            f"AS {NHS_OK} FROM ({sel})"
        )
    return sel


def t(col: Column) -> str:
    """Name of the typed value of ``col`` in the staging table."""
    return col.name if col.type == "VARCHAR" else f"{col.name}__t"


def display(col: Column, expr: str | None = None) -> str:
    """SQL: the value of ``col`` as a finding may show it (identifiers masked).

    ``expr``, when given, is a value of that column.
    """
    return identifiers.sql_display(expr or col.name, col.kind if col.identifier else None)


def _display(col: Column) -> str:
    return identifiers.sql_display(col.name, col.kind if col.identifier else None)


EARLIEST_YEAR = 1900
# (later column, earlier column, rule, message start) per feed: the later date may not
# precede the earlier one
CROSS_RULES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "hospital_spells": (
        (
            "discharge_date",
            "admission_date",
            "discharge_before_admission",
            "discharge_date is before admission_date (length of stay ",
        ),
        (
            "discharge_ready_date",
            "admission_date",
            "ready_before_admission",
            "discharge_ready_date is before admission_date (",
        ),
        (
            "discharge_date",
            "discharge_ready_date",
            "discharge_before_ready",
            "discharge_date is before discharge_ready_date (",
        ),
    ),
    "reablement_episodes": (
        (
            "start_date",
            "discharge_date",
            "start_before_discharge",
            "start_date is before discharge_date (",
        ),
    ),
    "social_care_services": (
        ("end_date", "start_date", "end_before_start", "end_date is before start_date ("),
        ("start_date", "date_of_birth", "before_birth", "start_date is before date_of_birth ("),
    ),
    "residents": (
        (
            "dementia_diagnosis_date",
            "date_of_birth",
            "diagnosis_before_birth",
            "dementia_diagnosis_date is before date_of_birth (",
        ),
        (
            "date_of_death",
            "date_of_birth",
            "death_before_birth",
            "date_of_death is before date_of_birth (",
        ),
    ),
}


def row_issues_sql(
    feed: FeedSpec,
    stg: str,
    file: str,
    *,
    run_date: dt.date | None = None,
    extract_period: tuple[dt.date, dt.date] | None = None,
) -> str:
    """One SELECT of every row-level finding in the staging table ``stg``.

    Columns (file, row, column, rule, severity, message, value). ``run_date`` (default
    today) bounds every date not marked ``may_be_future``; ``extract_period`` (first,
    last day) bounds the feed's period column.

    One SELECT per rule, UNION ALL: DuckDB answers most of them from the column's
    statistics or a pushed-down filter (``x IS NULL`` on a column without NULLs reads
    nothing). One pass computing every rule's condition as a column was measured 1.6-2.2x
    slower (benchmarks/README.md).
    """
    f = _q(file)
    selects: list[str] = []

    def add(
        col: Column | None,
        rule: str,
        where: str,
        message: str,
        severity: str = "error",
        value: str | None = None,
    ) -> None:
        cname = _q(col.name) if col else "NULL"
        val = value if value is not None else (_display(col) if col else "''")
        selects.append(
            f"SELECT {f} AS file, {ROW} AS row, {cname} AS column, {_q(rule)} AS rule, "
            f"{_q(severity)} AS severity, {message} AS message, "
            f"coalesce({val}, '') AS value FROM {stg} WHERE {where}"
        )

    for c in feed.columns:
        n = c.name
        if c.required:
            add(c, "required", f"{n} IS NULL", _q(f"{n} is required"))
        if c.type != "VARCHAR":
            rule = {
                "DATE": "bad_date",
                "INTEGER": "bad_integer",
                "DOUBLE": "bad_number",
                "BOOLEAN": "bad_boolean",
            }[c.type]
            hint = {
                "DATE": "a date YYYY-MM-DD",
                "INTEGER": "a whole number",
                "DOUBLE": "a number",
                "BOOLEAN": "true or false",
            }[c.type]
            add(c, rule, f"{n} IS NOT NULL AND {t(c)} IS NULL", _q(f"{n} is not {hint}"))
        if c.allowed:
            codes = ", ".join(map(_q, c.allowed))
            add(
                c,
                "unknown_code",
                f"{n} IS NOT NULL AND {n} NOT IN ({codes})",
                _q(f"{n} is not one of: {', '.join(c.allowed)}"),
            )
        if n == "nhs_number":
            sev = "error" if c.required else "warning"
            add(
                c,
                "nhs_number_format",
                f"{n} IS NOT NULL AND {NHS} IS NULL",
                _q("nhs_number is not 10 digits"),
                sev,
            )
            add(
                c,
                "nhs_number_mod11",
                f"{NHS} IS NOT NULL AND NOT {NHS_OK}",
                _q("nhs_number fails the modulus 11 check digit"),
                sev,
            )
        elif c.pattern:
            sev = "warning" if c.identifier else "error"
            add(
                c,
                "pattern",
                f"{n} IS NOT NULL AND NOT regexp_full_match({n}, {_q(c.pattern)})",
                _q(f"{n} does not match {c.pattern}"),
                sev,
            )
        if c.minimum is not None:
            add(c, "below_minimum", f"{t(c)} < {c.minimum}", _q(f"{n} is below {c.minimum:g}"))
        if c.maximum is not None:
            add(c, "above_maximum", f"{t(c)} > {c.maximum}", _q(f"{n} is above {c.maximum:g}"))

    for later, earlier, rule, text in CROSS_RULES.get(feed.name, ()):
        lc, ec = feed.column(later), feed.column(earlier)
        days = f"date_diff('day', {t(ec)}, {t(lc)})"
        add(lc, rule, f"{t(lc)} < {t(ec)}", f"{_q(text)} || CAST({days} AS VARCHAR) || ' days)'")

    # plausibility: no event before 1900 or after the run date
    today = run_date or dt.date.today()
    for c in feed.columns:
        if c.type != "DATE":
            continue
        add(
            c,
            "implausible_date",
            f"year({t(c)}) < {EARLIEST_YEAR}",
            _q(f"{c.name} is before {EARLIEST_YEAR}"),
        )
        if not c.may_be_future:
            add(
                c,
                "future_date",
                f"{t(c)} > DATE '{today.isoformat()}'",
                _q(f"{c.name} is after the run date {today.isoformat()}"),
            )
    if extract_period and feed.period_column:
        pc = feed.column(feed.period_column)
        first, last = (d.isoformat() for d in extract_period)
        add(
            pc,
            "outside_extract_period",
            f"{t(pc)} NOT BETWEEN DATE '{first}' AND DATE '{last}'",
            _q(f"{pc.name} is outside the declared extract period {first} to {last}"),
        )

    if feed.key:
        key_exprs = [NHS if k == "nhs_number" else k for k in feed.key]
        part = ", ".join(key_exprs)
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in key_exprs)
        key_col = feed.column(feed.key[0])
        dup = (
            f"(SELECT *, count(*) OVER (PARTITION BY {part}) AS _n, "
            f"min({ROW}) OVER (PARTITION BY {part}) AS _first FROM {stg} "
            f"WHERE {not_null})"
        )
        selects.append(
            f"SELECT {f}, {ROW}, {_q(key_col.name)}, 'duplicate_key', 'error', "
            f"{_q(', '.join(feed.key) + ' is repeated: ')} || CAST(_n AS VARCHAR) || "
            f"' rows share it (first on row ' || CAST(_first AS VARCHAR) || ')', "
            f"coalesce({_display(key_col)}, '') FROM {dup} WHERE _n > 1"
        )
    return "\nUNION ALL\n".join(selects)
