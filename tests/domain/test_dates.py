"""UK date entry: day first, three forms, a clear message for anything else."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.domain.dates import format_uk_date, parse_uk_date
from bettercare.errors import BadInput


@pytest.mark.parametrize(
    "text",
    [
        "12/03/2026",
        "12/3/2026",
        "12 March 2026",
        "12 Mar 2026",
        "12th March 2026",
        "2026-03-12",
        " 12  march   2026 ",
    ],
)
def test_the_forms_people_type_are_read_day_first(text: str) -> None:
    assert parse_uk_date(text) == dt.date(2026, 3, 12)


def test_sept_and_leap_day() -> None:
    assert parse_uk_date("1 Sept 2025") == dt.date(2025, 9, 1)
    assert parse_uk_date("29/02/2028") == dt.date(2028, 2, 29)  # 2028 is a leap year


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("31/02/2026", "February 2026 has 28 days"),
        ("29 February 2026", "February 2026 has 28 days"),
        ("31/04/2026", "April 2026 has 30 days"),
        ("03/13/2026", "no month 13"),  # US order: the day comes first here
        ("12 Marchh 2026", "'Marchh' is not a month"),
        ("12.03.26", "is not a date"),
        ("next Tuesday", "is not a date"),
        ("", "no date given"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        parse_uk_date(text)


def test_dates_are_shown_as_day_month_name_year() -> None:
    assert format_uk_date(dt.date(2026, 3, 12)) == "12 March 2026"
    assert format_uk_date(dt.date(2026, 3, 2)) == "2 March 2026"
    assert format_uk_date(None, "not stated") == "not stated"
