"""NHS numbers: normalise, validate (modulus 11), mask for display.

The scalar functions wrap the ``nhs-number`` package. :func:`sql_normalise` and
:func:`sql_is_valid` build the same checks as DuckDB SQL expressions for whole columns;
``tests/data/test_nhs_numbers.py`` checks that both paths agree on many numbers. The SQL path
only accepts ASCII digits and ASCII whitespace (the package also accepts other Unicode
digits, which never appear in a real extract).

On top of the package's rules, a number of one repeated digit (``0000000000``,
``1111111111``, ...) is invalid: nine of the ten pass modulus 11 and the package accepts
them, but they are placeholders keyed when the real number is unknown, never issued to a
person; accepting them would merge every such record into one "person".
"""

from __future__ import annotations

import nhs_number.standardise
import nhs_number.validate

# The package accepts 10 digits, or 3-3-4 groups separated by single spaces or dashes,
# with surrounding whitespace (nhs_number.standardise.GOOD_FORMAT).
_SQL_FORMAT = r"^([0-9]{10}|[0-9]{3} [0-9]{3} [0-9]{4}|[0-9]{3}-[0-9]{3}-[0-9]{4})$"
_WHITESPACE = " \t\n\r\x0b\x0c"
# Numbers in the Scotland CHI range must start with a real DDMMYY date (nhs_number.validate).
_CHI_FIRST, _CHI_LAST = 100_000_000, 3_112_999_999


def normalise(value: object) -> str | None:
    """The 10 digits of an NHS number, or ``None`` when it is not written in a known format.

    The formats are ``9991234567``, ``999 123 4567`` and ``999-123-4567``.
    """
    if value is None:
        return None
    digits = nhs_number.standardise.standardise_format(value)
    return digits or None


def is_valid(value: object) -> bool:
    """Whether ``value`` is a valid NHS number.

    True when it normalises to 10 digits with a correct modulus 11 check digit
    (``nhs_number.is_valid``) and is not one digit repeated ten times.
    """
    digits = normalise(value)
    return (
        digits is not None and not _repeated_digit(digits) and nhs_number.validate.is_valid(digits)
    )


def _repeated_digit(digits: str) -> bool:
    """``0000000000``, ``1111111111``, ...: pass modulus 11 but are never issued."""
    return len(set(digits)) == 1


#: The NHS number mask: the first and last characters shown, and below what length
#: nothing is shown (one rule for :func:`mask` and :func:`sql_mask`).
MASK_FIRST, MASK_LAST, MASK_MIN_LENGTH = 3, 2, 8


def mask(value: object) -> str:
    """Show at most the first 3 and last 2 characters, e.g. ``999*****67``.

    Used for every NHS number (valid or not) that appears in a report or log.
    """
    if value is None:
        return ""
    text = str(value).strip()
    if len(text) < MASK_MIN_LENGTH:
        return "*" * len(text)
    return text[:MASK_FIRST] + "*" * (len(text) - MASK_FIRST - MASK_LAST) + text[-MASK_LAST:]


def sql_mask(expr: str) -> str:
    """DuckDB expression: ``expr`` masked as :func:`mask` masks it (``999*****67``)."""
    v = f"trim({expr})"
    hidden = MASK_FIRST + MASK_LAST
    return (
        f"CASE WHEN length({v}) >= {MASK_MIN_LENGTH} THEN left({v}, {MASK_FIRST}) || "
        f"repeat('*', length({v}) - {hidden}) || right({v}, {MASK_LAST}) "
        f"ELSE repeat('*', length({v})) END"
    )


def sql_normalise(expr: str) -> str:
    """DuckDB expression: the 10 digits of ``expr`` or NULL (same rule as :func:`normalise`)."""
    trimmed = f"trim({expr}, '{_sql_escape(_WHITESPACE)}')"
    return (
        f"CASE WHEN regexp_full_match({trimmed}, '{_SQL_FORMAT}') "
        f"THEN replace(replace({trimmed}, ' ', ''), '-', '') END"
    )


def sql_is_valid_digits(digits: str) -> str:
    """DuckDB expression: TRUE when the 10-digit string ``digits`` is a valid NHS number.

    It passes modulus 11 (and, in the Scotland CHI range, starts with a real DDMMYY date),
    as ``nhs_number.is_valid``, and is not one digit repeated (as :func:`is_valid`).
    """

    def d(i: int) -> str:
        return f"(ascii(substr({digits}, {i}, 1)) - 48)"

    weighted = " + ".join(f"{d(i)} * {11 - i}" for i in range(1, 10))
    check = f"((11 - (({weighted}) % 11)) % 11)"
    day, month, yy = f"({d(1)} * 10 + {d(2)})", f"({d(3)} * 10 + {d(4)})", f"({d(5)} * 10 + {d(6)})"
    days_in_month = (
        f"CASE WHEN {month} = 2 THEN 28 + CASE WHEN {yy} % 4 = 0 THEN 1 ELSE 0 END "
        f"WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    )
    chi_ok = (
        f"(CAST({digits} AS BIGINT) NOT BETWEEN {_CHI_FIRST} AND {_CHI_LAST} OR "
        f"({month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {days_in_month}))"
    )
    not_repeated = f"{digits} <> repeat(substr({digits}, 1, 1), 10)"
    return f"({check} = {d(10)} AND {chi_ok} AND {not_repeated})"


def sql_is_valid(expr: str) -> str:
    """DuckDB expression: TRUE when ``expr`` is a valid NHS number, FALSE otherwise (never NULL)."""
    digits = sql_normalise(expr)
    return f"coalesce({digits} IS NOT NULL AND {sql_is_valid_digits(digits)}, FALSE)"


def _sql_escape(text: str) -> str:
    return text.replace("'", "''")
