"""NHS numbers: the SQL (vectorised) path agrees with the ``nhs-number`` package."""

from __future__ import annotations

import random

import duckdb
import nhs_number
import pyarrow as pa
import pytest

from bettercare.data import nhs_numbers


@pytest.mark.parametrize(
    ("raw", "digits", "valid"),
    [
        ("9990000018", "9990000018", True),
        ("999 000 0018", "9990000018", True),
        ("999-000-0018", "9990000018", True),
        ("  9990000018\t", "9990000018", True),
        ("9990000019", "9990000019", False),  # wrong check digit
        ("999000001", None, False),
        ("99900000188", None, False),
        ("999 0000018", None, False),
        ("abc", None, False),
        ("", None, False),
        (None, None, False),
        # one repeated digit passes modulus 11 (the package accepts it) but is never issued
        ("0000000000", "0000000000", False),
        ("1111111111", "1111111111", False),
        ("999 999 9999", "9999999999", False),
    ],
)
def test_normalise_and_validate(raw: str | None, digits: str | None, valid: bool) -> None:
    assert nhs_numbers.normalise(raw) == digits
    assert nhs_numbers.is_valid(raw) is valid


def test_mask_never_shows_the_whole_number() -> None:
    assert nhs_numbers.mask("9991234567") == "999*****67"
    assert nhs_numbers.mask("999 123 4567") == "999*******67"
    assert nhs_numbers.mask("12345") == "*****"
    assert nhs_numbers.mask(None) == ""


@pytest.mark.parametrize(
    "value", ["9991234567", "999 123 4567", "12345", "1234567", "12345678", " 9991234567 ", ""]
)
def test_sql_mask_is_the_same_mask(value: str) -> None:
    con = duckdb.connect()
    (masked,) = con.execute(
        f"SELECT {nhs_numbers.sql_mask('v')} FROM (SELECT ?::VARCHAR AS v)", [value]
    ).fetchone()
    assert masked == nhs_numbers.mask(value)


def _sample(n: int) -> list[str]:
    rng = random.Random(11)
    out: list[str] = []
    for _ in range(n):
        k = rng.random()
        digits = f"{rng.randrange(10**10):010d}"
        if k < 0.4:
            out.append(digits)
        elif k < 0.6:  # Scotland CHI range: the DDMMYY rule applies
            out.append(f"{rng.randrange(100_000_000, 3_200_000_000):010d}")
        elif k < 0.75:
            sep = rng.choice([" ", "-"])
            out.append(f"{digits[:3]}{sep}{digits[3:6]}{sep}{digits[6:]}")
        elif k < 0.85:
            out.append(f" {digits} ")
        else:
            out.append("".join(rng.choice("0123456789 -x") for _ in range(rng.randint(0, 12))))
    out += nhs_number.generate(quantity=500)
    out += nhs_number.generate(for_region=nhs_number.REGION_SCOTLAND, quantity=500)
    out += nhs_number.generate(valid=False, quantity=500)
    out += [str(d) * 10 for d in range(10)] + ["333 333 3333", "4444-444-444"]
    return out


def test_sql_path_agrees_with_the_package() -> None:
    values = _sample(20_000)
    con = duckdb.connect()
    con.register("t", pa.table({"v": values}))
    rows = con.execute(
        f"SELECT v, {nhs_numbers.sql_normalise('v')}, {nhs_numbers.sql_is_valid('v')} FROM t"
    ).fetchall()
    assert len(rows) == len(values)
    disagree = [
        v
        for v, norm, ok in rows
        if norm != nhs_numbers.normalise(v) or ok != nhs_numbers.is_valid(v)
    ]
    assert disagree == []
    assert sum(ok for _, _, ok in rows) > 1000  # plenty of valid numbers were checked


def test_repeated_digits_pass_modulus_11_in_the_package_but_not_here() -> None:
    """The rule added on top of ``nhs-number``: checked against the package itself so the
    test notices if the package ever starts rejecting these."""
    repeated = [str(d) * 10 for d in range(10)]
    assert sum(nhs_number.is_valid(n) for n in repeated) == 9  # all but 2222222222
    assert not any(nhs_numbers.is_valid(n) for n in repeated)
    con = duckdb.connect()
    con.register("t", pa.table({"v": repeated}))
    assert con.execute(f"SELECT bool_or({nhs_numbers.sql_is_valid('v')}) FROM t").fetchone() == (
        False,
    )


def test_sql_path_keeps_the_package_rule_for_ordinary_numbers() -> None:
    """Apart from repeated digits the SQL path is exactly ``nhs_number.is_valid``."""
    values = [v for v in _sample(5000) if len(set(nhs_numbers.normalise(v) or "ab")) > 1]
    con = duckdb.connect()
    con.register("t", pa.table({"v": values}))
    rows = con.execute(f"SELECT v, {nhs_numbers.sql_is_valid('v')} FROM t").fetchall()
    assert [v for v, ok in rows if ok != nhs_number.is_valid(v)] == []
