"""Delayed transfers of care: delayed days per 100,000 aged 18+, total and by attribution.

Specification: BCF Technical Guidance metric 4; ASCOF 2C(1)/2C(2) and the monthly Delayed
Transfers of Care SitRep (NHS England): the number of days patients aged 18+ were delayed
in an acute or non-acute bed during the month, attributed to the NHS, social care or both.

* Numerator: ``sum(delayed_days)`` of ``delayed_transfers`` rows, patients aged 18+ on the
  ``census_month`` (the first day of the reported month), in the period of
  ``census_month``. Breakdown ``all`` plus one row per attribution present
  (``nhs``, ``social_care``, ``both``).
* Denominator: resident population aged 18+ (mid-year estimate; see ``base``).
* Exclusions: patients under 18; people not in ``residents``.
* Unit: total delayed days in the period per 100,000 18+ (the BCF 2015/16 form; ASCOF's
  "average per day" form is this divided by the days in the period).
* Direction: lower is better.

In national terms: the DToC SitRep's delayed days per patient per month, with its
attribution (NHS / social care / both). bettercare reads no national file for it (the
SitRep is published as aggregates; there is no patient-level national file): the
``delayed_transfers`` feed stays in the internal layout. The ages come from the GP
registration list (``gp_registrations.csv``: ``date_of_birth``) and the 18+ denominator
from the ONS mid-year estimates (``ons_population.csv``: ages 18-90 summed).
"""

from __future__ import annotations

import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    Context,
    MetricSpec,
    age_on,
    count_by_period,
    in_window,
    rate_output,
    roll_up,
    with_hwb,
)

ID = "delayed_transfers_of_care"


def build(ctx: Context) -> ir.Table:
    """Delayed days of people aged 18+ per census month, per 100,000 aged 18+, by attribution."""
    d = ctx.table("delayed_transfers")
    d = d.filter(in_window(ctx, d.census_month))
    d = with_hwb(ctx, d, "birth_month")
    d = d.filter(age_on(d.birth_month, d.census_month) >= 18)

    def days(t: ir.Table) -> ir.Scalar:
        return t.delayed_days.sum()

    by_attr = count_by_period(d, "census_month", ctx.grain, days, breakdown="attribution")
    counts = roll_up(by_attr, "hwb_code", "period", "pop_year")
    return rate_output(ctx, ID, counts, "18+", 100_000.0)


SPEC = MetricSpec(
    id=ID,
    tables=("delayed_transfers", "residents", "population"),
    build=build,
    population_base="18+",
    breakdowns=("all", "nhs", "social_care", "both"),
    zero_fill=True,
)
