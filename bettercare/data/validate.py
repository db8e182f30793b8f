"""Reading feed files and checking them against :mod:`bettercare.data.schema`.

File-level problems (unknown feed name, wrong delimiter, missing / unknown / repeated
column, unreadable file) reject the whole file: :class:`FileRejected`. Row-level rules
are DuckDB SQL over the file's rows read as text (:func:`row_issues_sql`); each finding
is an :class:`Issue` with the file, the spreadsheet row (header = row 1, first data row =
row 2), the column, a rule id and a value that is masked for identifiers.

Row numbers count one line per record: a quoted value spanning lines shifts the numbers
of the rows after it. Rule ids (row level): ``required``, ``bad_date``, ``bad_integer``,
``bad_number``, ``bad_boolean``, ``unknown_code``, ``pattern``, ``below_minimum``,
``above_maximum``,
``nhs_number_format``, ``nhs_number_mod11``, ``discharge_before_admission``
(negative length of stay), ``start_before_discharge``, ``end_before_start``,
``diagnosis_before_birth``, ``death_before_birth``, ``before_birth`` (social care start
before the record's own date of birth), plausible dates (issue 8): ``implausible_date``
(before 1900), ``future_date`` (after the run date; not for a column marked
``may_be_future``), ``outside_extract_period`` (when the run declares one),
``duplicate_key`` (within the file), ``duplicate_key_in_store`` (key already loaded for
another period), ``wrong_field_count``, ``truncated_last_row`` (the file's last record
lacks fields). An invalid NHS number in the social care feed, and a malformed identifier
(postcode), are *warnings*: the row loads and is linked probabilistically instead.
File level: ``unreadable``, ``encoding``, ``empty_file``, ``wrong_delimiter``,
``missing_column``, ``unknown_column``, ``duplicate_column``, ``unexpected_type`` (a
Parquet column that is not one text, number, date or boolean value per row).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bettercare.data import identifier_scan, nhs_numbers
from bettercare.data.schema import FEEDS, Column, FeedSpec

ROW = "_row"  # spreadsheet row number column added to every staged file
NHS = "_nhs"  # normalised NHS number (10 digits) or NULL
NHS_OK = "_nhs_ok"  # normalised NHS number passes modulus 11
SUFFIXES = (".csv", ".parquet")
TRUNCATED = "truncated_last_row"  # parse finding: the file's last record lacks fields
_OTHER_DELIMITERS = (";", "\t", "|")
_COLUMN_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")  # snake_case, as every feed column


@dataclass(frozen=True)
class Issue:
    file: str
    row: int | None
    column: str | None
    rule: str
    message: str
    value: str = ""
    severity: str = "error"  # error: row quarantined / file rejected; warning: row loads


class FileRejected(Exception):
    """The whole file is rejected; nothing from it is loaded."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues


def discover(directory: Path) -> tuple[dict[str, Path], list[Issue]]:
    """Feed files in ``directory`` (``<feed>.csv`` or ``<feed>.parquet``) and the issues
    for files that cannot be used (unknown feed name, both formats for one feed)."""
    found: dict[str, list[Path]] = {}
    issues: list[Issue] = []
    for path in sorted(p for p in Path(directory).iterdir() if p.is_file()):
        if path.name.startswith((".", "_")) or path.suffix.lower() not in (*SUFFIXES, ".tsv"):
            continue
        if path.stem not in FEEDS or path.suffix.lower() == ".tsv":
            issues.append(
                Issue(
                    path.name,
                    None,
                    None,
                    "unknown_feed",
                    f"{path.name}: not a known feed file; expected one of "
                    f"{', '.join(f + '.csv' for f in FEEDS)} (or .parquet)",
                )
            )
            continue
        found.setdefault(path.stem, []).append(path)
    files: dict[str, Path] = {}
    for feed, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            issues += [
                Issue(
                    p.name,
                    None,
                    None,
                    "duplicate_feed_file",
                    f"{names}: two files for feed '{feed}'; keep one",
                )
                for p in paths
            ]
        else:
            files[feed] = paths[0]
    return files, issues


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_header(file: str, feed: FeedSpec, header: list[str]) -> None:
    """Reject the file for a missing, unknown or repeated column."""
    issues: list[Issue] = []
    expected = feed.column_names
    for name in sorted({h for h in header if header.count(h) > 1 and _COLUMN_NAME.fullmatch(h)}):
        issues.append(
            Issue(
                file, 1, name, "duplicate_column", f"{file}: column '{name}' appears more than once"
            )
        )
    for name in expected:
        if name not in header:
            issues.append(
                Issue(
                    file, 1, name, "missing_column", f"{file}: required column '{name}' is missing"
                )
            )
    for i, name in enumerate(header, 1):
        if name not in expected:
            # a header row that is really data (no header) must not put identifiers into
            # the report: only a column-name-like header is shown
            shown = name if _COLUMN_NAME.fullmatch(name) else f"#{i} (not shown: data?)"
            issues.append(
                Issue(
                    file,
                    1,
                    shown,
                    "unknown_column",
                    f"{file}: unknown column '{shown}' (expected: {', '.join(expected)})",
                )
            )
    if issues:
        raise FileRejected(issues)


def read_feed(path: Path, feed: FeedSpec) -> tuple[pa.Table, list[Issue]]:
    """The file's rows as text columns plus ``_row``, and row issues found while parsing
    (rows with the wrong number of fields). Raises :class:`FileRejected`."""
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, feed), []
    return _read_csv(path, feed)


def _rejected(file: str, rule: str, message: str, column: str | None = None) -> FileRejected:
    return FileRejected([Issue(file, None, column, rule, identifier_scan.redact(message)[:500])])


