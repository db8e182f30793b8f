"""The risk models: a regularised logistic regression (default), gradient boosting, a baseline.

Owns turning :mod:`.features` rows into a design matrix, fitting and calibrating a model on
one year, and scoring people with it. It does not own the features or the evaluation.

* ``logistic`` (the transparent default): L2-regularised logistic regression
  (``C`` = :data:`LOGISTIC_C`) on age band and sex (one-hot, reference 18-29 / F),
  deprivation (deciles more deprived than the least deprived, ``10 - imd_decile``), LTC
  count, dementia, log(1 + prior emergency admissions), log(1 + prior emergency bed days),
  any prior falls admission and any social care. Its coefficients are log odds ratios per
  unit of each term (:meth:`RiskModel.coefficients`).
* ``gbm``: scikit-learn's ``HistGradientBoostingClassifier`` on the same information
  (age in years rather than bands), for non-linear effects and interactions.
* the baseline: unpenalised-in-practice logistic regression on age band and
  log(1 + prior emergency admissions) only -- the "age + prior admissions" rule of thumb
  the models must beat.

Calibration: each model is fitted on a random :data:`CALIBRATION_SHARE` of the training
year's people held back, then recalibrated on that held-out slice with Platt scaling
(``CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid")``): a monotone map,
so the ranking (AUC, top-k% lists) is the fitted model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]
from sklearn.frozen import FrozenEstimator  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

from bettercare.analytics.risk import MODELS
from bettercare.analytics.risk.features import RISK_AGE_BANDS, RiskDataError

#: Inverse L2 penalty of the logistic model (scikit-learn's default).
LOGISTIC_C = 1.0
#: Share of the training year held back to calibrate on.
CALIBRATION_SHARE = 0.25
#: The fewest training people and admitted people a model is fitted on.
MIN_TRAIN_PEOPLE = 500
MIN_TRAIN_EVENTS = 20

SEXES: tuple[str, ...] = ("F", "M", "U")
#: Terms of the logistic model besides the one-hot age band and sex.
NUMERIC_TERMS: tuple[str, ...] = (
    "deprivation",
    "ltc_count",
    "dementia",
    "log1p_prior_emergency_admissions",
    "log1p_prior_bed_days",
    "any_prior_falls_admission",
    "social_care",
)
BASELINE_TERMS: tuple[str, ...] = ("log1p_prior_emergency_admissions",)
GBM_COLUMNS: tuple[str, ...] = (
    "age",
    "female",
    "imd_decile",
    "ltc_count",
    "dementia",
    "prior_emergency_admissions",
    "prior_bed_days",
    "prior_falls_admissions",
    "social_care",
)


def _dummies(values: np.ndarray, levels: tuple[str, ...], prefix: str) -> dict[str, np.ndarray]:
    """0/1 columns for every level but the first (the reference)."""
    return {f"{prefix}_{level}": (values == level).astype(np.float64) for level in levels[1:]}


def design(features: pd.DataFrame) -> pd.DataFrame:
    """The model terms of each feature row, all numeric (see the module docstring).

    One-hot columns are built here with numpy (rather than a scikit-learn encoder on
    text) because scoring a million people spent most of its time encoding strings.
    """
    band = features["age_band"].to_numpy().astype(str)
    sex = features["sex"].to_numpy().astype(str)
    prior = features["prior_emergency_admissions"].to_numpy(np.float64)
    bed_days = features["prior_bed_days"].to_numpy(np.float64)
    falls = features["prior_falls_admissions"].to_numpy(np.float64)
    imd = features["imd_decile"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            **_dummies(band, RISK_AGE_BANDS, "age_band"),
            **_dummies(sex, SEXES, "sex"),
            "age": features["age"].to_numpy(np.float64),
            "female": (sex == "F").astype(np.float64),
            "imd_decile": imd,
            "deprivation": 10.0 - imd,
            "ltc_count": features["ltc_count"].to_numpy(np.float64),
            "dementia": features["dementia"].to_numpy(np.float64),
            "prior_emergency_admissions": prior,
            "prior_bed_days": bed_days,
            "prior_falls_admissions": falls,
            "log1p_prior_emergency_admissions": np.log1p(prior),
            "log1p_prior_bed_days": np.log1p(bed_days),
            "any_prior_falls_admission": (falls > 0).astype(np.float64),
            "social_care": features["social_care"].to_numpy(np.float64),
        },
        index=features.index,
    )


AGE_TERMS: tuple[str, ...] = tuple(f"age_band_{b}" for b in RISK_AGE_BANDS[1:])
SEX_TERMS: tuple[str, ...] = tuple(f"sex_{s}" for s in SEXES[1:])
#: The columns of :func:`design` each model uses, in order.
MODEL_TERMS: dict[str, tuple[str, ...]] = {
    "logistic": (*AGE_TERMS, *SEX_TERMS, *NUMERIC_TERMS),
    "gbm": GBM_COLUMNS,
    "baseline": (*AGE_TERMS, *BASELINE_TERMS),
}


def _estimator(kind: str, seed: int) -> LogisticRegression | HistGradientBoostingClassifier:
    if kind == "logistic":
        return LogisticRegression(C=LOGISTIC_C, max_iter=2000, tol=1e-6)
    if kind == "baseline":
        return LogisticRegression(C=1e6, max_iter=2000, tol=1e-6)
    if kind == "gbm":
        return HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=100,
            max_leaf_nodes=15,
            min_samples_leaf=50,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        )
    raise RiskDataError(f"unknown model '{kind}' (known: {', '.join(MODELS)})")


@dataclass
class RiskModel:
    """A fitted, calibrated model: ``predict(features)`` gives P(emergency admission)."""

    kind: str  # "logistic" | "gbm" | "baseline"
    terms: tuple[str, ...]  # the columns of :func:`design` it reads
    fitted: LogisticRegression | HistGradientBoostingClassifier  # before calibration
    calibrated: CalibratedClassifierCV

    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        """The model's design matrix for ``features``."""
        return design(features)[list(self.terms)].to_numpy(np.float64)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of an emergency admission in the next 12 months."""
        out: np.ndarray = self.calibrated.predict_proba(self.matrix(features))[:, 1]
        return out

    def coefficients(self) -> pd.DataFrame:
        """Terms, log odds ratios and odds ratios of a logistic model (before calibration).

        Empty for the gradient-boosted model, which has none.
        """
        if not isinstance(self.fitted, LogisticRegression):
            return pd.DataFrame(columns=["term", "coefficient", "odds_ratio"])
        coef = np.concatenate([self.fitted.intercept_, self.fitted.coef_[0]])
        return pd.DataFrame(
            {"term": ["(intercept)", *self.terms], "coefficient": coef, "odds_ratio": np.exp(coef)}
        )


def check_trainable(labels: np.ndarray) -> None:
    """:class:`RiskDataError` unless there are enough people and admissions to fit on."""
    n, events = len(labels), int(np.sum(labels))
    if n < MIN_TRAIN_PEOPLE or events < MIN_TRAIN_EVENTS or n - events < MIN_TRAIN_EVENTS:
        raise RiskDataError(
            f"too few people to train a risk model: {n} adults, {events} admitted "
            f"(need at least {MIN_TRAIN_PEOPLE} adults and {MIN_TRAIN_EVENTS} admitted and "
            f"{MIN_TRAIN_EVENTS} not admitted)"
        )


def fit(features: pd.DataFrame, kind: str = "logistic", seed: int = 0) -> RiskModel:
    """Fit model ``kind`` on labelled ``features`` (``admitted``) and calibrate it.

    ``kind`` is one of :data:`MODELS` or ``"baseline"``. Raises :class:`RiskDataError` for
    an unknown model or too few people or admissions.
    """
    estimator = _estimator(kind, seed)
    labels = features["admitted"].to_numpy(bool).astype(np.int64)
    check_trainable(labels)
    terms = MODEL_TERMS[kind]
    x = design(features)[list(terms)].to_numpy(np.float64)
    x_fit, x_cal, y_fit, y_cal = train_test_split(
        x, labels, test_size=CALIBRATION_SHARE, random_state=seed, stratify=labels
    )
    estimator.fit(x_fit, y_fit)
    calibrated = CalibratedClassifierCV(FrozenEstimator(estimator), method="sigmoid")
    calibrated.fit(x_cal, y_cal)
    return RiskModel(kind, terms, estimator, calibrated)


def describe(model: RiskModel) -> dict[str, Any]:
    """The model's settings, for the evaluation's JSON."""
    if model.kind == "gbm":
        params = model.fitted.get_params()
        keep = ("learning_rate", "max_iter", "max_leaf_nodes", "min_samples_leaf")
        return {"kind": "gbm", **{k: params[k] for k in keep}, "l2": params["l2_regularization"]}
    c = model.fitted.get_params()["C"]
    return {"kind": model.kind, "penalty": "l2", "C": c}
