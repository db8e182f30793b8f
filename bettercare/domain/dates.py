"""Dates as people in England type and read them: the one date parser and formatter.

Owns how a typed date is read (:func:`parse_uk_date`: ``12/03/2026``, ``12 March 2026``,
``12 Mar 2026`` or ISO ``2026-03-12``; day first, never the US month-first order) and how
a date is shown (:func:`format_uk_date`: ``12 March 2026``, the GOV.UK style). Plan files
keep ISO dates (:data:`bettercare.domain.plan.PlanDate`).

Written here rather than with ``dateutil.parser``: it guesses (``03/12/2026`` may become
3 December or 12 March, ``2026`` alone becomes today's date in 2026) where a form must
refuse what it cannot read for sure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from bettercare.errors import BadInput

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}
_MONTHS["sept"] = 9
_NUMERIC = re.compile(r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})")
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_WORDS = re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m>[A-Za-z]+)\.?,?\s+(?P<y>\d{4})")
_EXAMPLE = "write it as 12/03/2026 or 12 March 2026"


def parse_uk_date(text: str) -> dt.date:
    """The date a person typed, day first (``12/03/2026`` is 12 March 2026).

    Raises :class:`~bettercare.errors.BadInput` naming what is wrong: a date that does not
    exist (``31/02/2026``), a month name not known, or a form not recognised.
    """
    raw = " ".join(text.split())
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if not raw:
        raise BadInput(f"no date given: {_EXAMPLE}")
    match = _ISO.fullmatch(raw) or _NUMERIC.fullmatch(raw)
    month: int | None
    if match:
        month = int(match["m"])
    else:
        match = _WORDS.fullmatch(raw)
        if match is None:
            raise BadInput(f"'{shown}' is not a date: {_EXAMPLE}")
        month = _MONTHS.get(match["m"].lower())
        if month is None:
            raise BadInput(f"'{shown}': '{match['m']}' is not a month: {_EXAMPLE}")
    day, year = int(match["d"]), int(match["y"])
    if not 1 <= month <= 12:
        raise BadInput(f"'{shown}' has no month {month}: the day comes first, {_EXAMPLE}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        last = calendar.monthrange(year, month)[1]
        raise BadInput(
            f"'{shown}' is not a date that exists: {calendar.month_name[month]} {year} "
            f"has {last} days"
        ) from None


def format_uk_date(value: dt.date | None, missing: str = "") -> str:
    """``12 March 2026`` (no leading zero); ``missing`` for None."""
    if value is None:
        return missing
    return f"{value.day} {calendar.month_name[value.month]} {value.year}"
