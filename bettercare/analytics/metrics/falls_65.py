"""Emergency admissions due to falls, people aged 65+, crude rate per 100,000.

Specification: local BCF metric following PHOF 2.24 (emergency hospital admissions for
injuries due to falls in people aged 65 and over): emergency admissions with a primary
diagnosis of injury (ICD-10 S00-T98) and an external cause of a fall (W00-W19), which the
store carries as the flag ``hospital_spells.injury_due_to_fall``.

* Numerator: spells with ``admission_method = 'non_elective'`` and
  ``injury_due_to_fall`` true, age 65+ on ``admission_date`` (from
  ``residents.birth_month``), in the period of ``admission_date``.
* Denominator: resident population aged 65+ (mid-year estimate; see ``base``).
* Crude (not age-standardised) rate, as the seed plans report it.
* Exclusions: elective spells; under 65s; people not in ``residents``.
* Direction: lower is better.

In national terms (HES/SUS+ APC, ``apc_spells.csv`` / ``apc_episodes.csv``): spells with
admission method (``ADMIMETH``) 21-25, 2A-2D or 28 (emergency) and an external cause
(``CAUSE``) of W00-W19 (a fall) on the first episode, patient aged 65+ at ``ADMIDATE``.
The store's ``non_elective`` also holds maternity (31, 32) and other (81-83) admissions;
PHOF 2.24 counts emergency admissions only, so a fall coded on a maternity or transfer
admission would be counted here (rare). The 65+ denominator: ONS mid-year estimates,
ages 65-90.
"""

from __future__ import annotations

import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    Context,
    MetricSpec,
    age_on,
    count_by_period,
    emergency,
    in_window,
    rate_output,
    with_hwb,
)

ID = "falls_65"


def build(ctx: Context) -> ir.Table:
    """Emergency admissions due to falls of people aged 65+, per 100,000 aged 65+."""
    s = ctx.table("hospital_spells")
    s = s.filter(
        emergency(s),
        s.injury_due_to_fall,
        in_window(ctx, s.admission_date),
    )
    s = with_hwb(ctx, s, "birth_month")
    s = s.filter(age_on(s.birth_month, s.admission_date) >= 65)
    counts = count_by_period(s, "admission_date", ctx.grain)
    return rate_output(ctx, ID, counts, "65+", 100_000.0)


SPEC = MetricSpec(
    id=ID,
    tables=("hospital_spells", "residents", "population"),
    build=build,
    population_base="65+",
    zero_fill=True,
)
