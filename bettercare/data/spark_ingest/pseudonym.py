"""The keyed pseudonym of an NHS number as a Spark SQL expression (no Python UDF).

HMAC-SHA256 (RFC 2104) is two SHA-256 passes over the key padded to the hash's block
and XORed with fixed bytes: ``H((K ^ opad) || H((K ^ ipad) || m))``. The padded keys
are constants computed here once, so Spark's built-in ``sha2`` computes the same hex
digest as :func:`bettercare.data.pseudonymise.pseudonym` on every executor, with no
Python on the executors and the key only inside the query plan (never in the data).
"""

from __future__ import annotations

from bettercare.data.pseudonymise import padded_keys


def _padded(key: bytes) -> tuple[str, str]:
    """The key XORed with ipad and opad, as hex (RFC 2104 section 2)."""
    inner, outer = padded_keys(key)
    return inner.hex(), outer.hex()


def pseudonym_sql(key: bytes, expr: str) -> str:
    """Spark SQL: HMAC-SHA256 of the string ``expr`` (its UTF-8 bytes) under ``key``, hex.

    NULL for a NULL ``expr``; equal to :func:`bettercare.data.pseudonymise.pseudonym`.
    """
    inner, outer = _padded(key)
    first = f"unhex(sha2(concat(unhex('{inner}'), encode({expr}, 'UTF-8')), 256))"
    return f"sha2(concat(unhex('{outer}'), {first}), 256)"
