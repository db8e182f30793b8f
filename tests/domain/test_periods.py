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
