"""Discharges to the person's usual place of residence, percent of discharges.

Specification: BCF 2023-25 metric "discharge to normal place of residence" (BCF policy
framework 2023 to 2025): the percentage of people discharged from acute hospital to
their usual place of residence (SUS discharge destination 19). The metrics handbook's
age restriction and exclusions could not be confirmed; all ages are counted here and
spells ending in death excluded (see the catalogue entry).

* Denominator: spells with a ``discharge_date`` and a ``discharge_destination`` other
  than ``died``, in the period of ``discharge_date``.
* Numerator: those with destination ``usual_residence`` or ``reablement`` (discharged
  home with reablement support: still the person's usual place of residence).
* Not counted as usual residence: ``care_home``, ``nursing_home`` (a new placement),
  ``other_hospital`` (a transfer) and ``other``.
* Exclusions: spells still in hospital (no discharge); an unknown destination; people
  not in ``residents``. Every provider is treated as acute (not recorded in the store).
* Direction: higher is better.

In national terms (HES/SUS+ APC): of spells with ``DISDATE`` and a discharge
destination (``DISDEST``, last episode) other than 79 (died) and 98/99 (not applicable /
not known, read as empty), those with ``DISDEST`` 19 (usual place of residence; the
store's ``reablement`` has no code of its own and comes in as 19).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    ALL,
    Context,
    MetricSpec,
    in_window,
    period_label,
    proportion_output,
    with_hwb,
)

ID = "discharge_usual_residence"
USUAL_RESIDENCE = ("usual_residence", "reablement")


def build(ctx: Context) -> ir.Table:
    """Percent of discharges (alive) to the usual place of residence, per HWB and period."""
    s = ctx.table("hospital_spells")
    s = s.filter(
        in_window(ctx, s.discharge_date),
        s.discharge_destination.notnull(),
        s.discharge_destination != "died",
    )
    s = with_hwb(ctx, s)
    s = s.mutate(period=period_label(s.discharge_date, ctx.grain), breakdown=ibis.literal(ALL))
    agg = s.group_by("hwb_code", "period", "breakdown").aggregate(
        numerator=s.discharge_destination.isin(USUAL_RESIDENCE).cast("int64").sum(),
        denominator=s.count(),
    )
    return proportion_output(ID, agg)


SPEC = MetricSpec(id=ID, tables=("hospital_spells", "residents"), build=build, scale=100.0)
