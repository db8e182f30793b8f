"""The shape of the engine's output: columns and dtypes, and each period's population year.

Owns :func:`normalise` (every frame the engine returns has :data:`OUTPUT_COLUMNS` with
object labels and float64 numbers, whichever backend made it) and :func:`pop_year` (the
mid-year whose population estimate a period is divided by). Computes nothing itself.
"""

from __future__ import annotations

import pandas as pd

from bettercare.analytics.metrics import OUTPUT_COLUMNS
from bettercare.domain.periods import fy_start_of, period_span


def pop_year(period: str) -> int:
    """The mid-year (financial year start) of ``period``'s population denominator."""
    return fy_start_of(period_span(period).start)


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` cut to :data:`OUTPUT_COLUMNS`, labels as objects, numbers as float64."""
    df = df[list(OUTPUT_COLUMNS)].copy()
    for c in ("metric", "hwb_code", "period", "breakdown"):
        df[c] = df[c].astype(object)
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    return df


def empty() -> pd.DataFrame:
    """A result with no rows and the output columns."""
    return normalise(pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS}))
