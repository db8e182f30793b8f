"""Shared checks of the hostile suite: where a raw value may have been written."""

from __future__ import annotations

from pathlib import Path

import duckdb


def files_holding(root: Path, needles: list[str]) -> dict[str, list[str]]:
    """{file: [needles found]} for every file under ``root`` (its bytes, as written)."""
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def tables_holding(store: Path, needles: list[str]) -> dict[str, int]:
    """{table: number of cells equal to or containing a needle} in a DuckDB store.

    Read through SQL as well as bytes: DuckDB compresses strings, so a byte scan alone
    could miss one.
    """
    if not store.exists():
        return {}
    wanted = set(needles)
    con = duckdb.connect(str(store), read_only=True)
    try:
        found: dict[str, int] = {}
        for (table,) in con.execute("SHOW TABLES").fetchall():
            n = 0
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                for cell in row:
                    text = str(cell)
                    if text in wanted or any(w in text for w in wanted):
                        n += 1
            if n:
                found[table] = n
        return found
    finally:
        con.close()
