"""Calibration: do the metrics measured on synthetic data give back the seed figures?

    python benchmarks/calibration.py                       # Leicestershire, 675,000 residents
    python benchmarks/calibration.py --population 200000 --seeds 1 2 3
    python benchmarks/calibration.py --hwb rutland --population 38000

For each seed it generates the preset's population for 2015/16 and 2016/17, ingests it
(NHS numbers validated and pseudonymised, opt-outs excluded, social care linked), computes
every metric at the year grain and prints, per metric and year, the seed figure the
generator was given, the measured rate, the difference and a z-score against sampling
noise (:mod:`bettercare.pipelines.calibration`). |z| <= 3 is sampling noise; a larger |z|
is a calibration error worth fixing in the generator.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from bettercare.data.synth import preset
from bettercare.pipelines.calibration import calibration_table
from bettercare.pipelines.synthetic import run_synthetic

YEARS = ["2015/16", "2016/17"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hwb", default="leicestershire")
    ap.add_argument("--population", type=int, default=675_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    args = ap.parse_args()
    pd.set_option("display.width", 120)
    tables = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        params = preset(args.hwb).with_population(args.population)
        with tempfile.TemporaryDirectory(prefix="bettercare-calibration-") as work:
            run = run_synthetic(params, YEARS, seed, Path(work))
        table = calibration_table(run.metrics["year"], params)
        print(
            f"\n== {args.hwb}, {args.population:,} residents, seed {seed} "
            f"({time.perf_counter() - t0:.0f} s)"
        )
        print(table.to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
        tables.append(table)
    z = pd.concat(tables).z.dropna().abs()
    print(
        f"\n{len(z)} metric-years: max |z| {z.max():.2f}, share with |z| <= 3: "
        f"{(z <= 3).mean():.0%}"
    )


if __name__ == "__main__":
    main()
