"""Evaluation of the risk models: train on one year, test on the next.

Owns the performance measures and the temporal split; it does not own the features, the
models, or how results are printed or drawn (``cli/risk.py``, ``reporting/risk.py``).

Split: with the store's spells covering financial years ``[start, end)``
(:func:`.features.coverage`), the model is trained on people at ``end - 2 years`` (features
from the year before, outcome the year after) and tested on people at ``end - 1 year``:
the test outcomes are in a year the model never saw. Three financial years are needed.

Measures, on the test year:

* AUC (area under the ROC curve, ``sklearn.metrics.roc_auc_score``);
* calibration: slope and intercept of the logistic recalibration ``logit P(y) = a + b
  logit(p)`` (Cox 1958; slope 1 and intercept 0 when calibrated; slope < 1 means the
  predictions are too extreme), observed / expected admissions, and observed rates by
  tenth of predicted risk (the calibration plot);
* PPV and sensitivity at the top ``k``% (:data:`TOP_SHARES`): the ``round(k% x N)``
  people with the highest predicted risk (ties broken by table order) are flagged;
  PPV = admitted among flagged / flagged, sensitivity = admitted among flagged / all
  admitted (:func:`top_k`);
* the same by sex, age band and deprivation decile (:func:`subgroups`), flagging with the
  whole population's top 2% threshold, so a group's flagged share shows where the list
  goes.

Compared with the baseline (age band + prior emergency admissions, :mod:`.model`) and with
the published figures of :data:`PUBLISHED` (which predict other outcomes in other
populations: context, not a like-for-like test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from bettercare.analytics.risk import MODELS
from bettercare.analytics.risk.features import (
    RiskDataError,
    coverage,
    features_from,
    risk_store,
    years_before,
)
from bettercare.analytics.risk.model import RiskModel, describe, fit

#: The top shares of the population the evaluation flags (0.5%, 1%, 2%, 5%).
TOP_SHARES: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
#: The share the subgroup tables flag.
SUBGROUP_SHARE = 0.02
#: Subgroup columns of the fairness tables.
SUBGROUPS: tuple[str, ...] = ("sex", "age_band", "imd_decile")

#: Published figures of the NHS England tools this model replaces. Each cites where it was
#: read; a figure that could not be confirmed from a source is ``None`` with a note.
PUBLISHED: tuple[dict[str, Any], ...] = (
    {
        "model": "PARR-30",
        "outcome": "emergency readmission within 30 days of discharge (inpatients)",
        "auc": 0.70,
        "ppv": 0.592,
        "sensitivity": 0.054,
        "at": "risk score threshold 0.5",
        "source": "Billings J, Blunt I, Steventon A, Georghiou T, Lewis G, Bardsley M. "
        "Development of a predictive model to identify inpatients at risk of re-admission "
        "within 30 days of discharge (PARR-30). BMJ Open 2012;2(4):e001667, "
        "doi:10.1136/bmjopen-2012-001667 (abstract: AUC 0.70, 95% CI 0.69-0.70; PPV 59.2% "
        "and sensitivity 5.4% at threshold 0.5)",
    },
    {
        "model": "PARR / PARR++",
        "outcome": "emergency readmission within 12 months (patients with a recent admission)",
        "auc": None,
        "ppv": None,
        "sensitivity": None,
        "at": None,
        "source": "Billings J et al. Case finding for patients at risk of readmission to "
        "hospital. BMJ 2006;333:327. Its PPV and sensitivity figures could not be "
        "confirmed from a source available to us, so none are quoted",
    },
    {
        "model": "Combined Predictive Model",
        "outcome": "emergency admission in the next 12 months (whole registered population)",
        "auc": None,
        "ppv": None,
        "sensitivity": None,
        "at": None,
        "source": "Wennberg D et al. Combined Predictive Model: final report. King's Fund, "
        "Health Dialog, New York University, 2006 (kingsfund.org.uk/current_projects/"
        "predictive_risk/combined.html). Its performance figures could not be confirmed "
        "from a source available to us, so none are quoted",
    },
)


@dataclass(frozen=True)
class TopK:
    """PPV and sensitivity when the top ``share`` of people are flagged."""

    share: float
    flagged: int
    true_positives: int
    events: int
    ppv: float | None  # None when nobody is flagged
    sensitivity: float | None  # None when nobody was admitted


def top_count(n: int, share: float) -> int:
    """People in the top ``share`` of ``n``: ``share x n`` rounded half up."""
    return math.floor(share * n + 0.5)


def rank_order(p: np.ndarray) -> np.ndarray:
    """Indices from highest to lowest ``p``; ties keep table order (a stable sort)."""
    return np.argsort(-np.asarray(p, dtype=np.float64), kind="stable")


def top_k(y: np.ndarray, p: np.ndarray, share: float) -> TopK:
    """PPV and sensitivity of flagging the top ``share`` of people by ``p``."""
    y = np.asarray(y, dtype=bool)
    k = top_count(len(y), share)
    flagged = rank_order(p)[:k]
    tp, events = int(y[flagged].sum()), int(y.sum())
    return TopK(
        share=share,
        flagged=k,
        true_positives=tp,
        events=events,
        ppv=tp / k if k else None,
        sensitivity=tp / events if events else None,
    )


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve; ``None`` when ``y`` has only one class."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return None
    return float(roc_auc_score(y, p))


def calibration_slope(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of ``logit P(y) = a + b logit(p)`` (unpenalised logistic fit)."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    logit = np.log(q / (1 - q)).reshape(-1, 1)
    fitted = LogisticRegression(C=np.inf, max_iter=1000, tol=1e-8)
    fitted.fit(logit, np.asarray(y, dtype=bool))
    return float(fitted.coef_[0][0]), float(fitted.intercept_[0])


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted risk and observed rate in each tenth (``bins``) of predicted risk."""
    order = np.argsort(np.asarray(p), kind="stable")
    groups = np.array_split(order, bins)
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    return pd.DataFrame(
        {
            "bin": np.arange(1, len(groups) + 1),
            "people": [len(g) for g in groups],
            "mean_predicted": [float(p[g].mean()) if len(g) else math.nan for g in groups],
            "observed": [float(y[g].mean()) if len(g) else math.nan for g in groups],
        }
    )


