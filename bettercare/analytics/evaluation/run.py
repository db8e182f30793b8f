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
    COUNT_COVARIATES,
    RISK_SCORE,
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
        # one change date for the single-series methods: the treated units' common start
        change = spec.unit_start(spec.treated[0]) if spec.treated else spec.change_date
        staggered = (
            "a staggered roll-out (units starting in different months) has no single "
            "change date: see difference-in-differences"
        )
        for m in area:
            if m in ("its", "synthetic") and spec.staggered:
                method = its.METHOD if m == "its" else synthetic.METHOD
                effects.append(not_estimable(method, units, staggered))
            elif m == "its":
                effects.append(
                    its.interrupted_time_series(tp["value"], change, units=units, scale=scale)
                )
            elif m == "did":
                if not spec.treated:
                    effects.append(not_estimable(did.METHOD, units, "no treated units named"))
                    continue
                sub = panel[panel["unit"].isin(treated | comparison)].copy()
                sub["treated"] = sub["unit"].isin(treated)
                sub["start"] = [
                    pd.Timestamp(spec.unit_start(u)) if t else pd.NaT
                    for u, t in zip(sub["unit"], sub["treated"], strict=True)
                ]
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
                        tp["value"], donors, change, units=units, scale=scale
                    )
                )
    if "matched" in spec.methods:
        effects.append(_matched(con, spec))
    return Evaluation(spec, effects)


def _matched(con: duckdb.DuckDBPyConnection, spec: EvaluationSpec) -> Effect:
    """The matched control cohort of ``spec``'s enrolled people (each at their own date)."""
    if not spec.enrolled:
        return not_estimable(matched.METHOD, COHORT_UNITS, "no enrolled people")
    try:
        found = cohort(con, {p: spec.enrolled_on(p) for p in spec.enrolled})
    except EvaluationDataError as exc:
        return not_estimable(matched.METHOD, COHORT_UNITS, str(exc))
    covariates = list(COHORT_COVARIATES)
    if RISK_SCORE in found.people.columns:
        covariates.append(RISK_SCORE)
    effect = matched.matched_cohort(
        found.people,
        covariates,
        outcome="admissions_12m",
        units=COHORT_UNITS,
        strata="index_date",
        log_covariates=COUNT_COVARIATES,
    )
    extra = []
    if found.risk_note:
        extra.append(found.risk_note)
    if found.missing:
        extra.append(
            f"{found.missing} enrolled pseudonyms are not adults in the store on their "
            "enrolment date"
        )
    if extra and effect.estimable:
        effect = replace(effect, notes=(*effect.notes, *extra))
    return effect


def evaluate_store(
    store: str | Path | duckdb.DuckDBPyConnection, spec: EvaluationSpec
) -> Evaluation:
    """Every method of ``spec`` on the store; :class:`EvaluationDataError` when it cannot open."""
    try:
        with open_store(store) as con:
            return evaluate_con(con, spec)
    except MetricDataError as exc:
        raise EvaluationDataError(str(exc)) from None
