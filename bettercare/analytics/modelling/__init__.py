"""Modelling: scheme impact under uncertainty and discharge pathway simulation.

* :mod:`.impact` -- Monte Carlo of admissions avoided, P4P earned and each partner's
  share of a shortfall (:func:`run_impact`);
* :mod:`.pathway` -- SimPy simulation of discharges waiting for pathway capacity
  (:func:`run_pathway`, :func:`sweep_capacity`);
* :mod:`.queueing` -- Erlang C, the analytic M/M/c values the simulation is checked on;
* :mod:`.distributions` -- the distribution families both draw from;
* :mod:`.store_inputs` -- the models' inputs estimated from the analytics store.
"""

from bettercare.analytics.modelling.errors import ModellingInputError
from bettercare.analytics.modelling.impact import (
    ImpactParams,
    ImpactResult,
    fit_to_observed,
    run_impact,
)

__all__ = [
    "ImpactParams",
    "ImpactResult",
    "ModellingInputError",
    "fit_to_observed",
    "run_impact",
]
