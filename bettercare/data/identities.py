"""The restricted identity file: what probabilistic linkage needs between runs.

Linkage of social care records without a valid NHS number needs the residents' names,
dates of birth and postcodes, which never enter the analytics store. When the residents
feed is loaded in the same run, those identities exist only in the run's TEMP tables.
To link a later social care extract on its own, pass ``--identities PATH``: a separate
DuckDB file (mode 0600) with one table ``identities(person_id, given_name, family_name,
date_of_birth, postcode)`` keyed by the pseudonym (never the NHS number). Keep it under
the same access control as the raw feeds; it must not be the store and must not lie in
the input directory. It is updated after the store's transaction commits. People on the
opt-out list stay in it: recognising their social care records is how those records are
kept out of the store.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa

COLUMNS = (
    "person_id VARCHAR PRIMARY KEY, given_name VARCHAR, family_name VARCHAR, "
    "date_of_birth DATE, postcode VARCHAR"
)


def check_path(path: Path, store: Path, directory: Path) -> str | None:
    """A reason the identity file may not live at ``path``, or None."""
    resolved = Path(path).resolve()
    if resolved == Path(store).resolve():
        return "the identity file must be a separate file, not the store"
    if resolved.is_relative_to(Path(directory).resolve()):
        return f"the identity file must not lie inside the input directory {directory}"
    return None


def read(path: Path) -> pa.Table | None:
    """The identities held in the file, or None when it does not exist yet."""
    if not Path(path).is_file():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql("SELECT * FROM identities").to_arrow_table()
    finally:
        con.close()


def write(path: Path, table: pa.Table) -> None:
    """Insert or replace ``table``'s people (by ``person_id``), in one transaction."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = os.umask(0o077)  # a new file (and its WAL) readable by the owner only
    try:
        con = duckdb.connect(str(path))
    finally:
        os.umask(old)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE TABLE IF NOT EXISTS identities ({COLUMNS})")
        con.register("new_identities", table)
        con.execute(
            "DELETE FROM identities WHERE person_id IN (SELECT person_id FROM new_identities)"
        )
        con.execute(
            "INSERT INTO identities SELECT person_id, given_name, family_name, "
            "date_of_birth, postcode FROM new_identities"
        )
        con.execute("COMMIT")
    finally:
        con.close()
    os.chmod(path, 0o600)
