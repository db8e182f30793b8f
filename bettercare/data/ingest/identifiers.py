"""Identifiers by value: which columns of a feed file hold NHS numbers, names or postcodes.

Column names can lie (swapped headers, a shifted export): the ingest decides what a column
holds by its values too, before anything of the file is written, and fails closed.
:func:`scan` returns one finding per suspicious column:

* ``identifier_in_column``: a column that is not declared as an identifier of that kind
  (:attr:`bettercare.data.schema.FeedSpec.identifier_kinds`) holds NHS numbers (valid
  modulus 11, >= 20% of its values: random 10-digit ids pass ~9% of the time), postcodes
  (>= 20%) or person names (>= 50%, a capitalised word or two);
* ``identifier_column_mismatch``: a declared identifier column whose values do not look
  like its kind (fewer than half are 10-digit numbers, postcodes or names): the columns
  are probably swapped.

:func:`sql_display` and :func:`redact` mask identifier-like values wherever a finding
shows a value or an error text (NHS numbers as ``999*****67``, the mask of
:func:`bettercare.data.nhs_numbers.mask`; postcodes and names by a placeholder).
"""

from __future__ import annotations

import duckdb

from bettercare.data import nhs_numbers

# redact is re-exported: the ingest masks error texts with it
from bettercare.data.redaction import NHS_RUN_RE, POSTCODE_RE
from bettercare.data.schema import FeedSpec

# RE2 (DuckDB) and Python ``re`` share these.
NAME_RE = r"\p{Lu}[\p{Ll}'’-]+([ -]\p{Lu}[\p{Ll}'’-]+){0,2}"  # Margaret, O'Neil, Ann-Marie
LOOSE_NAME_RE = r"\pL[\pL'’ .-]*\pL"  # declared name columns: letters, at least two

# shares of a column's non-empty values
UNDECLARED_SHARE = {"nhs_number": 0.2, "postcode": 0.2, "name": 0.5}
DECLARED_SHARE = 0.5

_LABEL = {"nhs_number": "NHS numbers", "postcode": "postcodes", "name": "person names"}


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _trimmed(col: str) -> str:
    return f"nullif(trim(CAST(\"{col}\" AS VARCHAR)), '')"


def _is(kind: str, v: str, digits: str, *, loose: bool = False) -> str:
    """SQL: TRUE when the text ``v`` looks like an identifier of ``kind``.

    ``digits`` is its NHS-number normalisation.
    """
    if kind == "nhs_number":
        if loose:
            return f"({digits} IS NOT NULL)"
        return (
            f"coalesce({digits} IS NOT NULL AND {nhs_numbers.sql_is_valid_digits(digits)}, FALSE)"
        )
    if kind == "postcode":
        return f"regexp_full_match({v}, {_q(POSTCODE_RE)})"
    return f"regexp_full_match({v}, {_q(LOOSE_NAME_RE if loose else NAME_RE)})"


def scan(con: duckdb.DuckDBPyConnection, view: str, feed: FeedSpec) -> list[tuple[str, str, str]]:
    """Columns of ``view`` whose values contradict the feed's declared identifier columns.

    One (column, rule, message) each; ``view`` is a feed file read as text. Values are
    never quoted.
    """
    declared = feed.identifier_kinds
    inner: list[str] = []
    parts: list[str] = []
    for i, c in enumerate(feed.column_names):
        v, digits = f"v{i}", f"d{i}"
        inner.append(f"{_trimmed(c)} AS {v}")
        inner.append(f"{nhs_numbers.sql_normalise(_trimmed(c))} AS {digits}")
        parts.append(f"count({v})")
        for kind in _LABEL:
            loose = declared.get(c) == kind
            parts.append(f"count(*) FILTER (WHERE {_is(kind, v, digits, loose=loose)})")
    view = f"(SELECT {', '.join(inner)} FROM {view})"
    row = con.execute(f"SELECT {', '.join(parts)} FROM {view}").fetchone()
    assert row is not None
    found: list[tuple[str, str, str]] = []
    width = 1 + len(_LABEL)
    for i, c in enumerate(feed.column_names):
        n, *hits = row[i * width : (i + 1) * width]
        if not n:
            continue
        for kind, hit in zip(_LABEL, hits, strict=True):
            share = hit / n
            if declared.get(c) == kind:
                if share < DECLARED_SHARE:
                    found.append(
                        (
                            c,
                            "identifier_column_mismatch",
                            f"column '{c}' should hold {_LABEL[kind]} but only {share:.0%} of its "
                            f"{n:,} values look like one (columns swapped?)",
                        )
                    )
            elif share >= UNDECLARED_SHARE[kind] and kind != declared.get(c):
                found.append(
                    (
                        c,
                        "identifier_in_column",
                        f"column '{c}' holds {_LABEL[kind]} ({hit:,} of {n:,} values) where none "
                        "is expected (columns swapped or mislabelled?)",
                    )
                )
    return found


def sql_display(expr: str, kind: str | None = None) -> str:
    """SQL: the value of ``expr`` as a finding may show it.

    NHS numbers masked (``999*****67``), postcodes and names replaced, anything else cut
    to 60 characters.
    """
    v = f"trim({expr})"
    nhs_mask = nhs_numbers.sql_mask(v)
    if kind == "nhs_number":
        return nhs_mask
    if kind is not None:
        return "'<identifier>'"
    return (
        f"CASE WHEN {nhs_numbers.sql_normalise(v)} IS NOT NULL THEN {nhs_mask} "
        f"WHEN regexp_matches({v}, {_q(NHS_RUN_RE)}) THEN '<number>' "
        f"WHEN regexp_matches({v}, {_q(POSTCODE_RE)}) THEN '<postcode?>' "
        f"WHEN regexp_full_match({v}, {_q(NAME_RE)}) THEN '<name?>' "
        f"ELSE left({v}, 60) END"
    )
