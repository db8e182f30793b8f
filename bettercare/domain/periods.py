"""Financial years and reporting periods as the BCF uses them.

The NHS and local government financial year runs 1 April to 31 March and is written
``2015/16``. BCF templates report quarters of the financial year (Q1 = Apr-Jun) and
months. A :class:`Period` is one of:

* ``2015/16``            a financial year
* ``2015/16 Q1``         a quarter of a financial year (Q1 Apr-Jun ... Q4 Jan-Mar)
* ``2015-04``            a calendar month
* ``2013``               a calendar year
* ``2013-04..2014-03``   an inclusive range of calendar months
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

_FY = re.compile(r"^(\d{4})/(\d{2})$")
_FYQ = re.compile(r"^(\d{4})/(\d{2}) Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})$")


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def _check_fy(start: int, end2: int, text: str) -> None:
    if (start + 1) % 100 != end2:
        raise ValueError(
            f"financial year '{text}' is not consecutive years "
            f"(expected '{start}/{(start + 1) % 100:02d}')"
        )


def _check_month(month: int, text: str) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"'{text}' has month {month}, not 01-12")


def validate_financial_year(text: str) -> str:
    """Check ``YYYY/YY`` with consecutive years, e.g. ``2015/16``."""
    m = _FY.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a financial year of the form YYYY/YY, e.g. 2015/16")
    _check_fy(int(m[1]), int(m[2]), text)
    return text


FinancialYear = Annotated[str, AfterValidator(validate_financial_year)]

#: A financial year as people type it: ``2025/26`` (files) or ``2025-26`` (the pages and
#: the BCF templates), an en dash too; spaces around the parts are forgiven.
_FY_TYPED = re.compile(r"^\s*(\d{4})\s*[/\-\u2013]\s*(\d{2})\s*$")
#: A quarter as people type it: ``2025-26 Q2``, ``2025/26 Q2`` or ``Q2 2025-26``.
_FYQ_TYPED = re.compile(
    r"^\s*(?:(?P<fy>\d{4}\s*[/\-\u2013]\s*\d{2})\s+[Qq](?P<q>[1-4])"
    r"|[Qq](?P<q2>[1-4])\s+(?P<fy2>\d{4}\s*[/\-\u2013]\s*\d{2}))\s*$"
)


def parse_financial_year(text: str) -> str:
    """A financial year typed by a person, in its stored form: ``2025-26`` -> ``2025/26``.

    Accepts the pages' notation (``2025-26``, :func:`bettercare.domain.labels.format_period`)
    and the files' (``2025/26``); ``ValueError`` says how to write it.
    """
    m = _FY_TYPED.match(text)
    if not m:
        raise ValueError(
            f"'{text.strip()}' is not a financial year: write it as 2025-26 (or 2025/26)"
        )
    start, end2 = int(m[1]), int(m[2])
    if (start + 1) % 100 != end2:
        raise ValueError(
            f"'{text.strip()}' is not a financial year: its years must follow each other, "
            f"e.g. {start}-{(start + 1) % 100:02d}"
        )
    return f"{start}/{end2:02d}"


def parse_fy_quarter(text: str) -> tuple[str, int]:
    """A quarter typed by a person, as (financial year, quarter).

    ``'2025-26 Q2'``, ``'Q2 2025-26'`` or ``'2025/26 Q2'`` -> ``('2025/26', 2)``;
    ``ValueError`` says how to write it.
    """
    m = _FYQ_TYPED.match(text)
    if not m:
        raise ValueError(
            f"'{text.strip()}' is not a quarter: write it as 2025-26 Q2 (or 2025/26 Q2)"
        )
    return parse_financial_year(m["fy"] or m["fy2"]), int(m["q"] or m["q2"])


def parse_period(text: str) -> str:
    """A period typed by a person, in its stored form (:func:`period_span`'s grammar).

    A financial year or quarter in the pages' notation (``2016-17``, ``Q3 2016-17``) is
    turned into ``2016/17``, ``2016/17 Q3``. ``YYYY-MM`` stays a month whenever MM is
    01-12 (``2011-12`` is December 2011), so only a year pair that cannot be a month is
    read as a financial year. ``ValueError`` names the grammar.
    """
    t = text.strip()
    if _FYQ_TYPED.match(t):
        fy, q = parse_fy_quarter(t)
        return f"{fy} Q{q}"
    m = _FY_TYPED.match(t)
    if m and not (_MONTH.match(t) and 1 <= int(m[2]) <= 12):
        return parse_financial_year(t)
    try:
        return validate_period(t)
    except ValueError as exc:
        if not str(exc).startswith(f"'{t}' is not a period"):
            raise  # a month 13, a range backwards: the grammar's own words
        raise ValueError(
            f"'{t}' is not a period: use a financial year 2015-16, a quarter Q1 2015-16, "
            "a month 2015-04, a calendar year 2013 or a month range 2013-04..2014-03"
        ) from None


@dataclass(frozen=True, order=True)
class PeriodSpan:
    """The first and last day (inclusive) a period covers."""

    start: date
    end: date

    def months(self) -> int:
        """Calendar months the span touches, counting both end months."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


def fy_start_year(fy: str) -> int:
    """The calendar year a financial year label (``2015/16``) starts in."""
    return int(validate_financial_year(fy)[:4])


def fy_span(fy: str) -> PeriodSpan:
    """1 April to 31 March of a financial year label."""
    y = fy_start_year(fy)
    return PeriodSpan(date(y, 4, 1), date(y + 1, 3, 31))


def fy_start_of(day: date) -> int:
    """The calendar year in which the financial year holding ``day`` starts (1 April)."""
    return day.year if day.month >= 4 else day.year - 1


def fy_of(day: date) -> str:
    """The financial year a date falls in."""
    y = fy_start_of(day)
    return f"{y}/{(y + 1) % 100:02d}"


def next_fy(fy: str) -> str:
    """The financial year after ``fy`` (``2015/16`` -> ``2016/17``)."""
    y = fy_start_year(fy) + 1
    return f"{y}/{(y + 1) % 100:02d}"


def period_span(text: str) -> PeriodSpan:
    """Parse a period label into the dates it covers; ``ValueError`` names the grammar."""
    if m := _FY.match(text):
        _check_fy(int(m[1]), int(m[2]), text)
        return fy_span(text)
    if m := _FYQ.match(text):
        _check_fy(int(m[1]), int(m[2]), text)
        y, q = int(m[1]), int(m[3])
        first_month = 4 + 3 * (q - 1)  # Q1 Apr, Q2 Jul, Q3 Oct, Q4 Jan (next year)
        year = y if first_month <= 12 else y + 1
        first_month = first_month if first_month <= 12 else first_month - 12
        return PeriodSpan(date(year, first_month, 1), _month_end(year, first_month + 2))
    if m := _MONTH.match(text):
        y, mo = int(m[1]), int(m[2])
        _check_month(mo, text)
        return PeriodSpan(date(y, mo, 1), _month_end(y, mo))
    if m := _YEAR.match(text):
        y = int(m[1])
        return PeriodSpan(date(y, 1, 1), date(y, 12, 31))
    if m := _RANGE.match(text):
        y1, m1, y2, m2 = (int(g) for g in m.groups())
        _check_month(m1, text)
        _check_month(m2, text)
        span = PeriodSpan(date(y1, m1, 1), _month_end(y2, m2))
        if span.end < span.start:
            raise ValueError(f"period range '{text}' ends before it starts")
        return span
    raise ValueError(
        f"'{text}' is not a period: use a financial year '2015/16', a quarter '2015/16 Q1', "
        "a month '2015-04', a calendar year '2013' or a month range '2013-04..2014-03'"
    )


def validate_period(text: str) -> str:
    """Return ``text`` when it is a period label (:func:`period_span`), else raise."""
    period_span(text)
    return text


Period = Annotated[str, AfterValidator(validate_period)]
