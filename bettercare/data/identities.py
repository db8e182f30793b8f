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

The file is tied to one pseudonymisation key: it holds the key check value
(:func:`bettercare.data.pseudonymise.key_check_value`) in ``identity_meta`` and refuses
to be read or extended with another key (its pseudonyms would not match the store's).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

import pyarrow as pa

from bettercare.data import duck, pseudonymise
from bettercare.errors import BadInput

COLUMNS = (
    "person_id VARCHAR PRIMARY KEY, given_name VARCHAR, family_name VARCHAR, "
    "date_of_birth DATE, postcode VARCHAR"
)
_META_DDL = "CREATE TABLE IF NOT EXISTS identity_meta (name VARCHAR PRIMARY KEY, value VARCHAR)"


class IdentityFileError(BadInput):
    """The identity file belongs to another key, is not an identity file, or cannot be opened."""


def check_path(path: Path, store: Path, directory: Path) -> str | None:
    """A reason the identity file may not live at ``path``, or None."""
    resolved = Path(path).resolve()
    if resolved == Path(store).resolve():
        return "the identity file must be a separate file, not the store"
    if resolved.is_relative_to(Path(directory).resolve()):
        return f"the identity file must not lie inside the input directory {directory}"
    return None


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duck.connect(path, read_only=read_only)
    except duck.DatabaseFileError as exc:
        raise IdentityFileError(f"identity file: {exc}") from None


def _check_key(con: duckdb.DuckDBPyConnection, path: Path, key: bytes) -> bool:
    """Raise when the file's key check value is not ``key``'s; False when it has none."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "identity_meta" not in tables:
        if "identities" in tables:
            raise IdentityFileError(
                f"identity file {path} carries no key check value (written by an older "
                "version): re-create it by loading the residents feed with --identities"
            )
        return False
    row = con.execute("SELECT value FROM identity_meta WHERE name = 'key_check'").fetchone()
    if row is None:
        return False
    if row[0] != pseudonymise.key_check_value(key):
        raise IdentityFileError(
            f"identity file {path} was written with a different pseudonymisation key: "
            "use that key, or another identity file"
        )
    return True


def check_key(path: Path, key: bytes) -> None:
    """Refuse an identity file made with another key, or not an identity file at all.

    Raises :class:`IdentityFileError`; writes nothing.
    """
    path = Path(path)
    if not path.is_file():
        return
    con = _connect(path, read_only=True)
    try:
        _check_key(con, path, key)
    finally:
        con.close()


def read(path: Path, key: bytes | None = None) -> pa.Table | None:
    """The identities held in the file, or None when it does not exist yet (or is empty).

    With ``key``, a file made with another key is refused.
    """
    if not Path(path).is_file():
        return None
    con = _connect(Path(path), read_only=True)
    try:
        if key is not None:
            _check_key(con, Path(path), key)
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "identities" not in tables:
            return None
        return con.sql("SELECT * FROM identities").to_arrow_table()
    finally:
        con.close()


def write(path: Path, table: pa.Table | None, key: bytes | None = None) -> None:
    """Insert or replace ``table``'s people (by ``person_id``), in one transaction.

    With ``key``: a new file is stamped with its key check value; a file made with another
    key is refused before anything is written. ``table=None`` only creates/stamps the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = os.umask(0o077)  # a new file (and its WAL) readable by the owner only
    try:
        con = _connect(path, read_only=False)
    finally:
        os.umask(old)
    try:
        stamped = _check_key(con, path, key) if key is not None else True
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE TABLE IF NOT EXISTS identities ({COLUMNS})")
        if not stamped and key is not None:
            con.execute(_META_DDL)
            con.execute(
                "INSERT INTO identity_meta VALUES ('key_check', ?)",
                [pseudonymise.key_check_value(key)],
            )
        if table is not None:
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


def bind_key(path: Path, key: bytes) -> None:
    """Tie the identity file to ``key`` before a run.

    Refuse a file made with another key (nothing written); create a missing file, empty,
    stamped with the key check value.
    """
    path = Path(path)
    if path.is_file():
        con = _connect(path, read_only=True)
        try:
            if _check_key(con, path, key):
                return
        finally:
            con.close()
    write(path, None, key)
