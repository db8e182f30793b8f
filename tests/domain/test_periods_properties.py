"""Property tests (hypothesis) for the period parser (domain/periods.py).

The known answers are the calendar's: a financial year runs 1 April to 31 March, its
quarters are Apr-Jun, Jul-Sep, Oct-Dec, Jan-Mar, a month covers its own days.
"""

from __future__ import annotations

import calendar
import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bettercare.domain.periods import fy_of, fy_span, next_fy, period_span

days = st.dates(min_value=date(1901, 1, 1), max_value=date(2098, 12, 31))
years = st.integers(min_value=1901, max_value=2097)


@given(days)
def test_the_financial_year_of_a_day_holds_it(day):
    fy = fy_of(day)
    span = period_span(fy)
    assert span.start <= day <= span.end
    assert (span.start.month, span.start.day, span.end.month, span.end.day) == (4, 1, 3, 31)
    assert span.end.year == span.start.year + 1
    assert span.months() == 12


@given(years)
def test_financial_years_follow_on_without_a_gap(year):
    fy = f"{year}/{(year + 1) % 100:02d}"
    assert fy_span(next_fy(fy)).start == fy_span(fy).end + timedelta(days=1)


@given(years)
def test_the_four_quarters_tile_the_financial_year(year):
    fy = f"{year}/{(year + 1) % 100:02d}"
    quarters = [period_span(f"{fy} Q{q}") for q in range(1, 5)]
    assert quarters[0].start == fy_span(fy).start
    assert quarters[-1].end == fy_span(fy).end
    for before, after in itertools.pairwise(quarters):
        assert after.start == before.end + timedelta(days=1)
    assert [q.months() for q in quarters] == [3, 3, 3, 3]
    assert [q.start.month for q in quarters] == [4, 7, 10, 1]


@given(years, st.integers(min_value=1, max_value=12))
def test_a_month_covers_its_own_days(year, month):
    span = period_span(f"{year}-{month:02d}")
    assert span.start == date(year, month, 1)
    assert span.end == date(year, month, calendar.monthrange(year, month)[1])


@given(years, st.integers(0, 11), st.integers(0, 40))
def test_a_month_range_counts_its_months(year, first, length):
    start_year, start_month = year + first // 12, first % 12 + 1
    last = first + length
    end_year, end_month = year + last // 12, last % 12 + 1
    span = period_span(f"{start_year}-{start_month:02d}..{end_year}-{end_month:02d}")
    assert span.months() == length + 1


@given(years, st.integers(min_value=13, max_value=99))
def test_a_month_beyond_twelve_is_refused_naming_it(year, month):
    text = f"{year}-{month:02d}"
    with pytest.raises(ValueError, match=text):
        period_span(text)


@given(years, st.integers(0, 99))
def test_a_financial_year_of_years_not_consecutive_is_refused(year, end2):
    if end2 == (year + 1) % 100:
        return
    with pytest.raises(ValueError, match="consecutive"):
        period_span(f"{year}/{end2:02d}")


period_like = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[0-9]{1,5}[/-][0-9]{1,3}( Q[0-9])?\Z"),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}\Z"),
)


@given(period_like)
def test_any_text_is_a_period_or_a_value_error(text):
    """Never another exception: a bad label is told as a ValueError naming the grammar."""
    try:
        span = period_span(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert span.start <= span.end
