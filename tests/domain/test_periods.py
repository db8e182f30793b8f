import re
from datetime import date

import pytest

from bettercare.domain.periods import fy_of, period_span, validate_financial_year


def test_financial_year_quarters_run_april_to_march():
    assert period_span("2015/16 Q1").start == date(2015, 4, 1)
    assert period_span("2015/16 Q4").start == date(2016, 1, 1)
    assert period_span("2015/16 Q4").end == date(2016, 3, 31)
    assert period_span("2015/16").months() == 12


def test_month_range_and_calendar_year():
    span = period_span("2013-04..2014-03")
    assert (span.start, span.end, span.months()) == (date(2013, 4, 1), date(2014, 3, 31), 12)
    assert period_span("2016-02").end == date(2016, 2, 29)


@pytest.mark.parametrize("bad", ["2015/17", "2015-16", "15/16", "2015/16 Q5", "2015-13"])
def test_bad_periods_name_the_grammar(bad):
    with pytest.raises(ValueError):
        period_span(bad)


def test_fy_of_and_validation():
    assert fy_of(date(2016, 3, 31)) == "2015/16"
    assert fy_of(date(2016, 4, 1)) == "2016/17"
    with pytest.raises(ValueError, match="consecutive"):
        validate_financial_year("2014/16")


@pytest.mark.parametrize("typed", ["2025-26", "2025/26", " 2025-26 ", "2025 - 26", "2025\u201326"])
def test_a_typed_financial_year_in_either_notation_is_stored_as_2025_26(typed):
    from bettercare.domain.periods import parse_financial_year

    assert parse_financial_year(typed) == "2025/26"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("2025", "write it as 2025-26 (or 2025/26)"),
        ("25-26", "write it as 2025-26"),
        ("2025-27", "its years must follow each other, e.g. 2025-26"),
        ("2099/01", "e.g. 2099-00"),
        ("2025-26 Q2", "not a financial year"),
    ],
)
def test_a_typed_financial_year_that_is_not_one_says_how_to_write_it(typed, says):
    from bettercare.domain.periods import parse_financial_year

    with pytest.raises(ValueError, match=re.escape(says)):
        parse_financial_year(typed)


def test_a_typed_quarter_in_either_notation_and_order():
    from bettercare.domain.periods import parse_fy_quarter

    for typed in ("2025-26 Q2", "2025/26 Q2", "Q2 2025-26", "q2 2025/26"):
        assert parse_fy_quarter(typed) == ("2025/26", 2), typed
    with pytest.raises(ValueError, match=re.escape("write it as 2025-26 Q2")):
        parse_fy_quarter("2025-26 Q5")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2016-17", "2016/17"),  # 17 is no month: the financial year
        ("Q3 2016-17", "2016/17 Q3"),
        ("2016/17 Q3", "2016/17 Q3"),
        ("2016-04", "2016-04"),  # a month stays a month
        ("2011-12", "2011-12"),  # December 2011 (a month wins where both read)
        ("2013-04..2014-03", "2013-04..2014-03"),
        ("2013", "2013"),
    ],
)
def test_a_typed_period_is_stored_in_the_files_notation(typed, stored):
    from bettercare.domain.periods import parse_period

    assert parse_period(typed) == stored


def test_a_typed_period_that_is_not_one_names_both_notations():
    from bettercare.domain.periods import parse_period

    with pytest.raises(ValueError, match="a financial year 2015-16, a quarter Q1 2015-16"):
        parse_period("last year")
    with pytest.raises(ValueError, match="month 13"):
        parse_period("2016-01..2016-13")
