"""Estimated diagnosis rate for people with dementia, aged 65+ (percent).

Specification: NHS Outcomes Framework 2.6i / NHS England "dementia diagnosis rate": people
with a recorded diagnosis of dementia divided by the number *estimated* to have dementia,
the estimate coming from age- and sex-specific prevalence rates applied to the population
(the NHS Digital Dementia Prevalence Calculator method, 65+ rates from the Cognitive
Function and Ageing Study II, Matthews et al., Lancet 2013;382:1405-12).

* Numerator: residents with ``dementia_diagnosis`` true and diagnosed by the last day of
  the period (``dementia_diagnosis_date`` on or before it; a missing date counts as
  diagnosed throughout), aged 65+ and alive (``date_of_death`` NULL or after) on that day
  -- a register snapshot at period end, as QOF registers are counted.
* Denominator: sum over sex and five-year age band 65-69 ... 90+ of the mid-year
  population (see ``base``) times the CFAS II rate in :data:`CFAS_II_RATES`.
* Exclusions: under 65s (the national measure moved to 65+ from 2017); people who have
  died by the period end.
* Direction: higher is better (the national ambition was two thirds, 66.7%).

In national terms: the numerator is the QOF dementia register (``dementia_diagnosis``
and ``dementia_diagnosis_date`` of the resident list, ``gp_registrations.csv``) of people
aged 65+ by ``date_of_birth`` and alive (``date_of_death``); the denominator applies the
CFAS II rates to the ONS mid-year estimates (``ons_population.csv``), ``sex`` 1 / 2 and
single years of age 65-90 summed into the bands 65-69 ... 90+.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    ALL,
    Context,
    MetricDataError,
    MetricSpec,
    age_on,
    proportion_output,
)

ID = "dementia_diagnosis_rate"

#: CFAS II age- and sex-specific dementia prevalence (proportion), by population age band.
CFAS_II_RATES: dict[tuple[str, str], float] = {
    ("M", "65-69"): 0.012,
    ("F", "65-69"): 0.018,
    ("M", "70-74"): 0.030,
    ("F", "70-74"): 0.025,
    ("M", "75-79"): 0.052,
    ("F", "75-79"): 0.062,
    ("M", "80-84"): 0.106,
    ("F", "80-84"): 0.095,
    ("M", "85-89"): 0.128,
    ("F", "85-89"): 0.181,
    ("M", "90+"): 0.171,
    ("F", "90+"): 0.350,
}


def expected_prevalence(ctx: Context) -> ir.Table:
    """Expected people with dementia (65+) per hwb_code and mid-year."""
    pop = ctx.table("population")
    rate = ibis.cases(
        *[
            ((pop.sex == sex) & (pop.age_band == band), r)
            for (sex, band), r in CFAS_II_RATES.items()
        ],
        else_=ibis.null("float64"),
    )
    j = pop.mutate(rate=rate)
    j = j.filter(j.rate.notnull())
    return j.group_by(pop_hwb=j.hwb_code, pop_year=j.year).aggregate(
        denominator=(j.population.cast("float64") * j.rate).sum()
    )


def build(ctx: Context) -> ir.Table:
    """People aged 65+ with a dementia diagnosis at each period's end, as % of those expected."""
    if ctx.periods is None:
        raise MetricDataError(f"{ID}: a snapshot metric needs the list of periods")
    r = ctx.table("residents")
    r = r.filter(r.dementia_diagnosis).select(
        "hwb_code", "birth_month", "date_of_death", "dementia_diagnosis_date"
    )
    p = ctx.periods
    j = r.cross_join(p)
    j = j.filter(
        age_on(j.birth_month, j.period_end) >= 65,
        j.date_of_death.isnull() | (j.date_of_death > j.period_end),
        j.dementia_diagnosis_date.isnull() | (j.dementia_diagnosis_date <= j.period_end),
    )
    num = j.group_by("hwb_code", "period", "pop_year").aggregate(numerator=j.count())
    den = expected_prevalence(ctx)
    k = num.join(den, (num.hwb_code == den.pop_hwb) & (num.pop_year == den.pop_year), how="left")
    k = k.select(
        hwb_code=k.hwb_code,
        period=k.period,
        breakdown=ibis.literal(ALL),
        numerator=k.numerator,
        denominator=k.denominator,
    )
    return proportion_output(ID, k)


SPEC = MetricSpec(
    id=ID,
    tables=("residents", "population"),
    build=build,
    population_base="65+",
    scale=100.0,
)
