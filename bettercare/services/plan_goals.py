"""Goal options in a metric's plan form, and the chosen basis saved with the plan.

The form of a metric trajectory (:mod:`bettercare.services.plan_forms`) carries the goal
fields (:data:`~bettercare.services.plan_forms.GOAL_FIELDS`). This module:

* :func:`goal_panel`: what the form's goal panel shows (``plan_goal_options.html.j2``):
  the options computed from published figures and peers
  (:func:`bettercare.services.figures.goal_options`: continue the trajectory, reach the
  peer median, reach the peers' best quartile), each with its value and what it means,
  and the user's own value; or why there are none and how to load figures;
* :func:`fill_goal`: on save, the posted form with the chosen option's value written into
  the goal (``goal.value``, ``goal.figures_period``, ``goal.note``) and into the planned
  value for the goal's period. The value is computed again from the figures, never taken
  from the page. The domain model then validates the whole plan as for any save.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bettercare.domain.metrics import CATALOGUE, Unit
from bettercare.domain.plan import GoalBasis, Plan, TimeBasis
from bettercare.services.figures import GoalChoice, goal_options, peers_from_file
from bettercare.services.plan_forms import GOAL_FIELDS, FormField
from bettercare.services.plans import EditForm

#: The note saved with a goal the user typed.
OWN_NOTE = "The board's own value"


@dataclass(frozen=True)
class GoalPanel:
    """The goal panel of a metric's form."""

    choice: GoalChoice
    fields: dict[str, FormField]  # the goal fields by name (ids, labels, hints)
    basis: str  # the basis chosen ("" none)
    period: str  # the period the goal is for (stored, else a default)
    #: a stored goal on a basis not offered now (no figures): kept as stated
    kept: str = ""


def _rows(form: Mapping[str, Any]) -> list[int]:
    """The planned-value rows of a posted metric form, in order."""
    out = []
    j = 0
    while f"planned[{j}].period" in form or f"planned[{j}].value" in form:
        out.append(j)
        j += 1
    return out


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def per_period(plan: Plan, metric: str) -> str | None:
    """Why yearly options do not fit ``metric`` as the plan states it (None: they do).

    The options are yearly figures; a plan stating a rate or count per month or quarter
    (``time_basis``) would need them divided, which the form does not guess.
    """
    stated = next((m for m in plan.metrics if m.metric == metric), None)
    basis = stated.time_basis if stated is not None else None
    definition = CATALOGUE.get(metric)
    if basis in (None, TimeBasis.YEAR) or definition is None:
        return None
    if definition.unit not in (Unit.PER_100K, Unit.COUNT):
        return None
    return (
        f"The plan states {metric} per {basis.value}, and the published figures the options "
        "come from are per year: no options are offered here (see them a year at a time on "
        "the figures page). Type your own value."
    )


def default_period(plan: Plan, form: Mapping[str, Any]) -> str:
    """The goal's period: as stated, else the last planned period, else the plan's last year."""
    stated = _text(form, "goal.period")
    if stated:
        return stated
    periods = [p for j in _rows(form) if (p := _text(form, f"planned[{j}].period"))]
    if periods:
        return periods[-1]
    return plan.financial_years[-1] if plan.financial_years else ""


def goal_panel(figures: Path | None, form: EditForm, peers: Path | None = None) -> GoalPanel | None:
    """The goal panel of ``form`` (None for every form but a metric trajectory's).

    ``peers``: a peer file (``serve --peers``; default: the board's NHS region).
    """
    if form.coll.key != "metrics":
        return None
    metric = _text(form.values, "metric")
    unfit = per_period(form.plan, metric) if metric else None
    if unfit:
        choice = GoalChoice(metric, message=unfit)
    elif metric:
        code = form.plan.hwb.ons_code
        choice = goal_options(figures, code, metric, peers_from_file(peers, code))
    else:
        choice = GoalChoice("", message="Save the metric id first: goal options are per metric.")
    basis = _text(form.values, "goal.basis")
    offered = {o.basis for o in choice.options} | {GoalBasis.OWN.value}
    kept = ""
    if basis and basis not in offered:
        value = _text(form.values, "goal.value")
        of = _text(form.values, "goal.figures_period")
        kept = f"{basis.replace('_', ' ')}: {value or 'no value'}" + (
            f" (published figures of {of})" if of else ""
        )
    return GoalPanel(
        choice,
        {f.name: f for f in GOAL_FIELDS},
        basis,
        default_period(form.plan, form.values),
        kept,
    )


def fill_goal(
    figures: Path | None,
    plan: Plan,
    form: Mapping[str, Any],
    peers: Path | None = None,
) -> dict[str, Any]:
    """The posted metric form with the chosen goal's value filled in (see the module doc).

    No basis: no goal (the goal fields are blanked, and the form drops them). The user's
    own value: the planned value for the goal's period. An option: its value, computed
    again from ``figures``, is the goal and the planned value for the goal's period (the
    row of that period, else the first blank row). An option no longer offered (no
    figures): the goal is kept as posted.
    """
    out = dict(form)
    basis = _text(out, "goal.basis")
    if not basis:
        for f in GOAL_FIELDS:
            out[f.name] = ""
        return out
    period = default_period(plan, out)
    out["goal.period"] = period
    rows = _rows(out)
    row = next((j for j in rows if _text(out, f"planned[{j}].period") == period), None)
    if basis == GoalBasis.OWN.value:
        out["goal.value"] = _text(out, f"planned[{row}].value") if row is not None else ""
        out["goal.figures_period"] = ""
        out["goal.note"] = OWN_NOTE
        return out
    metric = _text(out, "metric")
    if per_period(plan, metric):
        return out  # no options offered: the goal is kept as posted
    code = plan.hwb.ons_code
    choice = goal_options(figures, code, metric, peers_from_file(peers, code))
    option = next((o for o in choice.options if o.basis == basis), None)
    if option is None:
        return out
    value = f"{option.value:.1f}"
    out["goal.value"] = value
    out["goal.figures_period"] = choice.latest_period
    out["goal.note"] = f"{option.label}: {option.meaning}"
    if row is None:
        blank = (
            j
            for j in rows
            if not _text(out, f"planned[{j}].period") and not _text(out, f"planned[{j}].value")
        )
        row = next(blank, None)
    if row is not None:
        out[f"planned[{row}].period"] = period
        out[f"planned[{row}].value"] = value
    return out
