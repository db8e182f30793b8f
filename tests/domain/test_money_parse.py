"""Reading typed money strictly as en-GB: hand-worked cases and hypothesis properties."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bettercare.domain.money import MoneyFormatError, format_gbp, parse_gbp
from bettercare.errors import BadInput


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("£1,234.56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),
        ("1,234", Decimal("1234")),
        ("  £120,000 ", Decimal("120000")),
        ("£ 5", Decimal("5")),
        ("0.5", Decimal("0.5")),
        ("1,000,000.00", Decimal("1000000")),
    ],
)
def test_en_gb_amounts_are_read(text, amount) -> None:
    assert parse_gbp(text) == amount


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1.234,56", "comma as the decimal point"),
        ("12,5", "comma as the decimal point"),
        ("1,23,4", "commas out of place"),
        ("1,2345", "commas out of place"),
        ("12.345", "3 decimal places"),
        ("£1,234,567.891", "3 decimal places"),
        ("-5", "has a sign"),
        ("(5)", "has a sign"),
        ("1 234", "not an amount in pounds"),
        (".5", "not an amount in pounds"),
        ("1,234.", "not an amount in pounds"),
        ("£", "has no amount"),
        ("12k", "not an amount in pounds"),
        ("$12", "not an amount in pounds"),
    ],
)
def test_other_forms_are_refused_with_the_rule(text, why) -> None:
    with pytest.raises(MoneyFormatError, match=re.escape(why)):
        parse_gbp(text)


def test_a_refusal_is_bad_input() -> None:
    assert issubclass(MoneyFormatError, BadInput)


# amounts as the plan model allows them: non-negative, below £100bn, at most pence
AMOUNTS = st.decimals(min_value=0, max_value=Decimal("99999999999.99"), places=2)


@given(AMOUNTS)
def test_formatted_with_pence_reads_back_the_same(amount: Decimal) -> None:
    assert parse_gbp(format_gbp(amount, pence=True)) == amount


@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_whole_pounds_read_back_grouped_or_not(pounds: int) -> None:
    assert parse_gbp(format_gbp(pounds)) == pounds
    assert parse_gbp(str(pounds)) == pounds


@given(AMOUNTS)
def test_the_european_form_never_parses(amount: Decimal) -> None:
    # 1.234,56: points between thousands and a comma before the pence
    european = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    with pytest.raises(MoneyFormatError):
        parse_gbp(european)


@given(AMOUNTS, st.integers(min_value=3, max_value=6))
def test_more_than_two_decimal_places_never_parse(amount: Decimal, places: int) -> None:
    with pytest.raises(MoneyFormatError):
        parse_gbp(f"{amount:.{places}f}")


@given(st.integers(min_value=1000, max_value=10**12), st.integers(min_value=1, max_value=2))
def test_commas_not_in_threes_never_parse(pounds: int, width: int) -> None:
    digits = str(pounds)
    # commas every ``width`` digits from the right (1 or 2): never the en-GB grouping
    groups = [digits[max(0, i - width) : i] for i in range(len(digits), 0, -width)][::-1]
    with pytest.raises(MoneyFormatError):
        parse_gbp(",".join(groups))


@given(st.text(max_size=20))
def test_anything_read_is_a_non_negative_amount_with_at_most_pence(text: str) -> None:
    try:
        amount = parse_gbp(text)
    except MoneyFormatError:
        return
    assert amount >= 0 and amount == amount.quantize(Decimal("0.01"))
