"""One way to open a DuckDB database: never from the network, one-line errors.

DuckDB by default installs and loads "known extensions" on demand: a SQLite file given
as a store makes it download the ``sqlite`` extension from the internet. bettercare
holds person-level health data and must never reach the network, so every connection
is opened with extension autoinstall and autoload turned off
(https://duckdb.org/docs/stable/configuration/overview: ``autoinstall_known_extensions``,
``autoload_known_extensions``). A file that is not a DuckDB database is refused before
DuckDB sees it, naming what it looks like.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from bettercare.errors import BadInput

CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
# A DuckDB database file holds the magic bytes "DUCK" at offset 8 (storage format header).
_MAGIC_OFFSET, _MAGIC = 8, b"DUCK"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseFileError(BadInput):
    """The file is not a DuckDB database, or DuckDB cannot open it (locked, corrupt)."""


def check_file(path: Path) -> None:
    """Raise :class:`DatabaseFileError` when a non-empty ``path`` is not a DuckDB file.

    For example a SQLite database or a text file.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseFileError(f"{path} is a directory, not a DuckDB database file")
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        head = fh.read(_MAGIC_OFFSET + len(_MAGIC))
    if head[_MAGIC_OFFSET:] == _MAGIC:
        return
    if head.startswith(_SQLITE_MAGIC[:8]):
        raise DatabaseFileError(f"{path} is a SQLite database, not a DuckDB database file")
    raise DatabaseFileError(f"{path} is not a DuckDB database file")


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB database at ``path`` with extension autoinstall/autoload off.

    ``":memory:"`` opens an in-memory one. :class:`DatabaseFileError` with a one-line
    message when the file is not a DuckDB database or cannot be opened.
    """
    if str(path) != ":memory:":
        check_file(Path(path))
    try:
        return duckdb.connect(str(path), read_only=read_only, config=dict(CONFIG))
    except duckdb.Error as exc:  # locked by another process, corrupt, wrong version, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseFileError(f"cannot open {path}: {first}") from exc


_UNITS = {"b": 1, "kb": 1e3, "kib": 1024, "mb": 1e6, "mib": 1024**2, "gb": 1e9, "gib": 1024**3}
#: The least memory the identifier scan and the linkage work with: their hash joins cannot
#: spill, so a tighter ``memory_limit`` is raised to this for them alone.
MIN_JOIN_MEMORY = "64MB"


def memory_bytes(setting: str) -> float:
    """A DuckDB memory setting (``24.0 MiB``, ``256MB``) in bytes (unreadable: infinite)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", setting)
    if not m:
        return float("inf")
    return float(m.group(1)) * _UNITS.get(m.group(2).lower() or "b", float("inf"))


def at_least_join_memory(setting: str) -> str:
    """``setting``, or :data:`MIN_JOIN_MEMORY` when that is more."""
    return MIN_JOIN_MEMORY if memory_bytes(setting) < memory_bytes(MIN_JOIN_MEMORY) else setting
