"""Vectorised synthetic NHS numbers in the reserved test range 999 000 0000 - 999 999 9999.

The tenth digit is the modulus 11 check digit: ``11 - (sum(d_i * (11 - i)) mod 11)`` over
the first nine digits (i = 1..9), 11 -> 0, and 10 is invalid (that stem is skipped).
Numbers in the 999 range are never issued to patients, so no real person's number can
appear in synthetic data.

The 999 block holds only 909,091 valid numbers. A larger population (e.g. the 1M
benchmark) takes all of them and the rest from 998, 997, ... 990: still inside
9000000000-9999999999, "Not to be issued (Synthetic/test patients PDS)" (the
``nhs_number`` package's ``REGION_SYNTHETIC``).
"""

from __future__ import annotations

import numpy as np

TEST_RANGE_PREFIX = 999
_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)  # 10, 9, ..., 2 for digits 1..9


def digits(numbers: np.ndarray, n: int = 10) -> np.ndarray:
    """(len, n) array of decimal digits, most significant first."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return (numbers[:, None] // powers[None, :]) % 10


def check_digit(stems: np.ndarray) -> np.ndarray:
    """Check digit for 9-digit stems; 10 marks a stem with no valid number."""
    r = (digits(stems, 9) * _WEIGHTS).sum(axis=1) % 11
    c = 11 - r
    return np.where(c == 11, 0, c)


def is_valid(numbers: np.ndarray) -> np.ndarray:
    """Vectorised modulus 11 check of 10-digit integers."""
    numbers = np.asarray(numbers, dtype=np.int64)
    return (numbers >= 10**9) & (check_digit(numbers // 10) == numbers % 10)


CAPACITY_999 = 909_091  # valid numbers in 999 000 0000 - 999 999 9999
MAX_NUMBERS = 9_090_909  # valid numbers in 990 000 0000 - 999 999 9999


def _valid(stems: np.ndarray) -> np.ndarray:
    cd = check_digit(stems)
    return stems[cd != 10] * 10 + cd[cd != 10]


def _block(prefix: int) -> np.ndarray:
    """All valid numbers whose first three digits are ``prefix`` (e.g. 999)."""
    return _valid(np.arange(prefix * 1_000_000, (prefix + 1) * 1_000_000, dtype=np.int64))


def generate(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid NHS numbers (int64) in the test range, in random order."""
    if n > MAX_NUMBERS:
        raise ValueError(f"the synthetic NHS number range holds {MAX_NUMBERS:,}; asked for {n:,}")
    if n <= 880_000:
        # Oversample distinct 999 stems, keep the valid ones in the sampled (random) order.
        size = min(1_000_000, int(n * 1.12) + 100)
        stems = 999_000_000 + rng.choice(1_000_000, size=size, replace=False).astype(np.int64)
        numbers = _valid(stems)
        if len(numbers) >= n:
            return numbers[:n]
    # All of 999, then random numbers from 998, 997, ... as far as needed.
    first = _block(999)
    rest = [_block(999 - b) for b in range(1, 1 + -(-max(n - len(first), 0) // CAPACITY_999))]
    pool = np.concatenate(rest) if rest else np.zeros(0, np.int64)
    extra = rng.choice(pool, size=max(n - len(first), 0), replace=False)
    return rng.permutation(np.concatenate([first, extra]))[:n]


def mistype(rng: np.random.Generator, numbers: np.ndarray) -> np.ndarray:
    """Keying errors: swap two adjacent differing digits (70%) else change one digit.

    Positions 4-9 only (the 999 prefix stays). A changed digit always fails modulus 11;
    a transposition fails unless it involves the check digit by chance.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    d = digits(numbers)
    m = len(numbers)
    rows = np.arange(m)
    pos = rng.integers(3, 9, size=m)  # swap digit pos with pos+1 (0-based, pos+1 <= 9)
    a, b = d[rows, pos], d[rows, pos + 1]
    swap = (rng.random(m) < 0.7) & (a != b)
    d2 = d.copy()
    d2[rows[swap], pos[swap]] = b[swap]
    d2[rows[swap], pos[swap] + 1] = a[swap]
    change = ~swap
    cpos = rng.integers(3, 10, size=m)
    delta = rng.integers(1, 10, size=m)
    d2[rows[change], cpos[change]] = (d[rows[change], cpos[change]] + delta[change]) % 10
    powers = 10 ** np.arange(9, -1, -1, dtype=np.int64)
    return (d2 * powers).sum(axis=1)


def pool(n: int) -> np.ndarray:
    """The first ``n`` valid synthetic NHS numbers: 999..., then 998..., down to 990...

    Distinct by construction: a synthetic England hands each area its own slice.
    """
    if n > MAX_NUMBERS:
        raise ValueError(f"the synthetic NHS number range holds {MAX_NUMBERS:,}; asked for {n:,}")
    blocks = [_block(999 - b) for b in range(-(-n // CAPACITY_999))]
    return np.concatenate(blocks)[:n] if blocks else np.zeros(0, np.int64)
