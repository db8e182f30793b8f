"""Permanent admissions of people aged 65+ to care homes, per 100,000 population aged 65+.

Specification: BCF Technical Guidance metric 2; ASCOF 2A(2) (SALT LTS001b): council-
supported older adults whose long-term support needs were met by admission to residential
or nursing care during the period.

* Numerator: distinct people (``person_id``) with a ``social_care_services`` row where
  ``permanent_admission`` is true and ``setting`` is ``residential`` or ``nursing``, aged
  65+ on the service ``start_date`` (age from the social care record's own
  ``birth_month``), in the period of ``start_date``. A person admitted twice in one period
  counts once (ASCOF counts people, not placements).
* Denominator: resident population aged 65+ (mid-year estimate; see ``base``).
* Exclusions: temporary / respite placements (``permanent_admission`` false); under 65s;
  records not linked to a resident (``person_id`` NULL or not in ``residents``) -- their
  HWB is unknown, so poor linkage lowers the count (see the linkage report).
* Direction: lower is better.

In national terms (Adult Social Care Client Level Data, ``cld.csv``): service events
with CLD Service Type "Long Term Support: Residential Care" or "Long Term Support:
Nursing Care" that are permanent placements, of people aged 65+ by ``date_of_birth`` on
``event_start_date``. CLD's own permanent / temporary coding could not be confirmed, so
permanence comes from the local ``permanent_admission`` field (``docs/datasets/cld.md``).
Denominator: ONS mid-year estimates, ages 65-90.
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
    with_hwb,
)

ID = "permanent_admissions_care_homes_65"


def build(ctx: Context) -> ir.Table:
    """Permanent care home admissions (residential, nursing) of people 65+, per 100,000 aged 65+."""
    s = ctx.table("social_care_services")
    s = s.filter(
        s.permanent_admission,
        s.setting.isin(["residential", "nursing"]),
        s.person_id.notnull(),
        age_on(s.birth_month, s.start_date) >= 65,
        in_window(ctx, s.start_date),
    )
    s = with_hwb(ctx, s)

    def people(t: ir.Table) -> ir.Scalar:
        return t.person_id.nunique()

    counts = count_by_period(s, "start_date", ctx.grain, people, additive=False)
    return rate_output(ctx, ID, counts, "65+", 100_000.0)


SPEC = MetricSpec(
    id=ID,
    tables=("social_care_services", "residents", "population"),
    build=build,
    population_base="65+",
    zero_fill=True,
)
