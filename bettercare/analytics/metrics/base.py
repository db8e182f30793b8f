"""Shared building blocks for the metric definitions (written once, as Ibis expressions).

Every metric module exposes ``SPEC``, a :class:`MetricSpec` whose ``build(ctx)`` returns an
Ibis table with the standard output columns :data:`OUTPUT_COLUMNS`. Because the
expressions only use portable Ibis operations they run unchanged on DuckDB (the embedded
store) and on Apache Spark (``ibis.pyspark``).

Conventions (documented once here, cited by every metric):

* **Periods** are labelled in the plan's grammar (:mod:`bettercare.domain.periods`):
  month ``2016-04``, financial quarter ``2016/17 Q1`` (Q1 = Apr-Jun), financial year
  ``2016/17``. An event belongs to the period its *period date* falls in (admission date,
  census month, discharge date, ...).
* **Age** is whole years on the event date, from ``birth_month`` (the store keeps the
  month of birth, not the date: data minimisation, ``docs/store-columns.md``). Everyone
  is treated as born on the 1st of their birth month, so the age is exact except on the
  days of the birth month before the real birthday, when it is one year too high:
  maximum error one year, on at most 30 days a year per person (a 65th birthday on the
  20th counts events from the 1st to the 19th as 65+).
* **HWB**: a person's Health and Wellbeing Board is ``residents.hwb_code`` (GP-registered
  resident population), joined on the pseudonym ``person_id``. Events of people not in
  ``residents`` (non-residents, unlinked social care records) are excluded.
* **Population denominators** use the ONS-style mid-year estimate (``population`` table)
  of the year the financial year containing the period *starts* in: every month, quarter
  and the year 2016/17 use mid-2016 (30 June 2016 falls inside 2016/17). The same
  denominator at every grain keeps monthly rates additive into quarterly and annual ones.
  A missing year or age band is an error naming the HWB, year and band(s).
* **Rates** are per period of the grain: a monthly rate is events in the month per 100,000
  population, an annual rate events in the year per 100,000.
* **Zeros**: for count metrics (``zero_fill``) every period between an HWB's first and last
  period with events has a row; a period with none has numerator 0 (so SPC charts see
  the zero, not a gap). Periods before the first or after the last are left out: the
  store cannot tell "no events" from "not loaded" there. Proportions have no row when
  their denominator is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import ibis
import ibis.expr.types as ir

from bettercare.data.schema import AGE_BANDS
from bettercare.domain.metrics import MetricDefinition, get_metric
from bettercare.domain.periods import fy_of
from bettercare.errors import BadInput

GRAINS: tuple[str, ...] = ("month", "quarter", "year")
OUTPUT_COLUMNS: tuple[str, ...] = (
    "metric",
    "hwb_code",
    "period",
    "breakdown",
    "numerator",
    "denominator",
    "value",
)
ALL = "all"  # the breakdown value of the headline row

# Population bases -> the age bands of the population table they cover.
POPULATION_BASES: dict[str, tuple[str, ...]] = {
    "all ages": AGE_BANDS,
    "18+": AGE_BANDS[AGE_BANDS.index("18-19") :],
    "65+": AGE_BANDS[AGE_BANDS.index("65-69") :],
}


class MetricDataError(BadInput):
    """The store cannot answer a metric question (missing population, empty numerator, ...)."""


@dataclass(frozen=True)
class Context:
    """What a metric definition may read: store tables, grain and the period window."""

    tables: dict[str, ir.Table]
    grain: str
    start: date | None = None  # inclusive
    end: date | None = None  # inclusive
    periods: ir.Table | None = None  # period, period_start, period_end (snapshot metrics)

    def table(self, name: str) -> ir.Table:
        """The store table ``name``; :class:`MetricDataError` when the store lacks it."""
        try:
            return self.tables[name]
        except KeyError:
            raise MetricDataError(f"store has no table '{name}'") from None


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its catalogue id, population base, scale and the Ibis builder."""

    id: str
    tables: tuple[str, ...]
    build: Callable[[Context], ir.Table]
    population_base: str | None = None  # key of POPULATION_BASES when a population rate
    scale: float = 100_000.0
    breakdowns: tuple[str, ...] = field(default=(ALL,))
    #: A count (additive) metric: a period inside an HWB's run with no qualifying events
    #: is a real zero, so the engine adds its row (numerator 0) rather than leave a gap.
    zero_fill: bool = False
    #: Columns (per table) added to the store contract after stores were first written;
    #: the engine skips the metric, with a warning, on a store that lacks them.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def definition(self) -> MetricDefinition:
        """The metric's catalogue entry (:data:`bettercare.domain.metrics.CATALOGUE`)."""
        return get_metric(self.id)


