"""Did a scheme or a dated change work? Effects on a metric against a counterfactual.

Four methods, each answering an :class:`Effect` with a 95% interval in the metric's
units and in admissions avoided, or "cannot be estimated" with the reason:
interrupted time series (:mod:`.its`), difference-in-differences (:mod:`.did`), a matched
control cohort (:mod:`.matched`) and a synthetic control (:mod:`.synthetic`).
:func:`evaluate_store` runs the ones an :class:`EvaluationSpec` asks for on the store.
"""

from bettercare.analytics.evaluation.results import Effect, EvaluationDataError
from bettercare.analytics.evaluation.run import Evaluation, evaluate_store
from bettercare.analytics.evaluation.spec import EvaluationSpec, load_spec

__all__ = [
    "Effect",
    "Evaluation",
    "EvaluationDataError",
    "EvaluationSpec",
    "evaluate_store",
    "load_spec",
]