def summary(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """AUC, calibration slope and intercept, mean predicted and observed rate."""
    slope, intercept = calibration_slope(y, p)
    observed = float(np.mean(y))
    expected = float(np.mean(p))
    return {
        "auc": auc(y, p),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "mean_predicted": expected,
        "observed_rate": observed,
        "observed_over_expected": observed / expected if expected else None,
    }


def top_table(y: np.ndarray, scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """PPV and sensitivity at each of :data:`TOP_SHARES` for each named score."""
    rows = []
    for name, p in scores.items():
        for share in TOP_SHARES:
            t = top_k(y, p, share)
            rows.append(
                {
                    "model": name,
                    "top_percent": share * 100,
                    "flagged": t.flagged,
                    "admitted_flagged": t.true_positives,
                    "ppv": t.ppv,
                    "sensitivity": t.sensitivity,
                }
            )
    return pd.DataFrame(rows)


def subgroups(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Performance by each of :data:`SUBGROUPS`, flagging the overall top 2%."""
    y = np.asarray(y, dtype=bool)
    flagged = np.zeros(len(y), dtype=bool)
    flagged[rank_order(p)[: top_count(len(y), SUBGROUP_SHARE)]] = True
    rows = []
    for column in SUBGROUPS:
        values = frame[column].to_numpy()
        for value in sorted(set(values.tolist())):  # one type per column: ints sort as numbers
            m = values == value
            n, events, f = int(m.sum()), int(y[m].sum()), int(flagged[m].sum())
            expected = float(p[m].sum())
            rows.append(
                {
                    "group": column,
                    "value": str(value),
                    "people": n,
                    "admitted": events,
                    "observed_rate": events / n,
                    "mean_predicted": expected / n,
                    "observed_over_expected": events / expected if expected else None,
                    "auc": auc(y[m], p[m]),
                    "flagged_top2": f,
                    "flagged_share": f / n,
                    "ppv_top2": int((flagged & y)[m].sum()) / f if f else None,
                    "sensitivity_top2": int((flagged & y)[m].sum()) / events if events else None,
                }
            )
    return pd.DataFrame(rows)


@dataclass
class Evaluation:
    """The result of :func:`evaluate_store`: every table the CLI prints and writes."""

    model: str
    settings: dict[str, Any]
    train_index: date
    test_index: date
    train_people: int
    test_people: int
    excluded_deaths_test: int
    summaries: dict[str, dict[str, float | None]]  # "model" / "baseline" -> summary
    top: pd.DataFrame
    calibration: dict[str, pd.DataFrame]  # "model" / "baseline" -> bins
    subgroups: pd.DataFrame
    coefficients: pd.DataFrame
    published: tuple[dict[str, Any], ...] = field(default=PUBLISHED)

    def beats_baseline(self) -> dict[str, bool]:
        """Whether the model beats the baseline on AUC and on PPV at the top 2%."""
        m, b = self.summaries["model"], self.summaries["baseline"]
        top2 = self.top[self.top["top_percent"] == 2.0].set_index("model")["ppv"]
        return {
            "auc": (m["auc"] or 0) > (b["auc"] or 0),
            "ppv_top2": float(top2["model"] or 0) > float(top2["baseline"] or 0),
        }

    def to_json(self) -> dict[str, Any]:
        """The headline figures as a JSON-ready mapping."""
        return {
            "model": self.model,
            "settings": self.settings,
            "train_index_date": self.train_index.isoformat(),
            "test_index_date": self.test_index.isoformat(),
            "train_people": self.train_people,
            "test_people": self.test_people,
            "test_excluded_deaths": self.excluded_deaths_test,
            "summaries": self.summaries,
            "beats_baseline": self.beats_baseline(),
            "top": self.top.to_dict(orient="records"),
            "coefficients": self.coefficients.to_dict(orient="records"),
            "published": list(self.published),
        }


def split_dates(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """Training and test index dates of the store; :class:`RiskDataError` if too short."""
    cover = coverage(con)
    if cover.years < 3:
        raise RiskDataError(
            f"store spells cover {cover.years} financial year(s) "
            f"({cover.start}..{cover.end}); training and testing need 3 (a year of history, "
            "a training year and a test year)"
        )
    test = years_before(cover.end)
    return years_before(test), test


def evaluate_store(
    store: str | Path | duckdb.DuckDBPyConnection, model: str = "logistic", seed: int = 0
) -> Evaluation:
    """Train ``model`` and the baseline on one year of the store, test them on the next.

    Raises :class:`RiskDataError` for an unknown model, a missing or foreign store, too few
    years or too few people.
    """
    if model not in MODELS:
        raise RiskDataError(f"unknown model '{model}' (known: {', '.join(MODELS)})")
    with risk_store(store) as con:
        train_index, test_index = split_dates(con)
        train = features_from(con, train_index, outcome=True)
        test_all = features_from(con, test_index, outcome=False)
        test = features_from(con, test_index, outcome=True)
    fitted: RiskModel = fit(train, model, seed)
    baseline = fit(train, "baseline", seed)
    y = test["admitted"].to_numpy(bool)
    if len(test) < 100 or y.all() or not y.any():
        raise RiskDataError(
            f"too few people to test a risk model: {len(test)} adults, {int(y.sum())} "
            f"admitted in the test year from {test_index} (need 100 adults, some admitted "
            "and some not)"
        )
    p_model, p_base = fitted.predict(test), baseline.predict(test)
    return Evaluation(
        model=model,
        settings=describe(fitted),
        train_index=train_index,
        test_index=test_index,
        train_people=len(train),
        test_people=len(test),
        excluded_deaths_test=len(test_all) - len(test),
        summaries={"model": summary(y, p_model), "baseline": summary(y, p_base)},
        top=top_table(y, {"model": p_model, "baseline": p_base}),
        calibration={
            "model": calibration_bins(y, p_model),
            "baseline": calibration_bins(y, p_base),
        },
        subgroups=subgroups(test, y, p_model),
        coefficients=fitted.coefficients(),
    )
