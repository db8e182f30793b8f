"""Evaluation methods on known effects: interval coverage, bias and false positives.

For each seed: generate a synthetic HWB (Rutland preset, 3 financial years, practices of
about 2,000 residents), then evaluate three copies of the same feeds:

* no effect (null): every method should claim an effect (95% interval excluding 0) in
  about 5% of seeds;
* an area effect: emergency admissions of the residents of 4 random practices cut by
  ``--area-effect`` from 1 April of the last year (ITS on those practices, DiD and
  synthetic control against the others);
* a cohort effect: ``--cohort-size`` adults enrolled on that date (chosen with
  probability rising with prior admissions, age and conditions) whose emergency
  admissions are cut by ``--cohort-effect`` (matched control cohort).

The truth is what the injection removed (bettercare.data.synth.effects), in the metric's
units. A "store" is built in memory from the generated tables (the NHS number stands in
for the pseudonym; the evaluation reads only the store's columns).

    PYTHONPATH=. .venv/bin/python benchmarks/evaluation.py --seeds 40
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa

from bettercare.analytics.evaluation.run import evaluate_con
from bettercare.analytics.evaluation.spec import EvaluationSpec
from bettercare.analytics.risk.features import features_from
from bettercare.data.synth.effects import InjectedEffect, inject
from bettercare.data.synth.generator import build_tables
from bettercare.data.synth.presets import preset

YEARS = ["2022/23", "2023/24", "2024/25"]
CHANGE = date(2024, 4, 1)
AREA_METHODS = ("interrupted time series", "difference-in-differences", "synthetic control")
COHORT_METHOD = "matched control cohort"


def store_of(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the store's columns the evaluation reads."""
    con = duckdb.connect(":memory:")
    con.register("raw_residents", tables["residents"])
    con.register("raw_spells", tables["hospital_spells"])
    con.register("raw_sc_truth", tables["_truth/social_care_person"])
    con.register("sc_raw", tables["social_care_services"])
    con.execute(
        """CREATE TABLE residents AS SELECT nhs_number AS person_id,
        CAST(date_trunc('month', date_of_birth) AS DATE) AS birth_month, sex, lsoa,
        gp_practice, hwb_code, imd_decile, ltc_count, dementia_diagnosis, date_of_death,
        dementia_diagnosis_date FROM raw_residents"""
    )
    con.execute(
        """CREATE TABLE hospital_spells AS SELECT * EXCLUDE (nhs_number),
        nhs_number AS person_id FROM raw_spells"""
    )
    con.execute(
        """CREATE TABLE social_care_services AS SELECT s.*, t.nhs_number AS person_id
        FROM sc_raw s JOIN raw_sc_truth t USING (service_id)"""
    )
    return con


def removed_rate(
    con: duckdb.DuckDBPyConnection, by_month: dict[date, int], practices: list[str]
) -> float:
    """Mean over post months of the injected change per 1,000 residents."""
    rows = con.execute(
        """SELECT m.month, count(*) FROM residents r JOIN (SELECT CAST(range AS DATE) AS month
        FROM range(DATE '2024-04-01', DATE '2025-04-01', INTERVAL 1 MONTH)) m
        ON r.birth_month < m.month AND (r.date_of_death IS NULL OR r.date_of_death >= m.month)
        WHERE r.gp_practice IN (SELECT unnest($p)) GROUP BY ALL""",
        {"p": practices},
    ).fetchall()
    pop = {m: n for m, n in rows}
    return float(np.mean([by_month.get(m, 0) / pop[m] * 1000 for m in sorted(pop)]))


