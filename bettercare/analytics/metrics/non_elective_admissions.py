"""Total non-elective admissions into hospital (general and acute), per 100,000 and count.

Specification: BCF 2015/16 Technical Guidance, metric 1 (the payment-for-performance
metric): non-elective admissions as reported in the Monthly Activity Return / SUS APC.

* Numerator: hospital provider spells with ``admission_method = 'non_elective'``
  (emergency and other non-elective), all ages, counted in the period of the
  ``admission_date``. The numerator *is* the count form of the metric.
* Denominator: resident population, all ages (mid-year estimate; see ``base``).
* Exclusions: elective spells; spells of people not in ``residents`` (non-residents).
  Maternity and transfers are not separately identified in the store (not excluded).
* Direction: lower is better.

In national terms (HES/SUS+ APC, ``apc_spells.csv`` / ``apc_episodes.csv``): hospital
provider spells with admission method (``ADMIMETH``) 21, 22, 23, 24, 25, 2A, 2B, 2C, 2D
or 28 (emergency), 31, 32 (maternity) or 81, 82, 83 (other non-elective) -- every method
but 11-13 (elective) -- counted by ``ADMIDATE``; episodes are joined into spells by
``SUSSPELLID`` first. Denominator: ONS mid-year estimates, all ages (``ons_population.csv``).
"""

from __future__ import annotations

import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    Context,
    MetricSpec,
    count_by_period,
    emergency,
    in_window,
    rate_output,
    with_hwb,
)

ID = "non_elective_admissions"


def build(ctx: Context) -> ir.Table:
    """Non-elective admissions by admission date, as a count and per 100,000 residents."""
    s = ctx.table("hospital_spells")
    s = s.filter(emergency(s), in_window(ctx, s.admission_date))
    counts = count_by_period(with_hwb(ctx, s), "admission_date", ctx.grain)
    return rate_output(ctx, ID, counts, "all ages", 100_000.0)


SPEC = MetricSpec(
    id=ID,
    tables=("hospital_spells", "residents", "population"),
    build=build,
    population_base="all ages",
    zero_fill=True,
)
