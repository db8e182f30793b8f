"""Pounds sterling as people read them: the one money formatter.

Owns how an amount is shown in messages, tables and reports (``£1,490``,
``£38,367.50``, ``—`` for an amount not given). It does not own any arithmetic or rounding
of sums (:mod:`bettercare.domain.p4p` rounds the money it computes).
"""

from __future__ import annotations

from decimal import Decimal

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