# -- period and age expressions ----------------------------------------------------------
def fy_start_year(d: ir.DateValue) -> ir.IntegerValue:
    """Start year of the financial year (1 April - 31 March) containing ``d``."""
    return ibis.ifelse(d.month() >= 4, d.year(), d.year() - 1)


def _pad2(x: ir.IntegerValue) -> ir.StringValue:
    return x.cast("string").lpad(2, "0")


def period_label(d: ir.DateValue, grain: str) -> ir.StringValue:
    """The plan-grammar label of the period of ``grain`` containing date ``d``."""
    check_grain(grain)
    if grain == "month":
        return d.year().cast("string") + "-" + _pad2(d.month())
    fy = fy_start_year(d)
    label = fy.cast("string") + "/" + _pad2((fy + 1) % 100)
    if grain == "year":
        return label
    quarter = ((d.month() + 8) % 12) // 3 + 1  # Apr-Jun -> 1 ... Jan-Mar -> 4
    return label + " Q" + quarter.cast("string")


def age_on(birth_month: ir.DateValue, d: ir.DateValue) -> ir.IntegerValue:
    """Age in whole years on date ``d`` of someone born in the month of ``birth_month``.

    They are taken as born on the 1st (only its year and month are used: see *Age* above).
    """
    before_birthday = d.month() < birth_month.month()
    return d.year() - birth_month.year() - ibis.ifelse(before_birthday, 1, 0)


def check_grain(grain: str) -> None:
    """Raise ``ValueError`` unless ``grain`` is one of :data:`GRAINS`."""
    if grain not in GRAINS:
        raise ValueError(f"grain '{grain}' is not one of {', '.join(GRAINS)}")


#: ``hospital_spells.admission_method`` of a non-elective admission (every SUS+/HES
#: admission method but elective 11-13, as mapped at ingest by
#: bettercare/data/national/codes/admission_method.py).
EMERGENCY = "non_elective"


def emergency(spells: ir.Table) -> ir.BooleanValue:
    """True for emergency (non-elective) admissions: the one definition the metrics share."""
    return spells.admission_method == EMERGENCY


def in_window(ctx: Context, d: ir.DateValue) -> ir.BooleanValue:
    """True where date ``d`` is present and inside the context's period window."""
    cond = d.notnull()
    if ctx.start is not None:
        cond &= d >= ctx.start
    if ctx.end is not None:
        cond &= d <= ctx.end
    return cond


def with_hwb(ctx: Context, events: ir.Table, *resident_cols: str) -> ir.Table:
    """Inner-join events to ``residents`` on ``person_id``, adding ``hwb_code`` (+ cols)."""
    res = ctx.table("residents")
    res = res.select("person_id", "hwb_code", *resident_cols)
    res = res.rename(_rid="person_id")
    joined = events.join(res, events.person_id == res._rid)
    return joined.drop("_rid")


# -- denominators and the standard output ---------------------------------------------------
def population_denominator(ctx: Context, base: str) -> ir.Table:
    """Population of ``base`` per hwb_code and mid-year (``pop_year``)."""
    pop = ctx.table("population")
    bands = list(POPULATION_BASES[base])
    pop = pop.filter(pop.age_band.isin(bands))
    return pop.group_by(pop_hwb=pop.hwb_code, pop_year=pop.year).aggregate(
        denominator=pop.population.sum().cast("float64")
    )


