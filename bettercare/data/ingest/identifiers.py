"""Identifiers by value: which columns of a feed file hold NHS numbers, names or postcodes.

Column names can lie (swapped headers, a shifted export): the ingest decides what a column
holds by its values too, before anything of the file is written, and fails closed.
:func:`counts_sql` and :func:`judge` give one finding per suspicious column:

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

from typing import Any

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

#: Words that are values, not names, whatever their case: booleans and empty markers as
#: pandas, Excel and databases write them (``True``, ``FALSE``, ``None``, ``NaN``).
NOT_NAMES = ("true", "false", "yes", "no", "none", "null", "nan", "nat", "na", "n/a")

_LABEL = {"nhs_number": "NHS numbers", "postcode": "postcodes", "name": "person names"}


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _trimmed(col: str) -> str:
    return f"nullif(trim(CAST(\"{col}\" AS VARCHAR)), '')"


def _is(kind: str, v: str, digits: str, *, loose: bool = False, codes: tuple[str, ...] = ()) -> str:
    """SQL: TRUE when the text ``v`` looks like an identifier of ``kind``.

    ``digits`` is its NHS-number normalisation. A boolean word or one of the column's
    own ``codes`` is never a name (any case).
    """
    if kind == "nhs_number":
        if loose:
            return f"({digits} IS NOT NULL)"
        # CASE, not AND: the check digit is computed only where there are ten digits
        return (
            f"CASE WHEN {digits} IS NOT NULL THEN "
            f"coalesce({nhs_numbers.sql_is_valid_digits(digits)}, FALSE) ELSE FALSE END"
        )
    if kind == "postcode":
        return f"regexp_full_match({v}, {_q(POSTCODE_RE)})"
    words = ", ".join(_q(w.lower()) for w in (*NOT_NAMES, *codes))
    return (
        f"(regexp_full_match({v}, {_q(LOOSE_NAME_RE if loose else NAME_RE)}) "
        f"AND lower({v}) NOT IN ({words}))"
    )


def column_values_sql(view: str, columns: list[str]) -> str:
    """SQL: each column's distinct non-empty values (trimmed text) and how often each occurs.

    Rows (``col``, ``v``, ``n``). Both identifier checks work on these (:func:`counts_sql`
    and :mod:`.identifier_scan`): a code, a date or a name repeats, and testing each
    value once costs far less than testing every row.
    """
    parts = [f"SELECT {_q(c)} AS col, {_trimmed(c)} AS v FROM {view}" for c in columns]
    return (
        f"SELECT col, v, count(*) AS n FROM ({' UNION ALL '.join(parts)}) "
        "WHERE v IS NOT NULL GROUP BY col, v"
    )


def counts_sql(feed: FeedSpec, values: str) -> str:
    """DuckDB SQL: per column of a feed file, its values and how many look like each kind.

    One row per column with values: (column index, values, NHS numbers, postcodes,
    names); :func:`judge` turns the rows into findings (run by
    :func:`bettercare.data.ingest.identifier_scan.refuse_file` on either engine).
    ``values``: the file's table of :func:`column_values_sql`.
    """
    declared = feed.identifier_kinds
    # Each column's distinct values are tested once, weighted by how often they occur: a
    # code, a date or a name repeats, and the tests (patterns, the check digit) cost far
    # more than counting. Only ten characters or more can be an NHS number.
    parts: list[str] = []
    digits = f"CASE WHEN length(v) >= 10 THEN {nhs_numbers.sql_normalise('v')} END"
    for i, col in enumerate(feed.columns):
        c = col.name
        counts = ["sum(n)"]
        for kind in _LABEL:
            loose = declared.get(c) == kind
            test = _is(kind, "v", "d", loose=loose, codes=col.allowed or ())
            counts.append(f"coalesce(sum(n) FILTER (WHERE {test}), 0)")
        parts.append(
            f"SELECT {i} AS i, {', '.join(counts)} FROM (SELECT v, {digits} AS d, n FROM "
            f"{values} WHERE col = {_q(c)})"
        )
    return " UNION ALL ".join(parts)


def judge(
    rows: list[tuple[Any, ...]],
    feed: FeedSpec,
    shapes: dict[str, dict[str, int]] | None = None,
) -> list[tuple[str, str, str]]:
    """The findings (column, rule, message) from the rows of :func:`counts_sql`.

    ``shapes``, when given, receives each column's count of values shaped like each kind
    (``{column: {"nhs_number": n, ...}}``).
    """
    declared = feed.identifier_kinds
    found_rows = {r[0]: r[1:] for r in rows if r[1] is not None}
    none = (0,) * (1 + len(_LABEL))  # a column with no values at all
    row = [int(x) for i in range(len(feed.columns)) for x in found_rows.get(i, none)]
    found: list[tuple[str, str, str]] = []
    width = 1 + len(_LABEL)
    for i, c in enumerate(feed.column_names):
        n, *hits = row[i * width : (i + 1) * width]
        if shapes is not None:
            shapes[c] = dict(zip(_LABEL, hits, strict=True))
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
