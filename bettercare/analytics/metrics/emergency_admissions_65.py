"""Emergency admissions to hospital of people aged 65+, per 100,000 population aged 65+.

Specification: BCF 2025-26 headline metric on avoidable admissions (BCF policy framework
2025 to 2026, gov.uk/government/publications/better-care-fund-policy-framework-2025-to-2026;
the metric's data source is SUS+ admitted patient care). Whether the planning
requirements exclude any admissions (e.g. zero length of stay) could not be confirmed;
none are excluded here (see the catalogue entry).

* Numerator: hospital provider spells with ``admission_method = 'non_elective'``,
  age 65+ on ``admission_date`` (from ``residents.birth_month``; see ``base``), in the
  period of ``admission_date``.
* Denominator: resident population aged 65+ (mid-year estimate; see ``base``).
* Exclusions: elective spells; under 65s; people not in ``residents``.
* Direction: lower is better.

In national terms (HES/SUS+ APC, ``apc_spells.csv`` / ``apc_episodes.csv``): spells with
admission method (``ADMIMETH``) other than 11-13 -- emergency 21-25, 2A-2D, 28, and, since
the store's ``non_elective`` holds them too, maternity 31-32 and other 81-83 -- patient
aged 65+ at ``ADMIDATE``. Denominator: ONS mid-year estimates, ages 65-90.
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

ID = "emergency_admissions_65"


def build(ctx: Context) -> ir.Table:
    """Emergency admissions of people 65+ per 100,000 aged 65+, per HWB and period."""
    s = ctx.table("hospital_spells")
    s = s.filter(emergency(s), in_window(ctx, s.admission_date))
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
