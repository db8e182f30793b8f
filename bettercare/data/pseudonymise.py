"""Keyed pseudonyms for NHS numbers: HMAC-SHA256, hex encoded.

The key comes from ``--key-file PATH`` or the environment variable
``BETTERCARE_PSEUDONYM_KEY``. It is never written into the store: a key file inside the
store's directory or the input directory is refused ("never stored beside the data").
The store keeps only a *key check value* (the HMAC of a fixed label) so that a load
with a different key is refused instead of silently producing unlinkable pseudonyms.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

KEY_ENV = "BETTERCARE_PSEUDONYM_KEY"
MIN_KEY_CHARS = 32
_CHECK_LABEL = b"bettercare key check v1"


class PseudonymKeyError(ValueError):
    """The pseudonymisation key is missing, weak, or kept in the wrong place."""


def new_key_file(path: Path) -> Path:
    """Write a random 256-bit key (64 hex characters) to a new file with mode 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise PseudonymKeyError(f"{path} already exists; refusing to overwrite a key") from exc
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    os.chmod(path, 0o600)
    return path


def load_key(key_file: Path | None = None, data_dirs: Iterable[Path] = ()) -> bytes:
    """The key from ``key_file`` or else the environment; refuse a key file that lies in
    any of ``data_dirs`` (the store's directory, the input directory)."""
    if key_file is not None:
        key_file = Path(key_file)
        if not key_file.is_file():
            raise PseudonymKeyError(f"key file {key_file} not found")
        resolved = key_file.resolve()
        for directory in data_dirs:
            d = Path(directory).resolve()
            if resolved.is_relative_to(d):
                raise PseudonymKeyError(
                    f"key file {key_file} lies inside {directory}: keep the key away from "
                    "the data (e.g. in a separate, access-controlled directory)"
                )
        text = key_file.read_text(encoding="utf-8").strip()
        source = str(key_file)
    else:
        text = os.environ.get(KEY_ENV, "").strip()
        source = f"${KEY_ENV}"
        if not text:
            raise PseudonymKeyError(
                f"no pseudonymisation key: pass --key-file PATH or set {KEY_ENV} "
                "(create one with `bettercare key new PATH`)"
            )
    if len(text) < MIN_KEY_CHARS:
        raise PseudonymKeyError(
            f"key from {source} is too short (at least {MIN_KEY_CHARS} characters)"
        )
    return text.encode("utf-8")


def pseudonym(key: bytes, nhs_number: str) -> str:
    """HMAC-SHA256 of the normalised (10-digit) NHS number, hex."""
    return hmac.digest(key, nhs_number.encode("ascii"), "sha256").hex()


def pseudonym_array(key: bytes, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised :func:`pseudonym` over an arrow string array (nulls stay null)."""
    digest = hmac.digest
    out = [
        None if v is None else digest(key, v.encode("ascii"), "sha256").hex()
        for v in values.to_pylist()
    ]
    return pa.array(out, type=pa.string())


def key_check_value(key: bytes) -> str:
    """A fingerprint of the key that can be stored: reveals nothing about pseudonyms."""
    return hmac.digest(key, _CHECK_LABEL, "sha256").hex()[:16]


def register_udf(con, key: bytes, name: str = "bc_pseudonym") -> None:
    """Register ``name(VARCHAR) -> VARCHAR`` on a DuckDB connection (arrow, vectorised)."""
    import duckdb

    def _udf(values: pa.Array) -> pa.Array:
        return pseudonym_array(key, values)

    con.complete()  # DuckDB 2: no pending execute() result may remain
    with contextlib.suppress(duckdb.Error):
        con.remove_function(name)
    con.create_function(
        name,
        _udf,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
