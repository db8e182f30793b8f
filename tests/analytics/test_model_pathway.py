"""Discharge pathway simulation: validated against queueing theory and by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pydantic import ValidationError

from bettercare.analytics.modelling import queueing
from bettercare.analytics.modelling.pathway import (
    ArrivalPattern,
    PathwayConfig,
    capacity_demand_entries,
    run_pathway,
    sweep_capacity,
)


def mmc(c: int, lam: float, mean_service: float, **kw: object) -> PathwayConfig:
    """Constant Poisson arrivals, exponential service, 7-day working: an M/M/c queue."""
    data = {
        "days": 1500,
        "warm_up_days": 100,
        "replications": 20,
        "seed": 2025,
        "arrivals": {"per_day": lam},
        "pathways": [
            {
                "id": "p",
                "name": "P",
                "share": 1,
                "capacity": c,
                "length_of_service": {"kind": "exponential", "mean": mean_service},
            }
        ],
    }
    return PathwayConfig.model_validate(data | kw)


def test_erlang_c_reference_values():
    """M/M/2, lam = mu = 1: C = 1/3, Wq = 1/3; M/M/1 at rho 0.5: Wq = rho / (mu - lam) = 1."""
    assert queueing.erlang_c(2, 1, 1) == pytest.approx(1 / 3)
    assert queueing.mean_wait(2, 1, 1) == pytest.approx(1 / 3)
    assert queueing.mean_wait(1, 0.5, 1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no steady state"):
        queueing.erlang_c(2, 2, 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("c", "lam", "mean_service"),
    [(1, 0.6, 1.0), (4, 3.0, 1.0), (10, 2.0, 4.0)],
)
def test_mean_wait_lies_within_the_confidence_interval_of_erlang_c(c, lam, mean_service):
    result = run_pathway(mmc(c, lam, mean_service)).pathways[0]
    mu = 1 / mean_service
    analytic = queueing.mean_wait(c, lam, mu)
    assert result.mean_wait.contains(analytic), (result.mean_wait, analytic)
    assert result.occupancy.contains(queueing.utilisation(c, lam, mu))
    assert result.share_delayed.contains(queueing.erlang_c(c, lam, mu))
    # the check has power: one server more or fewer is outside the interval
    assert not result.mean_wait.contains(queueing.mean_wait(c + 1, lam, mu))


def test_mm1_quick_check():
    """A short M/M/1 run (fast lane): the mean wait's interval holds the analytic value."""
    r = run_pathway(mmc(1, 0.5, 1.0, days=800, replications=10)).pathways[0]
    assert r.mean_wait.contains(queueing.mean_wait(1, 0.5, 1.0)), r.mean_wait


def test_five_day_working_by_hand():
    """Ample places: only weekend arrivals wait, Saturday 2 - u days, Sunday 1 - u days.

    Arrivals uniform over the week: mean wait (1.5 + 0.5) / 7 = 2/7 day; 2/7 delayed.
    With 7-day working nobody waits.
    """
    cfg = mmc(500, 10.0, 1.0, days=490, warm_up_days=7, replications=4)
    five = cfg.model_copy(
        update={"pathways": [cfg.pathways[0].model_copy(update={"working_days": 5})]}
    )
    r5 = run_pathway(five).pathways[0]
    assert r5.mean_wait.mean == pytest.approx(2 / 7, abs=0.015)
    assert r5.share_delayed.mean == pytest.approx(2 / 7, abs=0.015)
    assert r5.waits.max() < 2.0
    r7 = run_pathway(cfg).pathways[0]
    assert r7.mean_wait.mean == 0.0 and r7.delayed_days.mean == 0.0


def test_delayed_days_are_the_sum_of_the_waits():
    r = run_pathway(mmc(2, 1.5, 1.0, days=300, replications=3)).pathways[0]
    assert sum(r.delayed_days.values) == pytest.approx(float(r.waits.sum()))
    n = sum(r.discharges.values)
    assert r.mean_wait.mean * n == pytest.approx(float(r.waits.sum()), rel=0.05)


