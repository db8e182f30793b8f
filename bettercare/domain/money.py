"""Pounds sterling as people read and type them: the one money formatter and parser.

Owns how an amount is shown in messages, tables and reports (``£1,490``,
``£38,367.50``, ``—`` for an amount not given; :func:`format_gbp`, also the Jinja
``money`` filter of the web app and the reports) and how a typed amount is read
(:func:`parse_gbp`, strict en-GB). It does not own any arithmetic or rounding of sums
(:mod:`bettercare.domain.p4p` rounds the money it computes).

Written here rather than with babel's ``parse_decimal``: babel reads a locale's
separators but accepts ungrouped or oddly grouped digits (``1,23,4``) and any number of
decimals, and its messages name no rule; an amount of money needs stricter reading.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bettercare.errors import BadInput

#: What an amount not given is shown as.
MISSING = "—"


def format_gbp(amount: Decimal | float | None, pence: bool = False) -> str:
    """``£`` and the amount with thousands separators: whole pounds, or with ``pence``.

    The amount is formatted as a :class:`~decimal.Decimal` (halves to even at the last
    digit shown); ``None`` is :data:`MISSING`.
    """
    if amount is None:
        return MISSING
    value = amount if isinstance(amount, Decimal) else Decimal(amount)
    return f"£{value:,.{2 if pence else 0}f}"


#: ``£1,234.56``, ``1234.56``, ``1,234``, ``£0.5``: digits grouped in threes by commas (or
#: not grouped at all), then at most two decimal places after a point.
_AMOUNT = re.compile(r"(?P<pounds>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<pence>[0-9]{1,2}))?")
_EUROPEAN = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[0-9]+,[0-9]{1,2}")


class MoneyFormatError(BadInput):
    """Text that is not an amount of pounds as en-GB writes it (the message says why)."""


def parse_gbp(text: str) -> Decimal:
    """The amount a person typed, read strictly as en-GB money.

    Accepted: an optional ``£``, digits either ungrouped or grouped in threes by commas,
    then optionally a point and one or two decimal places (``£1,234.56``, ``1234.56``,
    ``1,234``). Refused with a message naming the rule: a comma as the decimal point
    (``1.234,56``), commas not between groups of three (``1,23,4``), more than two decimal
    places (``12.345``), a sign, spaces inside the number, or anything else.
    """
    raw = text.strip()
    body = raw.removeprefix("£").strip()
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if not body:
        raise MoneyFormatError(f"'{shown}' has no amount: write pounds, e.g. £1,234.56")
    if _AMOUNT.fullmatch(body):
        return Decimal(body.replace(",", ""))
    if body.startswith(("-", "+", "(")) or body.endswith(")"):
        raise MoneyFormatError(f"'{shown}' has a sign: an amount of money here is not negative")
    if _EUROPEAN.fullmatch(body):
        raise MoneyFormatError(
            f"'{shown}' uses a comma as the decimal point: write pence after a point "
            "and commas between thousands, e.g. £1,234.56"
        )
    digits = body.split(".", 1)
    places = len(digits[1]) if len(digits) == 2 and digits[1].isdigit() else 0
    if _AMOUNT.fullmatch(digits[0]) and places > 2:
        raise MoneyFormatError(
            f"'{shown}' has {places} decimal places: pounds have at most two (pence), e.g. £12.35"
        )
    if re.fullmatch(r"[0-9][0-9,]*(?:\.[0-9]{1,2})?", body) and "," in digits[0]:
        raise MoneyFormatError(
            f"'{shown}' has commas out of place: they separate groups of three digits, "
            "e.g. £1,234,567"
        )
    raise MoneyFormatError(
        f"'{shown}' is not an amount in pounds: write it as 1234.56 or £1,234.56"
    )