def _plain(t: pa.DataType) -> bool:
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_temporal(t)
        or pa.types.is_null(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def _read_parquet(path: Path, feed: FeedSpec) -> pa.Table:
    """A Parquet file's columns as text. A column of a type that is not a single text,
    number, date or boolean value (list, struct, map), or binary that is not UTF-8, rejects
    the file (``unexpected_type``)."""
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise _rejected(
            path.name, "unreadable", f"{path.name}: not a readable Parquet file ({exc})"
        ) from exc
    check_header(path.name, feed, table.column_names)
    cols = {}
    for name in feed.column_names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_boolean(col.type):
            col = pa.array(
                ["true" if v else "false" if v is not None else None for v in col.to_pylist()],
                pa.string(),
            )
        elif not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            if not _plain(col.type):
                raise _rejected(
                    path.name,
                    "unexpected_type",
                    f"{path.name}: column '{name}' has type {col.type}; expected one text, "
                    "number, date or boolean value per row",
                    name,
                )
            try:
                col = col.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise _rejected(
                    path.name,
                    "unexpected_type",
                    f"{path.name}: column '{name}' ({col.type}) cannot be read as text ({exc})",
                    name,
                ) from exc
        cols[name] = col
    cols[ROW] = pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64))
    return pa.table(cols)


def _read_csv(path: Path, feed: FeedSpec) -> tuple[pa.Table, list[Issue]]:
    name = path.name
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise FileRejected(
            [Issue(name, None, None, "encoding", f"{name}: not UTF-8 text ({exc.reason})")]
        ) from exc
    if not first.strip():
        raise FileRejected([Issue(name, 1, None, "empty_file", f"{name}: no header row")])
    header = [h.strip() for h in next(csv.reader([first]))]
    if len(header) == 1 and (len(feed.columns) > 1 or header[0] not in feed.column_names):
        used = [d for d in _OTHER_DELIMITERS if d in first]
        hint = f"it looks {used[0]!r}-delimited" if used else "no ',' in the header"
        raise FileRejected(
            [
                Issue(
                    name,
                    1,
                    None,
                    "wrong_delimiter",
                    f"{name}: header parses to one column ({hint}); feeds must be comma-separated",
                )
            ]
        )
    check_header(name, feed, header)

    bad: list[Issue] = []
    bad_lines: list[int] = []

    def on_invalid(row) -> str:
        bad_lines.append(row.number)
        bad.append(
            Issue(
                name,
                row.number,
                None,
                "wrong_field_count",
                f"row has {row.actual_columns} fields, header has {row.expected_columns}",
            )
        )
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            # our own (stripped) header names; the header line itself is skipped
            read_options=pacsv.ReadOptions(
                use_threads=False, encoding="utf8", skip_rows=1, column_names=header
            ),
            parse_options=pacsv.ParseOptions(delimiter=",", invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _rejected(name, "unreadable", f"{name}: cannot be parsed as CSV ({exc})") from exc
    n = table.num_rows
    last = n + len(bad_lines) + 1
    rows = np.arange(2, last + 1, dtype=np.int64)
    if bad_lines:
        rows = rows[~np.isin(rows, np.array(bad_lines, dtype=np.int64))]
    if last in bad_lines:  # the file was cut short: the last record lacks fields
        bad = [
            Issue(name, i.row, None, TRUNCATED, f"last row is cut short: {i.message}")
            if i.row == last
            else i
            for i in bad
        ]
    table = table.select(feed.column_names).append_column(ROW, pa.array(rows[:n]))
    return table, bad


# --- row rules as SQL ---------------------------------------------------------------------

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_expr(col: Column, src: str) -> str:
    """DuckDB expression parsing the text column ``src`` into the column's type (NULL when
    it does not parse)."""
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
    """SELECT over the raw text table: trimmed text columns, ``<col>__t`` typed columns,
    and ``_nhs`` / ``_nhs_ok`` for feeds with an NHS number."""
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
        sel = (
            f"SELECT *, coalesce({NHS} IS NOT NULL AND "
            f"{nhs_numbers.sql_is_valid_digits(NHS)}, FALSE) AS {NHS_OK} FROM ({sel})"
        )
    return sel


def t(col: Column) -> str:
    """Name of the typed value of ``col`` in the staging table."""
    return col.name if col.type == "VARCHAR" else f"{col.name}__t"


def display(col: Column, expr: str | None = None) -> str:
    """SQL: the value of ``col`` (or of ``expr``, a value of that column) as a finding
    may show it (identifiers masked)."""
    return identifier_scan.sql_display(expr or col.name, col.kind if col.identifier else None)


def _display(col: Column) -> str:
    return identifier_scan.sql_display(col.name, col.kind if col.identifier else None)


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
    """One SELECT (file, row, column, rule, severity, message, value) of every row-level
    finding in the staging table ``stg``. ``run_date`` (default today) bounds every date
    not marked ``may_be_future``; ``extract_period`` (first, last day) bounds the feed's
    period column."""
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

    # plausibility (issue 8): no event before 1900 or after the run date
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
        first = feed.column(feed.key[0])
        dup = (
            f"(SELECT *, count(*) OVER (PARTITION BY {part}) AS _n, "
            f"min({ROW}) OVER (PARTITION BY {part}) AS _first FROM {stg} "
            f"WHERE {not_null})"
        )
        selects.append(
            f"SELECT {f}, {ROW}, {_q(first.name)}, 'duplicate_key', 'error', "
            f"{_q(', '.join(feed.key) + ' is repeated: ')} || CAST(_n AS VARCHAR) || "
            f"' rows share it (first on row ' || CAST(_first AS VARCHAR) || ')', "
            f"coalesce({_display(first)}, '') FROM {dup} WHERE _n > 1"
        )
    return "\nUNION ALL\n".join(selects)