def choose_enrolled(
    con: duckdb.DuckDBPyConnection, size: int, rng: np.random.Generator
) -> list[str]:
    people = features_from(con, CHANGE, outcome=False)
    score = (
        0.8 * np.minimum(people["prior_emergency_admissions"], 5)
        + 0.04 * people["age"]
        + 0.3 * people["ltc_count"]
    ).to_numpy(dtype=float)
    p = np.exp(score - score.max())
    p /= p.sum()
    pick = rng.choice(len(people), size=size, replace=False, p=p)
    return [str(x) for x in people["person_id"].to_numpy()[pick]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--population", type=int, default=48_000)
    ap.add_argument("--area-effect", type=float, default=-0.15)
    ap.add_argument("--cohort-effect", type=float, default=-0.25)
    ap.add_argument("--cohort-size", type=int, default=400)
    ap.add_argument("--no-cohort", action="store_true", help="skip the matched cohort runs")
    args = ap.parse_args()
    params = preset("rutland").with_population(args.population)
    params = params.model_copy(
        update={"area": params.area.model_copy(update={"residents_per_practice": 2000})}
    )
    rows: dict[str, dict[str, list[float]]] = {}

    def record(kind: str, method: str, key: str, value: float) -> None:
        rows.setdefault(f"{kind}|{method}", {}).setdefault(key, []).append(value)

    t0 = time.perf_counter()
    for seed in range(1, args.seeds + 1):
        tables = build_tables(params, YEARS, seed, lambda _s: None)
        rng = np.random.default_rng([seed, 99])
        practices = sorted(set(tables["residents"]["gp_practice"].to_pylist()))
        treated = sorted(rng.choice(practices, size=4, replace=False).tolist())
        con = store_of(tables)
        enrolled = choose_enrolled(con, args.cohort_size, rng)
        spec = EvaluationSpec(
            change_date=CHANGE,
            treated=treated,
            enrolled=enrolled,
            methods=["its", "did", "matched", "synthetic"],
        )
        null_spec = (
            spec
            if not args.no_cohort
            else spec.model_copy(update={"methods": ["its", "did", "synthetic"]})
        )
        for e in evaluate_con(con, null_spec).effects:  # null: no effect injected
            if e.estimable:
                record("null", e.method, "claims", float(e.excludes_zero()))
        # area effect
        area, info = inject(
            tables,
            InjectedEffect(start=CHANGE, relative_change=args.area_effect, practices=treated),
            seed,
        )
        con_a = store_of(area)
        truth = removed_rate(con_a, info.by_month, treated)
        spec_a = spec.model_copy(update={"methods": ["its", "did", "synthetic"]})
        for e in evaluate_con(con_a, spec_a).effects:
            if e.estimable and e.effect is not None:
                record("area", e.method, "truth", truth)
                record("area", e.method, "error", e.effect - truth)
                record("area", e.method, "covers", float(e.covers(truth)))
                record("area", e.method, "width", float((e.ci_high or 0) - (e.ci_low or 0)))
                record("area", e.method, "detects", float(e.excludes_zero()))
        if args.no_cohort:
            print(f"seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
            continue
        # cohort effect
        cohort, info_c = inject(
            tables,
            InjectedEffect(start=CHANGE, relative_change=args.cohort_effect, nhs_numbers=enrolled),
            seed,
        )
        con_c = store_of(cohort)
        end = date(2025, 4, 1)
        truth_c = sum(v for m, v in info_c.by_month.items() if m < end) / len(enrolled)
        spec_c = spec.model_copy(update={"methods": ["matched"]})
        for e in evaluate_con(con_c, spec_c).effects:
            if e.estimable and e.effect is not None:
                record("cohort", e.method, "truth", truth_c)
                record("cohort", e.method, "error", e.effect - truth_c)
                record("cohort", e.method, "covers", float(e.covers(truth_c)))
                record("cohort", e.method, "width", float((e.ci_high or 0) - (e.ci_low or 0)))
                record("cohort", e.method, "detects", float(e.excludes_zero()))
        print(f"seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)

    print(f"\n{args.seeds} seeds, {args.population:,} residents, {time.perf_counter() - t0:.0f} s")
    print(
        f"area effect {args.area_effect:+.0%} in 4 practices; cohort effect "
        f"{args.cohort_effect:+.0%} in {args.cohort_size} enrolled people\n"
    )
    print(
        "| method | injected effect (mean) | bias | coverage of 95% CI | mean CI width "
        "| detects effect | false positives (no effect) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, methods in (("area", AREA_METHODS), ("cohort", (COHORT_METHOD,))):
        for m in methods:
            r = rows.get(f"{kind}|{m}", {})
            n = rows.get(f"null|{m}", {}).get("claims", [])
            if not r:
                print(f"| {m} | - | - | - | - | - | - |")
                continue
            print(
                f"| {m} | {np.mean(r['truth']):.4f} | {np.mean(r['error']):+.4f} "
                f"| {np.mean(r['covers']):.0%} ({len(r['covers'])} seeds) "
                f"| {np.mean(r['width']):.4f} | {np.mean(r['detects']):.0%} "
                f"| {np.mean(n):.0%} ({len(n)} seeds) |"
            )


if __name__ == "__main__":
    main()