def rate_output(ctx: Context, spec_id: str, counts: ir.Table, base: str, scale: float) -> ir.Table:
    """Join counts (hwb_code, period, pop_year, breakdown, numerator) to the population."""
    den = population_denominator(ctx, base)
    j = counts.join(
        den,
        (counts.hwb_code == den.pop_hwb) & (counts.pop_year == den.pop_year),
        how="left",
    )
    return j.select(
        metric=ibis.literal(spec_id),
        hwb_code=j.hwb_code,
        period=j.period,
        breakdown=j.breakdown,
        numerator=j.numerator.cast("float64"),
        denominator=j.denominator,
        value=(j.numerator.cast("float64") / j.denominator * scale),
    )


def proportion_output(spec_id: str, t: ir.Table) -> ir.Table:
    """Standard output for a percentage: numerator / denominator x 100."""
    return t.select(
        metric=ibis.literal(spec_id),
        hwb_code=t.hwb_code,
        period=t.period,
        breakdown=t.breakdown,
        numerator=t.numerator.cast("float64"),
        denominator=t.denominator.cast("float64"),
        value=t.numerator.cast("float64") / t.denominator.cast("float64") * 100.0,
    )


def count_by_period(
    t: ir.Table,
    date_col: str,
    grain: str,
    measure: Callable[[ir.Table], ir.Scalar] | None = None,
    breakdown: str | None = None,
    additive: bool = True,
) -> ir.Table:
    """Group events by hwb, period (+pop_year) and breakdown; count rows or sum ``measure``.

    ``breakdown`` names a column whose values split the rows; ``None`` gives ``'all'``.
    An ``additive`` measure (a count or sum) is aggregated per calendar month first and the
    period labels are computed on those few rows; a non-additive one (distinct people) is
    grouped by the period label directly.
    """
    bd = ibis.literal(ALL) if breakdown is None else t[breakdown].cast("string")
    if not additive:
        d = t[date_col]
        t = t.mutate(period=period_label(d, grain), pop_year=fy_start_year(d), breakdown=bd)
        agg = t.count() if measure is None else measure(t)
        return t.group_by("hwb_code", "period", "pop_year", "breakdown").aggregate(numerator=agg)
    t = t.mutate(_y=t[date_col].year(), _m=t[date_col].month(), breakdown=bd)
    agg = t.count() if measure is None else measure(t)
    monthly = t.group_by("hwb_code", "_y", "_m", "breakdown").aggregate(numerator=agg)
    first = ibis.date(monthly._y, monthly._m, 1)
    monthly = monthly.mutate(period=period_label(first, grain), pop_year=fy_start_year(first))
    return monthly.group_by("hwb_code", "period", "pop_year", "breakdown").aggregate(
        numerator=monthly.numerator.sum()
    )


def roll_up(t: ir.Table, *keys: str) -> ir.Table:
    """Add the ``'all'`` breakdown row to additive per-breakdown rows (sum over breakdowns)."""
    cols = [c for c in t.columns if c not in (*keys, "breakdown")]
    total = t.group_by(*keys).aggregate(**{c: t[c].sum() for c in cols})
    total = total.mutate(breakdown=ibis.literal(ALL)).select(*t.columns)
    return t.union(total)


# -- the same labels in Python (period lists for snapshot metrics, checks) ------------------
def label_for(day: date, grain: str) -> str:
    """Python twin of :func:`period_label`."""
    check_grain(grain)
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    label = fy_of(day)
    if grain == "year":
        return label
    return f"{label} Q{(day.month + 8) % 12 // 3 + 1}"


def labels_between(start: date, end: date, grain: str) -> list[str]:
    """Labels of every period of ``grain`` touching ``start`` .. ``end`` (in order)."""
    out: list[str] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        lab = label_for(date(y, m, 1), grain)
        if not out or out[-1] != lab:
            out.append(lab)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
