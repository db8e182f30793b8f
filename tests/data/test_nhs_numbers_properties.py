"""Property tests (hypothesis) for NHS number validation (data/nhs_numbers.py).

The oracle is the modulus 11 rule written out here from the NHS Data Dictionary: weights
10 down to 2 on the first nine digits, check digit 11 - (sum mod 11), where 11 means 0
and 10 means the number is invalid. Numbers start 4-9 here, outside the Scottish CHI
range (which the package also checks for a date).
"""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from bettercare.data.nhs_numbers import is_valid, mask, normalise

nine_digits = st.from_regex(r"\A[4-9][0-9]{8}\Z")


def check_digit(nine: str) -> int | None:
    """The modulus 11 check digit of ``nine`` digits, None when there is none (10)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return {11: 0, 10: None}.get(check, check)


@given(nine_digits, st.integers(0, 9))
def test_valid_exactly_when_the_check_digit_is_right(nine, last):
    number = f"{nine}{last}"
    expected = check_digit(nine) == last and len(set(number)) > 1
    assert is_valid(number) is expected


@given(nine_digits)
def test_the_written_forms_of_a_number_agree(nine):
    check = check_digit(nine)
    assume(check is not None)
    number = f"{nine}{check}"
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    dashed = f"{number[:3]}-{number[3:6]}-{number[6:]}"
    assert normalise(spaced) == normalise(dashed) == normalise(f"  {number} ") == number
    assert is_valid(spaced) == is_valid(dashed) == is_valid(number)


@given(nine_digits, st.integers(1, 9), st.integers(1, 9))
def test_one_wrong_digit_is_always_caught(nine, position, change):
    """Modulus 11 detects every single-digit error (the first digit is kept here)."""
    check = check_digit(nine)
    assume(check is not None)
    number = f"{nine}{check}"
    digits = list(number)
    digits[position] = str((int(digits[position]) + change) % 10)
    assert not is_valid("".join(digits))


@given(st.text(min_size=0, max_size=20))
def test_the_mask_shows_at_most_five_characters(text):
    shown = mask(text)
    assert len(shown) == len(text.strip())
    assert sum(c != "*" for c in shown) <= 5
