"""Vectorised synthetic NHS numbers in the reserved test range 999 000 0000 - 999 999 9999.

The tenth digit is the modulus 11 check digit: ``11 - (sum(d_i * (11 - i)) mod 11)`` over
the first nine digits (i = 1..9), 11 -> 0, and 10 is invalid (that stem is skipped).
Numbers in the 999 range are never issued to patients, so no real person's number can
appear in synthetic data.
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


def generate(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid NHS numbers (int64) in the 999 test range, in random order."""
    if n > 900_000:  # ~10/11 of the 1,000,000 stems are valid
        pool = np.arange(999_000_000, 1_000_000_000, dtype=np.int64)
        stems = rng.permutation(pool)
    else:
        # Oversample distinct stems, keep valid ones, in the sampled (random) order.
        stems = 999_000_000 + rng.choice(
            1_000_000, size=min(1_000_000, int(n * 1.2) + 100), replace=False
        ).astype(np.int64)
    cd = check_digit(stems)
    ok = cd != 10
    stems, cd = stems[ok], cd[ok]
    if len(stems) < n:
        raise ValueError(f"the NHS test range holds ~909,000 valid numbers; asked for {n}")
    return stems[:n] * 10 + cd[:n]


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
