"""Emergency admissions due to falls, people aged 65+, age-standardised per 100,000.

Directly age-standardised rate per 100,000 (2013 European Standard Population).

Specification: BCF 2023-25 metric on falls (BCF policy framework 2023 to 2025), which is
OHID Public Health Outcomes Framework indicator C29 / 2.24i (Fingertips 22401):
emergency admissions for injuries due to falls in people aged 65 and over, directly
age-standardised (DASR) with the 2013 European Standard Population (Eurostat, "Revision
of the European Standard Population", 2013 edition) over the five-year bands 65-69 to
90+. Falls are as in :mod:`~bettercare.analytics.metrics.falls_65` (``hospital_spells.
injury_due_to_fall``: an injury primary diagnosis S00-T98 with a fall cause W00-W19).

* Per band *b* (age on ``admission_date``, see ``base``): ``c_b`` falls admissions
  (``admission_method = 'non_elective'``, ``injury_due_to_fall``) in the period and
  ``p_b`` the band's mid-year population (both sexes).
* Value: ``sum_b(w_b * c_b / p_b) / sum_b(w_b) * 100,000`` with the ESP 2013 weights
  :data:`ESP2013_65_PLUS` (sum 19,500).
* Numerator / denominator columns: total falls admissions 65+ and population 65+ (their
  ratio is the crude rate; the value is the standardised one).
* Confidence intervals (PHOF uses Dobson's method) are not computed.
* Exclusions: elective spells; under 65s; people not in ``residents``.
* Direction: lower is better.

In national terms (HES/SUS+ APC): spells with admission method (``ADMIMETH``) other
than 11-13 and an external cause (``CAUSE``) W00-W19 on the first episode, patient 65+ at
``ADMIDATE``; the band populations are the ONS single years 65-90 summed into 65-69 ...
90+ (``ons_population.csv``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    Context,
    MetricSpec,
    age_on,
    count_by_period,
    emergency,
    in_window,
    population_denominator,
    with_hwb,
)

ID = "falls_65_dsr"

#: 2013 European Standard Population, persons per 100,000, for the bands 65-69 ... 90+.
ESP2013_65_PLUS: dict[str, float] = {
    "65-69": 5500.0,
    "70-74": 5000.0,
    "75-79": 4000.0,
    "80-84": 2500.0,
    "85-89": 1500.0,
    "90+": 1000.0,
}
TOTAL_WEIGHT = sum(ESP2013_65_PLUS.values())


def age_band_65(age: ir.IntegerValue) -> ir.StringValue:
    """The five-year band (65-69 ... 90+) of an age of 65 or more."""
    bands = list(ESP2013_65_PLUS)
    return ibis.cases(
        *[(age < 70 + 5 * i, band) for i, band in enumerate(bands[:-1])],
        else_=bands[-1],
    )


def build(ctx: Context) -> ir.Table:
    """Directly age-standardised falls admissions 65+ per 100,000, per HWB and period."""
    s = ctx.table("hospital_spells")
    s = s.filter(
        emergency(s),
        s.injury_due_to_fall,
        in_window(ctx, s.admission_date),
    )
    s = with_hwb(ctx, s, "birth_month")
    s = s.mutate(age=age_on(s.birth_month, s.admission_date))
    s = s.filter(s.age >= 65).mutate(age_band=age_band_65(s.age))
    by_band = count_by_period(s, "admission_date", ctx.grain, breakdown="age_band")

    pop = ctx.table("population")
    pop = pop.filter(pop.age_band.isin(list(ESP2013_65_PLUS)))
    band_pop = pop.group_by(b_hwb=pop.hwb_code, b_year=pop.year, b_band=pop.age_band).aggregate(
        band_population=pop.population.sum().cast("float64")
    )
    j = by_band.join(
        band_pop,
        (by_band.hwb_code == band_pop.b_hwb)
        & (by_band.pop_year == band_pop.b_year)
        & (by_band.breakdown == band_pop.b_band),
        how="left",
    )
    weight = ibis.cases(*[(j.breakdown == b, w) for b, w in ESP2013_65_PLUS.items()])
    j = j.mutate(
        weighted=j.numerator.cast("float64") / j.band_population.nullif(0.0) * weight,
    )
    dsr = j.group_by("hwb_code", "period", "pop_year").aggregate(
        numerator=j.numerator.sum().cast("float64"), weighted=j.weighted.sum()
    )
    den = population_denominator(ctx, "65+")
    k = dsr.join(den, (dsr.hwb_code == den.pop_hwb) & (dsr.pop_year == den.pop_year), how="left")
    return k.select(
        metric=ibis.literal(ID),
        hwb_code=k.hwb_code,
        period=k.period,
        breakdown=ibis.literal("all"),
        numerator=k.numerator,
        denominator=k.denominator,
        value=k.weighted / TOTAL_WEIGHT * 100_000.0,
    )


SPEC = MetricSpec(
    id=ID,
    tables=("hospital_spells", "residents", "population"),
    build=build,
    population_base="65+",
    zero_fill=True,
)
