"""CSV cells that a spreadsheet will not run as formulas (CSV injection).

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``). Every
CSV bettercare writes escapes such text cells by prefixing a single quote, the rule of
the OWASP "CSV Injection" page (https://owasp.org/www-community/attacks/CSV_Injection).
Only *text* is escaped: numeric columns (a negative number) stay numbers.

One rule, three forms: :func:`escape_cell` for a Python value, :func:`escape_frame` for a
pandas DataFrame, :func:`sql_escape` for a DuckDB ``COPY ... TO`` query.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import duckdb

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SQL_PATTERN = "^[=+@\\t\\r-]"  # the same characters as a regular expression class


def escape_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text starting with a formula character.

    Anything else (numbers, None, dates) is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell escaped (numeric columns untouched)."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
            out[name] = col.map(escape_cell, na_action="ignore")
    return out


def to_csv(frame: pd.DataFrame, path: str | Path, **kwargs: Any) -> None:
    """``frame.to_csv(path, index=False, ...)`` with text cells escaped."""
    kwargs.setdefault("index", False)
    escape_frame(frame).to_csv(path, **kwargs)


def sql_escape(expr: str) -> str:
    """DuckDB expression: the text ``expr`` escaped as :func:`escape_cell` does.

    NULL stays NULL. Use it for every VARCHAR column of a ``COPY (SELECT ...) TO 'x.csv'``.
    """
    return f"CASE WHEN regexp_matches({expr}, '{_SQL_PATTERN}') THEN '''' || {expr} ELSE {expr} END"


def copy_to_csv(con: duckdb.DuckDBPyConnection, query: str, path: str | Path) -> None:
    """``COPY (query) TO path`` (header, comma separated) with text cells escaped.

    Runs on the DuckDB connection ``con``; every VARCHAR column is escaped by
    :func:`sql_escape` (other types unchanged).
    """
    con.execute(f"DESCRIBE ({query})")
    columns = [(row[0], row[1]) for row in con.fetchall()]
    select = ", ".join(
        f"{sql_escape(_ident(name))} AS {_ident(name)}" if kind == "VARCHAR" else _ident(name)
        for name, kind in columns
    )
    target = str(path).replace("'", "''")
    con.execute(f"COPY (SELECT {select} FROM ({query})) TO '{target}' (HEADER, DELIMITER ',')")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
