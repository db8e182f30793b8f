"""Dispatch a national file to its reader (the ingest's hook, :func:`read_national`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from bettercare.data.feed_files import Issue
from bettercare.data.national import apc, cld, ecds, gp_registrations, ndop, ons_population
from bettercare.data.national.common import RETIRED_CODE, UNKNOWN_CODE, Layout

Reader = Callable[[Path, tuple[Layout, ...]], tuple[pa.Table, list[Issue]]]

READERS: dict[str, Reader] = {
    "gp_registrations": gp_registrations.convert,
    "apc_episodes": apc.convert,
    "apc_spells": apc.convert,
    "ecds": ecds.convert,
    "cld": cld.convert,
    "ons_population": ons_population.convert,
    "ndop_response": ndop.convert,
}
FIELD_OF: dict[str, dict[str, str]] = {
    "gp_registrations": gp_registrations.FIELD_OF,
    "apc_episodes": apc.FIELD_OF,
    "apc_spells": apc.FIELD_OF,
    "ecds": ecds.FIELD_OF,
    "cld": cld.FIELD_OF,
    "ons_population": ons_population.FIELD_OF,
    "ndop_response": ndop.FIELD_OF,
}
LAYOUTS: tuple[Layout, ...] = (
    gp_registrations.LAYOUT,
    apc.EPISODES,
    apc.SPELLS,
    ecds.LAYOUT,
    cld.LAYOUT,
    ons_population.LAYOUT,
)


def read_national(path: Path) -> tuple[pa.Table, list[Issue]]:
    """Read a national file into its internal feed's layout (text plus ``_row``).

    Returns the rows and the findings; raises
    :class:`~bettercare.data.feed_files.FileRejected`.
    """
    return READERS[path.stem](path, LAYOUTS)


def name_national_fields(con: duckdb.DuckDBPyConnection, issues_table: str, stem: str) -> None:
    """Rename internal columns in a national file's row findings to its national fields.

    ``issues_table`` holds the ingest's findings of the file; afterwards a finding names
    the field of the file the user has (``admission_date`` -> ``admidate``). The readers'
    own findings already name national fields and are left alone.
    """
    column = national_column_sql(stem)
    if column is not None:
        con.execute(f'UPDATE {issues_table} SET "column" = {column}')


def national_column_sql(stem: str) -> str | None:
    """SQL (DuckDB and Spark alike): a finding's ``column`` named as the national file's field.

    None when the file's fields are the internal columns' names. The readers' own
    findings (unknown or retired codes) already name national fields and keep them.
    """
    pairs = FIELD_OF[stem]
    if not pairs:
        return None

    def q(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    cases = " ".join(f"WHEN {q(a)} THEN {q(b)}" for a, b in pairs.items())
    return (
        f'CASE WHEN rule IN ({q(UNKNOWN_CODE)}, {q(RETIRED_CODE)}) THEN "column" '
        f'ELSE CASE "column" {cases} ELSE "column" END END'
    )


def name_identifier_findings(
    stem: str, found: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """Name the national field in identifier findings ``(column, rule, text)`` of a file.

    The identifier check runs on the converted rows, so its findings name internal
    columns; a national file's user sees the field of their file (``practice_code``).
    """
    fields = FIELD_OF.get(stem, {})
    out = []
    for column, rule, text in found:
        field = fields.get(column, column)
        out.append((field, rule, text.replace(f"column '{column}'", f"field '{field}'")))
    return out
