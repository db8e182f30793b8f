"""Patient / service user experience: percent of survey answers that are positive.

Specification: BCF Technical Guidance metric 5 (local choice). The seed plans use the GP
Patient Survey question "In the last 6 months, have you had enough support from local
services or organisations to help you manage your long-term health condition(s)?"
(``gpps``) or the ASCOF 3A / 3D adult social care survey (``ascs``).

* Numerator: responses with ``positive`` true.
* Denominator: responses answering the question (``positive`` not NULL); "don't know" /
  blank answers are excluded, as GPPS reports do.
* Period: the ``response_date``'s period. Breakdown ``all`` (every survey and question in
  the store) plus one row per ``survey``.
* Unweighted (GPPS publishes weighted figures; weights are not in the store).
* Exclusions: respondents not in ``residents``.
* Direction: higher is better.

In national terms: GP Patient Survey / Adult Social Care Survey responses. bettercare
reads no national file for them (the published surveys are aggregates; the
``experience_responses`` feed stays in the internal layout).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    Context,
    MetricSpec,
    in_window,
    period_label,
    proportion_output,
    roll_up,
    with_hwb,
)

ID = "patient_experience"


def build(ctx: Context) -> ir.Table:
    """Positive survey answers as a percentage of all answers, by response date."""
    e = ctx.table("experience_responses")
    e = e.filter(e.positive.notnull(), in_window(ctx, e.response_date))
    e = with_hwb(ctx, e)
    e = e.mutate(
        _y=e.response_date.year(), _m=e.response_date.month(), breakdown=e.survey.cast("string")
    )
    monthly = e.group_by("hwb_code", "_y", "_m", "breakdown").aggregate(
        numerator=e.positive.cast("int64").sum(), denominator=e.count()
    )
    first = ibis.date(monthly._y, monthly._m, 1)
    monthly = monthly.mutate(period=period_label(first, ctx.grain))
    by_survey = monthly.group_by("hwb_code", "period", "breakdown").aggregate(
        numerator=monthly.numerator.sum(), denominator=monthly.denominator.sum()
    )
    return proportion_output(ID, roll_up(by_survey, "hwb_code", "period"))


SPEC = MetricSpec(
    id=ID,
    tables=("experience_responses", "residents"),
    build=build,
    scale=100.0,
    breakdowns=("all", "gpps", "ascs"),
)