def test_same_seed_same_result_other_seed_differs():
    a = run_pathway(mmc(2, 1.5, 1.0, days=200, replications=3))
    b = run_pathway(mmc(2, 1.5, 1.0, days=200, replications=3))
    c = run_pathway(mmc(2, 1.5, 1.0, days=200, replications=3, seed=2))
    np.testing.assert_array_equal(a.pathways[0].waits, b.pathways[0].waits)
    assert a.total_delayed_days == b.total_delayed_days
    assert a.pathways[0].mean_wait.mean != c.pathways[0].mean_wait.mean


@pytest.mark.slow
def test_sweep_finds_the_smallest_capacity_meeting_the_target():
    """lam 3, mu 1: Wq(4) = 0.509, Wq(5) = 0.110 days; a 0.25-day target needs 5 places."""
    assert queueing.mean_wait(4, 3, 1) > 0.25 > queueing.mean_wait(5, 3, 1)
    s = sweep_capacity(mmc(2, 3.0, 1.0), "p", 0.25)
    assert s.smallest_capacity == 5
    assert [r.capacity for r in s.rows] == [4, 5]
    assert s.rows[0].mean_wait.mean > 0.25 >= s.rows[1].mean_wait.mean


def test_sweep_reports_no_capacity_when_the_target_cannot_be_met():
    cfg = mmc(3, 1.0, 1.0, days=120, warm_up_days=7, replications=2)
    five = cfg.model_copy(
        update={"pathways": [cfg.pathways[0].model_copy(update={"working_days": 5})]}
    )
    s = sweep_capacity(five, "p", 0.0, max_capacity=4)
    assert s.smallest_capacity is None and "weekends" in s.note


def test_arrival_weights_average_to_the_daily_rate():
    weights = {"mon": 2, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 0, "sun": 1}
    a = ArrivalPattern(per_day=7.0, day_of_week=weights)
    rates = a.daily_rates(dt.date(2025, 4, 7), 7)  # a Monday
    assert rates.sum() == pytest.approx(49.0)
    assert rates[0] == pytest.approx(14.0) and rates[5] == 0.0


def test_capacity_and_demand_plan_by_hand():
    """2 a day in April (30 days) = 60 people; 10 places x 30 days / 5 days' stay = 60."""
    cfg = PathwayConfig.model_validate(
        {
            "start": "2025-04-01",
            "days": 30,
            "warm_up_days": 0,
            "replications": 2,
            "arrivals": {"per_day": 2.0},
            "pathways": [
                {
                    "id": "p1",
                    "name": "Reablement",
                    "service": "discharge_pathway_1",
                    "share": 1,
                    "capacity": 10,
                    "length_of_service": {"kind": "fixed", "value": 5},
                },
            ],
        }
    )
    (entry,) = capacity_demand_entries(cfg, run_pathway(cfg))
    assert entry.demand == {"2025-04": 60} and entry.capacity == {"2025-04": 60}
    assert entry.service.value == "discharge_pathway_1"


BASE = {
    "arrivals": {"per_day": 3},
    "pathways": [
        {
            "id": "p",
            "name": "P",
            "share": 1,
            "capacity": 4,
            "length_of_service": {"kind": "exponential", "mean": 1},
        },
    ],
}


def _with(path: str, value: object) -> dict:
    import copy

    data = copy.deepcopy(BASE)
    node: dict = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]  # type: ignore[index]
    node[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("pathways.0.capacity", -3, "greater than or equal to 1"),
        (
            "arrivals.day_of_week",
            dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 0),
            "no mass",
        ),
        (
            "pathways.0.length_of_service",
            {"kind": "empirical", "values": [1, 2], "weights": [0, 0]},
            "no mass",
        ),
        ("pathways.0.length_of_service", {"kind": "uniform", "low": 3, "high": 3}, "low < high"),
        (
            "pathways.0.length_of_service",
            {"kind": "normal", "mean": 3, "sd": 1},
            "cannot be negative",
        ),
        ("pathways.0.share", 0, "every share is zero"),
        ("arrivals.month", {"jan": 1}, "every one of"),
    ],
)
def test_bad_configuration_is_refused(path, value, message):
    with pytest.raises(ValidationError, match=message):
        PathwayConfig.model_validate(_with(path, value))
