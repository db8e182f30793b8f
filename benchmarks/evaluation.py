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

With ``--staggered`` two more scenarios on four financial years (2021/22 to 2024/25):

* a staggered area roll-out: 2 of the 4 practices from 1 October 2023, the other 2 from
  1 April 2024, each cut by ``--area-effect`` (stacked DiD);
* staggered enrolment: ``--cohort-size`` adults enrolled in 7 monthly batches from
  1 October 2023 to 1 April 2024, each batch chosen on its own date's features, each
  person cut by ``--cohort-effect`` from their own date (matched cohort with per-person
  index dates).

The truth is what the injection removed (bettercare.data.synth.effects), in the metric's
units: for the area, removed admissions per 1,000 treated residents per post-change
month; for the cohort, removed admissions per person over the 12 months from each
person's index date, averaged over the enrolled people the matched estimate is over
(those with a match; the estimand of a caliper-matched ATT). A "store" is built in
memory from the generated tables (the NHS number stands in for the pseudonym; the
evaluation reads only the store's columns). Coverage is printed with its Monte Carlo
standard error, sqrt(p (1 - p) / seeds). The matched cohort is also scored with its
former paired t interval on the same pairs ("paired t, as before"), for comparison.

    PYTHONPATH=. .venv/bin/python benchmarks/evaluation.py --seeds 40
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats  # type: ignore[import-untyped]

from bettercare.analytics.evaluation.results import Effect
from bettercare.analytics.evaluation.run import evaluate_con
from bettercare.analytics.evaluation.spec import EvaluationSpec
from bettercare.analytics.risk.features import features_from
from bettercare.data.synth.effects import InjectedEffect, apply_effects, inject
from bettercare.data.synth.generator import build_tables
from bettercare.data.synth.params import SynthParams
from bettercare.data.synth.presets import preset

YEARS = ["2022/23", "2023/24", "2024/25"]
STAGGERED_YEARS = ["2021/22", "2022/23", "2023/24", "2024/25"]
CHANGE = date(2024, 4, 1)
EARLY = date(2023, 10, 1)
BATCHES = [date(2023, 10 + i, 1) if i < 3 else date(2024, i - 2, 1) for i in range(7)]
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
    removed, resident_months = removed_and_exposure(con, by_month, practices)
    return removed / resident_months * 1000


def removed_and_exposure(
    con: duckdb.DuckDBPyConnection, by_month: dict[date, int], practices: list[str]
) -> tuple[float, float]:
    """(admissions changed, resident-months) of ``practices`` over the months changed.

    The months are those from the effect's start to the store's end (31 March 2025).
    """
    start = min(by_month) if by_month else CHANGE
    rows = con.execute(
        """SELECT m.month, count(*) FROM residents r JOIN (SELECT CAST(range AS DATE) AS month
        FROM range(CAST($s AS DATE), DATE '2025-04-01', INTERVAL 1 MONTH)) m
        ON r.birth_month < m.month AND (r.date_of_death IS NULL OR r.date_of_death >= m.month)
        WHERE r.gp_practice IN (SELECT unnest($p)) GROUP BY ALL""",
        {"p": practices, "s": start},
    ).fetchall()
    pop = {m: n for m, n in rows}
    return float(sum(by_month.get(m, 0) for m in pop)), float(sum(pop.values()))


def admissions_12m(con: duckdb.DuckDBPyConnection, dates: dict[str, date]) -> dict[str, int]:
    """Emergency admissions of each person in the 12 months from their date."""
    frame = con.execute(
        """SELECT d.person_id, count(s.person_id) FROM (SELECT unnest($p) AS person_id,
        unnest($d) AS idx) d LEFT JOIN hospital_spells s ON s.person_id = d.person_id
        AND s.admission_method = 'non_elective' AND s.admission_date >= d.idx
        AND s.admission_date < d.idx + INTERVAL 1 YEAR GROUP BY d.person_id""",
        {"p": list(dates), "d": list(dates.values())},
    ).fetchall()
    return {str(p): int(n) for p, n in frame}


def choose_enrolled(
    con: duckdb.DuckDBPyConnection,
    size: int,
    rng: np.random.Generator,
    when: date = CHANGE,
    exclude: frozenset[str] = frozenset(),
) -> list[str]:
    """``size`` adults, chosen with probability rising with prior use, age and conditions."""
    people = features_from(con, when, outcome=False)
    people = people[~people["person_id"].isin(exclude)].reset_index(drop=True)
    score = (
        0.8 * np.minimum(people["prior_emergency_admissions"], 5)
        + 0.04 * people["age"]
        + 0.3 * people["ltc_count"]
    ).to_numpy(dtype=float)
    p = np.exp(score - score.max())
    p /= p.sum()
    pick = rng.choice(len(people), size=size, replace=False, p=p)
    return [str(x) for x in people["person_id"].to_numpy()[pick]]


def mc_error(values: list[float]) -> float:
    """Monte Carlo standard error of a share: sqrt(p (1 - p) / n)."""
    p = float(np.mean(values))
    return float(np.sqrt(p * (1 - p) / len(values)))


class Recorder:
    """Per scenario and method: truths, errors, coverage, widths, detections, claims."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, list[float]]] = {}

    def add(self, scenario: str, e: Effect, truth: float | None) -> None:
        paired = e.details.get("standard_error_paired")
        if paired is not None and e.effect is not None:  # the matched cohort's old interval
            q = float(stats.t.ppf(0.975, e.details["matched_pairs"] - 1))
            old = replace(
                e,
                method=f"{e.method} (paired t, as before)",
                ci_low=e.effect - q * paired,
                ci_high=e.effect + q * paired,
                details={},
            )
            self.add(scenario, old, truth)
        if not e.estimable or e.effect is None:
            self.rows.setdefault((scenario, e.method), {}).setdefault("skipped", []).append(1)
            return
        r = self.rows.setdefault((scenario, e.method), {})
        if truth is None:  # no effect injected
            r.setdefault("claims", []).append(float(e.excludes_zero()))
            return
        r.setdefault("truth", []).append(truth)
        r.setdefault("error", []).append(e.effect - truth)
        r.setdefault("covers", []).append(float(e.covers(truth)))
        r.setdefault("width", []).append(float((e.ci_high or 0) - (e.ci_low or 0)))
        r.setdefault("detects", []).append(float(e.excludes_zero()))

    def table(self) -> str:
        lines = [
            "| scenario | method | injected effect (mean) | bias | coverage of 95% CI "
            "(± MC s.e.) | mean CI width | detects effect | false positives, no effect "
            "(± MC s.e.) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        pairs = sorted({(k.removeprefix("null-"), m) for k, m in self.rows})
        for scenario, method in pairs:
            r = self.rows.get((scenario, method), {})
            n = self.rows.get((f"null-{scenario}", method), {}).get("claims", [])
            fp = f"{np.mean(n):.1%} ± {mc_error(n):.1%} ({len(n)})" if n else "-"
            if "covers" not in r:
                lines.append(f"| {scenario} | {method} | - | - | - | - | - | {fp} |")
                continue
            c = r["covers"]
            lines.append(
                f"| {scenario} | {method} | {np.mean(r['truth']):.4f} "
                f"| {np.mean(r['error']):+.4f} | {np.mean(c):.1%} ± {mc_error(c):.1%} ({len(c)}) "
                f"| {np.mean(r['width']):.4f} | {np.mean(r['detects']):.0%} | {fp} |"
            )
        return "\n".join(lines)


def cohort_truth(
    before: duckdb.DuckDBPyConnection,
    after: duckdb.DuckDBPyConnection,
    e: Effect,
    on: dict[str, date],
) -> float:
    """Mean admissions removed per matched enrolled person over 12 months from their date."""
    dates = {p: on[p] for p in dict.fromkeys(e.sample)}
    b, a = admissions_12m(before, dates), admissions_12m(after, dates)
    return float(np.mean([a[p] - b[p] for p in e.sample]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--population", type=int, default=48_000)
    ap.add_argument("--area-effect", type=float, default=-0.15)
    ap.add_argument("--cohort-effect", type=float, default=-0.25)
    ap.add_argument("--cohort-size", type=int, default=400)
    ap.add_argument(
        "--scenarios",
        default="area,cohort",
        help="comma-separated: area, cohort, staggered-area, staggered-cohort "
        "(each also run with no effect)",
    )
    ap.add_argument(
        "--area-methods",
        default="its,did,synthetic",
        help="methods run on the area scenario (comma-separated; the synthetic control is "
        "the slowest)",
    )
    ap.add_argument("--report-every", type=int, default=0, help="print the table every N seeds")
    args = ap.parse_args()
    area_methods = args.area_methods.split(",")
    scenarios = set(args.scenarios.split(","))
    unknown = scenarios - {"area", "cohort", "staggered-area", "staggered-cohort"}
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    params = preset("rutland").with_population(args.population)
    params = params.model_copy(
        update={"area": params.area.model_copy(update={"residents_per_practice": 2000})}
    )
    rec = Recorder()
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        if scenarios & {"area", "cohort"}:
            tables = build_tables(params, YEARS, seed, lambda _s: None)
            rng = np.random.default_rng([seed, 99])
            practices = sorted(set(tables["residents"]["gp_practice"].to_pylist()))
            treated = sorted(rng.choice(practices, size=4, replace=False).tolist())
            con = store_of(tables)
            enrolled = choose_enrolled(con, args.cohort_size, rng)
            methods: list[str] = []
            if "area" in scenarios:
                methods += area_methods
            if "cohort" in scenarios:
                methods.append("matched")
            spec = EvaluationSpec.model_validate(
                {
                    "change_date": CHANGE,
                    "treated": treated,
                    "enrolled": enrolled,
                    "methods": methods,
                }
            )
            for e in evaluate_con(con, spec).effects:  # null: no effect injected
                kind = "cohort" if e.method == COHORT_METHOD else "area"
                rec.add(f"null-{kind}", e, None)
            if "area" in scenarios:
                area, info = inject(
                    tables,
                    InjectedEffect(
                        start=CHANGE, relative_change=args.area_effect, practices=treated
                    ),
                    seed,
                )
                con_a = store_of(area)
                truth = removed_rate(con_a, info.by_month, treated)
                spec_a = spec.model_copy(update={"methods": area_methods})
                for e in evaluate_con(con_a, spec_a).effects:
                    rec.add("area", e, truth)
            if "cohort" in scenarios:
                cut, _ = inject(
                    tables,
                    InjectedEffect(
                        start=CHANGE, relative_change=args.cohort_effect, nhs_numbers=enrolled
                    ),
                    seed,
                )
                con_c = store_of(cut)
                spec_c = spec.model_copy(update={"methods": ["matched"]})
                for e in evaluate_con(con_c, spec_c).effects:
                    on = dict.fromkeys(enrolled, CHANGE)
                    rec.add("cohort", e, cohort_truth(con, con_c, e, on) if e.sample else 0.0)
        if scenarios & {"staggered-area", "staggered-cohort"}:
            staggered(args, scenarios, params, seed, rec)
        print(f"seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
        if args.report_every and (seed - args.first_seed + 1) % args.report_every == 0:
            print(rec.table(), flush=True)

    print(f"\n{args.seeds} seeds, {args.population:,} residents, {time.perf_counter() - t0:.0f} s")
    print(
        f"area effect {args.area_effect:+.0%} in 4 practices; cohort effect "
        f"{args.cohort_effect:+.0%} in {args.cohort_size} enrolled people\n"
    )
    print(rec.table())


def staggered(
    args: argparse.Namespace, scenarios: set[str], params: SynthParams, seed: int, rec: Recorder
) -> None:
    """The staggered scenarios of one seed (four financial years)."""
    tables = build_tables(params, STAGGERED_YEARS, seed, lambda _s: None)
    rng = np.random.default_rng([seed, 98])
    con = store_of(tables)
    if "staggered-area" in scenarios:
        practices = sorted(set(tables["residents"]["gp_practice"].to_pylist()))
        treated = sorted(rng.choice(practices, size=4, replace=False).tolist())
        early, late = treated[:2], treated[2:]
        spec = EvaluationSpec(
            change_date=CHANGE,
            treated=treated,
            starts=dict.fromkeys(early, EARLY),
            methods=["did"],
        )
        for e in evaluate_con(con, spec).effects:
            rec.add("null-staggered-area", e, None)
        effects = [
            InjectedEffect(start=EARLY, relative_change=args.area_effect, practices=early),
            InjectedEffect(start=CHANGE, relative_change=args.area_effect, practices=late),
        ]
        cut, truth_table = apply_effects(tables, effects, seed)
        con_a = store_of(cut)
        removed = exposure = 0.0
        for k, (effect, group) in enumerate(zip(effects, (early, late), strict=True)):
            rows = truth_table.filter(pc.equal(truth_table["effect"], k)).to_pylist()
            by_month = {r["month"]: r["changed_spells"] for r in rows} or {effect.start: 0}
            by_month.setdefault(effect.start, 0)
            r, x = removed_and_exposure(con_a, by_month, group)
            removed, exposure = removed + r, exposure + x
        for e in evaluate_con(con_a, spec).effects:
            rec.add("staggered-area", e, removed / exposure * 1000)
    if "staggered-cohort" in scenarios:
        per_batch = args.cohort_size // len(BATCHES)
        chosen: dict[str, date] = {}
        for when in BATCHES:
            batch = choose_enrolled(con, per_batch, rng, when, frozenset(chosen))
            chosen.update(dict.fromkeys(batch, when))
        spec = EvaluationSpec(
            change_date=CHANGE,
            enrolled=list(chosen),
            enrolment_dates=chosen,
            methods=["matched"],
        )
        for e in evaluate_con(con, spec).effects:
            rec.add("null-staggered-cohort", e, None)
        effects = [
            InjectedEffect(
                start=when,
                relative_change=args.cohort_effect,
                nhs_numbers=[p for p, d in chosen.items() if d == when],
            )
            for when in BATCHES
        ]
        cut, _ = apply_effects(tables, effects, seed)
        con_c = store_of(cut)
        for e in evaluate_con(con_c, spec).effects:
            rec.add("staggered-cohort", e, cohort_truth(con, con_c, e, chosen) if e.sample else 0.0)


if __name__ == "__main__":
    main()
