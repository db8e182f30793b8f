"""Read a file in a feed's layout: header and rows as text, located findings.

The reading primitives every reader shares, the ingest's (:mod:`bettercare.data.ingest.read`)
and the national layouts' (:mod:`bettercare.data.national`): a CSV or Parquet file read as
text columns plus ``_row`` (its spreadsheet row), each finding an :class:`Issue`, and a
problem with the file as a whole a :class:`FileRejected` (nothing of it loads). It knows
no feed file names and imports nothing of the ingest or the national readers.

File-level rule ids: ``unreadable``, ``encoding``, ``empty_file``, ``wrong_delimiter``,
``missing_column``, ``unknown_column``, ``duplicate_column``, ``unexpected_type`` (a
Parquet column that is not one text, number, date or boolean value per row). Parse
findings (row level): ``wrong_field_count``, ``truncated_last_row`` (the file's last
record lacks fields).

Each finding has the file, the spreadsheet row (header = row 1, first data row = row 2),
the column, a rule id and a value that is masked for identifiers. Row numbers count one
line per record: a quoted value spanning lines shifts the numbers of the rows after it.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bettercare.data.redaction import redact
from bettercare.data.schema import FeedSpec
from bettercare.errors import BadInput

ROW = "_row"  # spreadsheet row number column added to every staged file
SUFFIXES = (".csv", ".parquet")
TRUNCATED = "truncated_last_row"  # parse finding: the file's last record lacks fields
_OTHER_DELIMITERS = (";", "\t", "|")
_COLUMN_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")  # snake_case, as every feed column


@dataclass(frozen=True)
class Issue:
    """One finding of an ingest: file, row and column, rule, message, masked value."""

    file: str
    row: int | None
    column: str | None
    rule: str
    message: str
    value: str = ""
    severity: str = "error"  # error: row quarantined / file rejected; warning: row loads


class FileRejected(BadInput):
    """The whole file is rejected; nothing from it is loaded."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues


def sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes (the ingest log's file digest)."""
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


def read_feed_file(path: Path, feed: FeedSpec) -> tuple[pa.Table, list[Issue]]:
    """The file's rows in ``feed``'s layout as text plus ``_row``, and its row issues.

    Row issues are rows with the wrong number of fields. Raises :class:`FileRejected`.
    """
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, feed), []
    return _read_csv(path, feed)


def _rejected(file: str, rule: str, message: str, column: str | None = None) -> FileRejected:
    return FileRejected([Issue(file, None, column, rule, redact(message)[:500])])


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
    """A Parquet file's columns as text.

    A column of a type that is not a single text, number, date or boolean value (list,
    struct, map), or binary that is not UTF-8, rejects the file (``unexpected_type``).
    """
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
        if pa.types.is_boolean(col.type):  # "true" / "false" / null, vectorised
            col = pc.if_else(col, pa.scalar("true"), pa.scalar("false"))
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

    def on_invalid(row: pacsv.InvalidRow) -> str:
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


def refuse_truncated(name: str, parse_issues: list[Issue], hint: str = "") -> None:
    """Raise :class:`FileRejected` when parsing found the file's last row cut short.

    ``hint``: how to load the rest anyway, if the engine offers a way (DuckDB's
    ``--replace``); both ingests refuse a truncated file through this function.
    """
    truncated = [i for i in parse_issues if i.rule == TRUNCATED]
    if truncated:
        row = truncated[0].row
        raise FileRejected(
            [
                Issue(
                    name,
                    row,
                    None,
                    TRUNCATED,
                    f"{name}: the last row (row {row}) is cut short: the file looks "
                    f"truncated; nothing of it loaded{hint}",
                )
            ]
        )
