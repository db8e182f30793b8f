"""Reablement: % of people aged 65+ still at home 91 days after discharge into reablement.

The proportion of older people (65+) still at home 91 days after discharge from hospital
into reablement / rehabilitation services (percent).

Specification: BCF Technical Guidance metric 3; ASCOF 2B(1) (SALT STS004). ASCOF counts
people aged 65+ on the date of discharge who were discharged between 1 October and
31 December into reablement with the intention of returning home, and the outcome 91 days
after discharge.

* Denominator: ``reablement_episodes`` of people aged 65+ on ``discharge_date``.
  Year grain: discharges in October-December of the financial year only (the ASCOF
  window). Month and quarter grains: every discharge in the period (in-year monitoring,
  as BCF returns did quarterly); the year figure is therefore *not* the sum of months.
* Numerator: those whose ``outcome_91_days`` is ``at_home``.
* Deaths: ASCOF reports those who died within the 91 days in the denominator but not the
  numerator; so do we. ``hospital``, ``care_home`` and ``unknown`` (not contactable --
  ASCOF guidance records these as not at home) are likewise denominator only.
* Exclusions: under 65s; people not in ``residents``.
* Direction: higher is better.

In national terms: ASCOF 2B(1) comes from the council's own 91-day follow-up of
people discharged into reablement; no national patient-level file carries the 91-day
outcome that could be confirmed (not CLD, whose outcome list could not be confirmed),
so the ``reablement_episodes`` feed stays in the internal layout. Ages come from the GP
registration list (``gp_registrations.csv``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    ALL,
    Context,
    MetricSpec,
    age_on,
    in_window,
    period_label,
    proportion_output,
    with_hwb,
)

ID = "reablement_91_days"


def build(ctx: Context) -> ir.Table:
    """Reablement episodes of people aged 65+ at home 91 days after discharge, as % of episodes.

    At year grain only October-December discharges count, as ASCOF 2B(1) does.
    """
    r = ctx.table("reablement_episodes")
    r = r.filter(in_window(ctx, r.discharge_date))
    if ctx.grain == "year":
        r = r.filter(r.discharge_date.month().isin([10, 11, 12]))
    r = with_hwb(ctx, r, "birth_month")
    r = r.filter(age_on(r.birth_month, r.discharge_date) >= 65)
    r = r.mutate(period=period_label(r.discharge_date, ctx.grain), breakdown=ibis.literal(ALL))
    agg = r.group_by("hwb_code", "period", "breakdown").aggregate(
        numerator=(r.outcome_91_days == "at_home").cast("int64").sum(),
        denominator=r.count(),
    )
    return proportion_output(ID, agg)


SPEC = MetricSpec(id=ID, tables=("reablement_episodes", "residents"), build=build, scale=100.0)
