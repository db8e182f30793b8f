"""What every national reader shares: its layout, reading it, mapping codes, the result.

A reader reads its file with the shared reader
(:func:`bettercare.data.feed_files.read_feed_file`, so encoding, delimiter, header and
Parquet-type problems are the same located findings
as for internal feeds) against a :class:`Layout`, maps national codes with
:func:`map_codes` and returns the rows in the internal layout as text plus ``_row`` (the
row of the national file the record came from) and its findings. A row with an unknown
code is left out and reported as an error finding (quarantined); a retired code maps and
is reported as a warning; a problem with the file as a whole raises
:class:`~bettercare.data.feed_files.FileRejected` (nothing of it is loaded).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bettercare.data.feed_files import ROW, FileRejected, Issue, read_feed_file
from bettercare.data.national.codes import CodeList
from bettercare.data.schema import Column, FeedSpec

UNKNOWN_CODE = "unknown_code"
RETIRED_CODE = "retired_code"
WRONG_DATASET = "wrong_dataset"
MAX_LISTED = 20  # located findings listed for one file-level problem


@dataclass(frozen=True)
class Layout:
    """A national file layout: required fields, optional fields read or dropped."""

    name: str  # file stem, e.g. "apc_episodes"
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()  # accepted; dropped unless the reader uses them
    extra: str | None = None  # regular expression for further accepted field names


def header_of(path: Path) -> list[str]:
    """Return the field names of a CSV or Parquet file.

    Empty when they cannot be read; the ingest's reader then reports why.
    """
    try:
        if path.suffix.lower() == ".parquet":
            return list(pq.read_schema(path).names)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return [h.strip() for h in next(csv.reader([fh.readline()]), [])]
    except (OSError, UnicodeDecodeError, pa.ArrowException, csv.Error):
        return []


def read_layout(
    path: Path, layout: Layout, others: Iterable[Layout] = ()
) -> tuple[pa.Table, list[Issue]]:
    """Read a national file's fields as text plus ``_row``; reject it for a bad header.

    Field names match in any case (HES extracts often use capitals: ``ADMIMETH``); the
    table's columns are the layout's lower-case names. ``others``: layouts of the other
    datasets; a file whose fields are another dataset's is rejected with ``wrong_dataset``
    naming it, before the column findings.
    """
    header = header_of(path)
    by_lower = {h.lower(): h for h in header}
    lowered = list(by_lower)
    pattern = re.compile(layout.extra) if layout.extra else None
    names = [by_lower.get(n, n) for n in layout.required]
    names += [by_lower[h] for h in lowered if h in layout.optional]
    if pattern:
        names += [by_lower[h] for h in lowered if pattern.fullmatch(h)]
    spec = FeedSpec(layout.name, layout.name, tuple(Column(n, "VARCHAR") for n in names))
    try:
        table, issues = read_feed_file(path, spec)
        return table.rename_columns(
            [c if c == ROW else c.lower() for c in table.column_names]
        ), issues
    except FileRejected as exc:
        if any(i.rule in ("missing_column", "unknown_column") for i in exc.issues):
            other = next(
                (o for o in others if o.name != layout.name and set(o.required) <= set(lowered)),
                None,
            )
            if other is not None:
                first = Issue(
                    path.name,
                    1,
                    None,
                    WRONG_DATASET,
                    f"{path.name}: its fields are those of {other.name} (a "
                    f"{other.name}.csv file), not {layout.name}; nothing of it loaded",
                )
                raise FileRejected([first, *exc.issues]) from None
        raise


def text(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Return a text field, trimmed, empty as null."""
    col = pc.utf8_trim_whitespace(table.column(name))
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def map_codes(
    file: str,
    table: pa.Table,
    field: str,
    codes: CodeList,
    issues: list[Issue],
    bad: np.ndarray,
) -> pa.Array:
    """Map ``field``'s national codes to internal values (null for an empty field).

    An unknown code appends an error finding (rule ``unknown_code``, naming field and code)
    and marks its row in ``bad``; a retired code maps, with a warning (``retired_code``).
    """
    col = text(table, field)
    lookup = codes.lookup()
    keys = list(lookup)
    idx = pc.index_in(col, value_set=pa.array(keys, pa.string()))
    internal = pa.array([lookup[k].internal for k in keys], pa.string())
    mapped = pc.take(internal, idx)
    unknown = pc.and_(pc.is_valid(col), pc.is_null(idx)).to_numpy(zero_copy_only=False)
    retired_codes = [c.code for c in codes.codes if c.retired]
    retired = np.zeros(len(col), dtype=bool)
    if retired_codes:
        retired = pc.is_in(col, value_set=pa.array(retired_codes, pa.string()))
        retired = pc.fill_null(retired, False).to_numpy(zero_copy_only=False)
    rows = table.column(ROW).to_numpy()
    for i in np.flatnonzero(unknown | retired):  # only the flagged rows, in row order
        value = str(col[int(i)].as_py())
        if unknown[i] and not bad[i]:
            issues.append(
                Issue(
                    file,
                    int(rows[i]),
                    field,
                    UNKNOWN_CODE,
                    f"{field} '{value}' is not a code of the {codes.name} list "
                    f"({codes.version}); row quarantined",
                    value=value,
                )
            )
        elif retired[i] and not bad[i]:
            code = lookup[value]
            issues.append(
                Issue(
                    file,
                    int(rows[i]),
                    field,
                    RETIRED_CODE,
                    f"{field} '{value}' is a retired code ({code.label}); read as "
                    f"'{code.internal}'",
                    value=value,
                    severity="warning",
                )
            )
        bad[i] = bad[i] or bool(unknown[i])
    return mapped.combine_chunks() if isinstance(mapped, pa.ChunkedArray) else mapped


def result(
    feed: FeedSpec,
    columns: dict[str, pa.Array | pa.ChunkedArray],
    rows: pa.Array | pa.ChunkedArray,
    bad: np.ndarray | None = None,
) -> pa.Table:
    """Build the internal feed's columns (text) and ``_row``, without the rows marked ``bad``."""
    data = {c: pc.cast(columns[c], pa.string()) for c in feed.column_names}
    data[ROW] = pc.cast(rows, pa.int64())
    table = pa.table(data)
    if bad is not None and bad.any():
        table = table.filter(pa.array(~bad))
    return table


def rejected(file: str, findings: list[tuple[int | None, str | None, str, str]]) -> FileRejected:
    """Build a file rejection from (row, field, rule, message) findings (the first listed)."""
    issues = [
        Issue(file, r, f, rule, f"{file}: {m}; nothing of the file loaded")
        for r, f, rule, m in findings[:MAX_LISTED]
    ]
    if len(findings) > MAX_LISTED:
        issues.append(
            Issue(
                file,
                None,
                None,
                findings[MAX_LISTED][2],
                f"{file}: {len(findings) - MAX_LISTED} more such findings",
            )
        )
    return FileRejected(issues)
