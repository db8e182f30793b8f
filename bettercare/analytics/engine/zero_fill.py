"""Zero-fill of count metrics: a period with no events is a 0, not a missing row.

Owns :func:`fill_zero_periods` (``MetricSpec.zero_fill``), done once after either backend.
It does not own deciding which periods can be measured at all (:mod:`.coverage`).
"""

from __future__ import annotations

import pandas as pd

from bettercare.analytics.engine.frames import normalise, pop_year
from bettercare.analytics.metrics import OUTPUT_COLUMNS, SPECS
from bettercare.analytics.metrics.base import POPULATION_BASES, labels_between
from bettercare.domain.periods import period_span


def fill_zero_periods(df: pd.DataFrame, pop: pd.DataFrame, metric: str, grain: str) -> pd.DataFrame:
    """Rows with numerator 0 for the gaps in a count metric's run (``MetricSpec.zero_fill``).

    Per HWB, every period between its first and last period with events, for every
    breakdown the metric reports; the denominator is the same mid-year population as the
    metric's other rows (NaN when the population table lacks it, which
    :func:`.coverage.check_population` then reports).
    """
    spec = SPECS[metric]
    if not spec.zero_fill or spec.population_base is None:
        return df
    bands = list(POPULATION_BASES[spec.population_base])
    base = pop[pop.age_band.isin(bands)]
    sums = base.groupby(["hwb_code", "year"], as_index=False)["population"].sum()
    den = {
        (str(h), int(y)): float(n)
        for h, y, n in sums[["hwb_code", "year", "population"]].itertuples(index=False)
    }
    rows = []
    for hwb, g in df.groupby("hwb_code"):
        spans = [period_span(p) for p in g.period.unique()]
        labels = labels_between(min(x.start for x in spans), max(x.end for x in spans), grain)
        have = set(zip(g.period, g.breakdown, strict=True))
        breakdowns = sorted(set(spec.breakdowns) | set(g.breakdown))
        for label in labels:
            for bd in breakdowns:
                if (label, bd) not in have:
                    d = den.get((str(hwb), pop_year(label)), float("nan"))
                    rows.append((metric, hwb, label, bd, 0.0, d, 0.0 if d > 0 else float("nan")))
    if not rows:
        return df
    filled = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    return normalise(pd.concat([df, filled], ignore_index=True))
