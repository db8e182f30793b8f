"""Evaluate one change from the store with every method the data allow.

Owns the composition: the spec's units and people are read from the store
(:mod:`.store`) and handed to each method (:mod:`.its`, :mod:`.did`, :mod:`.matched`,
:mod:`.synthetic`); a method the data do not allow answers "cannot be estimated" with
its reason instead of failing the whole evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from bettercare.analytics.engine import open_store
from bettercare.analytics.evaluation import did, its, matched, synthetic
from bettercare.analytics.evaluation.results import Effect, EvaluationDataError, not_estimable
from bettercare.analytics.evaluation.spec import EvaluationSpec
from bettercare.analytics.evaluation.store import (
    COHORT_COVARIATES,
    cohort,
    monthly_panel,
    units_of,
)
from bettercare.analytics.metrics import MetricDataError

COHORT_UNITS = "emergency admissions per enrolled person in the 12 months after enrolment"


@dataclass(frozen=True)
class Evaluation:
    """The spec and one :class:`Effect` per method asked for."""

    spec: EvaluationSpec
    effects: list[Effect]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "spec": self.spec.model_dump(mode="json"),
            "effects": [e.as_dict() for e in self.effects],
        }


def _aggregate(panel: pd.DataFrame) -> pd.DataFrame:
    """Units summed per month: events, residents, value per 1,000."""
    agg = panel.groupby("month")[["events", "residents"]].sum()
    agg["value"] = agg["events"] / agg["residents"] * 1000
    return agg


def evaluate_con(con: duckdb.DuckDBPyConnection, spec: EvaluationSpec) -> Evaluation:
    """:func:`evaluate_store` on an open connection."""
    units = units_of(spec.metric)
    effects: list[Effect] = []
    area = [m for m in spec.methods if m in ("its", "did", "synthetic")]
    if area:
        panel = monthly_panel(con, spec.metric, spec.level)
        known = set(panel["unit"])
        unknown = sorted(set(spec.treated) - known)
        if unknown:
            raise EvaluationDataError(
                f"treated {spec.level} code(s) not in the store: {', '.join(unknown)}"
            )
        treated = set(spec.treated) or known
        comparison = (set(spec.comparison) & known) if spec.comparison is not None else None
        if comparison is None:
            comparison = known - treated
        comparison -= treated
        tp = _aggregate(panel[panel["unit"].isin(treated)])
        scale = tp["residents"] / 1000
        cp = panel[panel["unit"].isin(comparison)]
        for m in area:
            if m == "its":
                effects.append(
                    its.interrupted_time_series(
                        tp["value"], spec.change_date, units=units, scale=scale
                    )
                )
            elif m == "did":
                if not spec.treated:
                    effects.append(not_estimable(did.METHOD, units, "no treated units named"))
                    continue
                sub = panel[panel["unit"].isin(treated | comparison)].copy()
                sub["treated"] = sub["unit"].isin(treated)
                sub["scale"] = sub["residents"] / 1000
                effects.append(
                    did.difference_in_differences(
                        sub, spec.change_date, units=units, weight="residents", scale="scale"
                    )
                )
            else:
                if not spec.treated:
                    effects.append(not_estimable(synthetic.METHOD, units, "no treated units named"))
                    continue
                donors = cp.pivot(index="month", columns="unit", values="value")
                effects.append(
                    synthetic.synthetic_control(
                        tp["value"], donors, spec.change_date, units=units, scale=scale
                    )
                )
    if "matched" in spec.methods:
        if not spec.enrolled:
            effects.append(not_estimable(matched.METHOD, COHORT_UNITS, "no enrolled people"))
        else:
            try:
                people, missing = cohort(con, set(spec.enrolled), spec.change_date)
            except EvaluationDataError as exc:
                effects.append(not_estimable(matched.METHOD, COHORT_UNITS, str(exc)))
            else:
                effect = matched.matched_cohort(
                    people, list(COHORT_COVARIATES), outcome="admissions_12m", units=COHORT_UNITS
                )
                if missing and effect.estimable:
                    note = (
                        f"{missing} enrolled pseudonyms are not adults in the store on the "
                        "change date"
                    )
                    effect = replace(effect, notes=(*effect.notes, note))
                effects.append(effect)
    return Evaluation(spec, effects)


def evaluate_store(
    store: str | Path | duckdb.DuckDBPyConnection, spec: EvaluationSpec
) -> Evaluation:
    """Every method of ``spec`` on the store; :class:`EvaluationDataError` when it cannot open."""
    try:
        with open_store(store) as con:
            return evaluate_con(con, spec)
    except MetricDataError as exc:
        raise EvaluationDataError(str(exc)) from None
