"""Benchmark the models: simulation events per second, Monte Carlo draws per second.

    python benchmarks/modelling.py
    python benchmarks/modelling.py --draws 200000 --replications 10

Monte Carlo: :func:`~bettercare.analytics.modelling.run_impact` on the Rutland example
(13 schemes, P4P and the 50:50 risk share) and on Leicestershire 2016 (5 schemes with
stated figures). Simulation: :func:`~bettercare.analytics.modelling.pathway.run_pathway`
on ``examples/modelling/pathway.yaml`` (three pathways, 9 supported discharges a day, a
year) and on an M/M/4 queue; events are those SimPy processes. Modest sizes: the project
machine has 2 shared cores. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bettercare.analytics.modelling import ImpactParams, run_impact
from bettercare.analytics.modelling.pathway import PathwayConfig, run_pathway
from bettercare.data.plan_files import load_plan
from bettercare.data.synth.params import read_params_file

EXAMPLES = Path(__file__).parent.parent / "examples"


def monte_carlo(draws: int) -> None:
    """Draws per second of the scheme impact Monte Carlo on two example plans."""
    for name in ("rutland_2014.yaml", "leicestershire_2016.yaml"):
        plan = load_plan(EXAMPLES / name)
        run_impact(plan, ImpactParams(draws=1000))  # warm up imports and caches
        t0 = time.perf_counter()
        r = run_impact(plan, ImpactParams(draws=draws, seed=1))
        dt = time.perf_counter() - t0
        print(
            f"monte carlo  {name:28} {len(r.effects):3} schemes {draws:>9,} draws "
            f"{dt:6.2f} s  {draws / dt:>12,.0f} draws/s  P(meet target) "
            f"{r.probability_meeting_target:.1%}"
        )


def simulation(replications: int) -> None:
    """Events per second of the discharge pathway simulation."""
    example = read_params_file(EXAMPLES / "modelling" / "pathway.yaml")
    mm4 = {
        "days": 2000,
        "warm_up_days": 100,
        "arrivals": {"per_day": 3.0},
        "pathways": [
            {"id": "p", "name": "M/M/4", "share": 1, "capacity": 4,
             "length_of_service": {"kind": "exponential", "mean": 1.0}},
        ],
    }  # fmt: skip
    for label, data in (("example pathways", example), ("M/M/4, 2000 days", mm4)):
        cfg = PathwayConfig.model_validate({**data, "replications": replications})
        t0 = time.perf_counter()
        r = run_pathway(cfg)
        dt = time.perf_counter() - t0
        people = sum(sum(p.discharges.values) for p in r.pathways)
        print(
            f"simulation   {label:28} {replications:3} replications {r.events:>10,} events "
            f"{dt:6.2f} s  {r.events / dt:>10,.0f} events/s  ({people:,.0f} people measured)"
        )


def main() -> None:
    """Parse the sizes and print both benchmarks."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--replications", type=int, default=10)
    args = ap.parse_args()
    monte_carlo(args.draws)
    simulation(args.replications)


if __name__ == "__main__":
    main()
