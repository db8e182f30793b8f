"""Average length of discharge delay of adult acute patients, in days.

Specification: BCF 2025-26 headline metric on timely discharge (BCF policy framework
2025 to 2026), built from NHS England's Discharge Ready Date measures ("New Discharge
Ready Date", PRN00603_i: the time between a patient no longer meeting the criteria to
reside, their Discharge Ready Date, and their actual discharge): the proportion of adult
acute patients discharged on their Discharge Ready Date and, for those who are not, the
average days from it to discharge. Their product is the average delay over all
discharges, which is the headline value here. The exact combination the 2025-26
template uses could not be confirmed (see the catalogue entry).

* Population: hospital spells of people aged 18+ on ``discharge_date`` with both a
  ``discharge_date`` and a ``discharge_ready_date``, discharged alive
  (``discharge_destination`` not ``died``), in the period of ``discharge_date``.
* Delay: whole days from ``discharge_ready_date`` to ``discharge_date`` (0 when
  discharged on the ready date; ingest rejects a ready date after discharge).
* Breakdown ``all`` (the headline): numerator = total delay days, denominator =
  discharges, value = average days of delay per discharge.
* Breakdown ``on_ready_date``: numerator = discharges on the ready date, denominator =
  discharges, value = percent discharged on the ready date.
* Breakdown ``delayed``: numerator = total delay days, denominator = delayed discharges,
  value = average days from the ready date for those delayed (no row when none were).
* Exclusions: under 18s; spells without a ready date (not recorded: e.g. before the
  collection began, or an old store); deaths; people not in ``residents``. Every
  provider in the store is treated as acute (the store does not record provider type).
* Direction: lower is better.

In national terms (HES/SUS+ APC): spells with ``DISDATE`` and the Discharge Ready Date
(``discharge_ready_date``, last episode), ``DISDEST`` not 79 (died), patient 18+ at
discharge.
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
    with_hwb,
)

ID = "discharge_delay_days"


def build(ctx: Context) -> ir.Table:
    """Average delay from the Discharge Ready Date to discharge, with its two parts."""
    s = ctx.table("hospital_spells")
    s = s.filter(
        s.discharge_ready_date.notnull(),
        in_window(ctx, s.discharge_date),
        s.discharge_destination.isnull() | (s.discharge_destination != "died"),
    )
    s = with_hwb(ctx, s, "birth_month")
    s = s.filter(age_on(s.birth_month, s.discharge_date) >= 18)
    s = s.mutate(
        period=period_label(s.discharge_date, ctx.grain),
        delay=s.discharge_date.delta(s.discharge_ready_date, unit="day").cast("float64"),
    )
    g = s.group_by("hwb_code", "period").aggregate(
        days=s.delay.sum(),
        discharges=s.count().cast("float64"),
        on_date=(s.delay == 0).cast("float64").sum(),
    )
    delayed = g.discharges - g.on_date
    parts = [
        (ALL, g.days, g.discharges, g.days / g.discharges),
        ("on_ready_date", g.on_date, g.discharges, g.on_date / g.discharges * 100.0),
        ("delayed", g.days, delayed, g.days / delayed.nullif(0.0)),
    ]
    rows = [
        g.select(
            metric=ibis.literal(ID),
            hwb_code=g.hwb_code,
            period=g.period,
            breakdown=ibis.literal(name),
            numerator=num,
            denominator=den,
            value=val,
        )
        for name, num, den, val in parts
    ]
    out = ibis.union(*rows)
    return out.filter(out.denominator > 0)


SPEC = MetricSpec(
    id=ID,
    tables=("hospital_spells", "residents"),
    build=build,
    scale=1.0,
    breakdowns=(ALL, "on_ready_date", "delayed"),
    # a store written before the column joined the feed cannot compute it (skipped)
    columns={"hospital_spells": ("discharge_ready_date",)},
)
