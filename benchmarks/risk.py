"""Benchmark risk scoring: seconds and peak memory to score a population.

    python benchmarks/risk.py                       # 1,000,000 people, logistic and gbm
    python benchmarks/risk.py --people 100000 --models logistic
    python benchmarks/risk.py --store STORE         # also score_population() on a store

The feature table is generated in numpy (ages 18-100 with an English-like skew, LTC
counts rising with age, dementia, prior emergency admissions and bed days, falls and
social care), not read from a store: building a 1M-resident store takes many minutes and
is not what is measured. A model is fitted on the first 200,000 rows (labels drawn from a
known logistic risk) and then scores all rows: ``RiskModel.predict`` (design matrix +
calibrated model), the tiers (``assign_tiers``) and the cohort flags. Reported per model:
fit seconds, scoring seconds, people per second, and peak memory of scoring (tracemalloc,
Python and numpy allocations, measured in a second, untimed pass) and of the process
(``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from bettercare.analytics.risk.cohorts import assign_tiers, cohort_flags, score_population
from bettercare.analytics.risk.features import age_band_of
from bettercare.analytics.risk.model import fit


def synthetic_features(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` adults with the columns of ``features.build_features(..., outcome=True)``."""
    rng = np.random.default_rng(seed)
    age = np.minimum(18 + rng.gamma(2.2, 14.0, n).astype(np.int64), 104)
    ltc = rng.poisson(np.clip((age - 18) / 25.0, 0.05, 3.4))
    dementia = rng.random(n) < np.where(age >= 65, 0.002 * np.exp((age - 65) / 7.0), 0.0005)
    frailty = rng.gamma(2.0, 0.5, n)
    base = 0.06 * np.exp((age - 18) / 35.0) * 1.3**ltc * frailty
    prior = rng.poisson(base)
    bed_days = np.where(prior > 0, rng.geometric(1 / 6.0, n) * prior, 0)
    falls = rng.binomial(prior, np.where(age >= 65, 0.15, 0.03))
    return pd.DataFrame(
        {
            "person_id": np.char.add("p", np.arange(n).astype(str)),
            "gp_practice": np.char.add("C82", (rng.integers(0, 140, n) + 100).astype(str)),
            "hwb_code": "E06000016",
            "age": age,
            "age_band": age_band_of(age),
            "sex": np.where(rng.random(n) < 0.51, "F", "M"),
            "imd_decile": rng.integers(1, 11, n),
            "ltc_count": ltc,
            "dementia": dementia,
            "prior_emergency_admissions": prior,
            "prior_bed_days": bed_days,
            "prior_falls_admissions": falls,
            "social_care": rng.random(n) < np.clip(0.01 * 1.3**ltc, 0, 0.5),
            "admitted": rng.random(n) < 1 - np.exp(-base * 1.2),
        }
    )


def bench(people: int, models: list[str]) -> None:
    t0 = time.perf_counter()
    frame = synthetic_features(people)
    print(f"generated {people:,} feature rows in {time.perf_counter() - t0:.1f} s")
    train = frame.iloc[: min(200_000, people)]
    for kind in models:
        t0 = time.perf_counter()
        model = fit(train, kind)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = model.predict(frame)
        tiers = assign_tiers(p)
        flags = cohort_flags(frame)
        score_s = time.perf_counter() - t0
        # memory in a second pass: tracemalloc slows allocation down, so it is not timed
        tracemalloc.start()
        assign_tiers(model.predict(frame))
        cohort_flags(frame)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{kind:>8}: fit {len(train):,} in {fit_s:.1f} s; score {people:,} in {score_s:.2f} s "
            f"({people / score_s:,.0f}/s), tiers {sum(t is not None for t in tiers):,}, "
            f"cohort members {int(flags.any(axis=1).sum()):,}; peak traced {peak / 2**20:,.0f} MB, "
            f"process peak RSS {rss:,.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--models", nargs="+", default=["logistic", "gbm"])
    parser.add_argument("--store", type=Path, help="also time score_population on a store")
    args = parser.parse_args()
    bench(args.people, args.models)
    if args.store:
        t0 = time.perf_counter()
        table = score_population(args.store)
        print(
            f"score_population({args.store}): {table.num_rows:,} adults in "
            f"{time.perf_counter() - t0:.1f} s (features, fit, score, tiers)"
        )


if __name__ == "__main__":
    main()
