"""Benchmark probabilistic linkage at three noise levels against a plain Splink model.

    python benchmarks/linkage.py                         # 20,000 residents, all levels
    python benchmarks/linkage.py --size 50000 --levels realistic
    python benchmarks/linkage.py --scale 100000 300000 1000000   # cost as it grows

``--scale``: for each population size, bettercare's model alone on every social care row
(realistic noise; the records grow with the residents), each size in a fresh child
process so its peak resident memory (``ru_maxrss``) is the linkage's own: records,
residents, candidate pairs, seconds, peak memory, precision, recall and F1, and the
seconds per 1,000 (records + residents), which stays about flat when the cost grows
linearly in the inputs. ``--blocking`` adds the candidate pairs each blocking rule
makes, per record and per resident, at each size, and how many true pairs (a record
and its own resident) the rules keep as candidates.

For each named noise level of the generator (:data:`NOISE_LEVELS`: low, realistic,
high) the synthetic feeds are generated once (cached). *Every* social care row is then
linked probabilistically to the residents as if it had no NHS number (a bigger and
harder test than the ~17% of rows that need it in an ingest); the generator's
``_truth/social_care_person.parquet`` gives each row's true person. Truth is used only
here, to score, never to set a threshold.

* **bettercare**: :func:`bettercare.data.linkage.probabilistic_link` with its defaults
  (links at p >= 0.99 with a clear margin; pairs from 0.5 go to clerical review and are
  *not* counted as links).
* **baseline**: a plain trained Splink model on the same cleaned fields — Splink's own
  ``NameComparison`` x2, ``DateOfBirthComparison``, ``PostcodeComparison``; blocking on
  both names, on date of birth, on postcode; the prior by
  ``estimate_probability_two_random_records_match`` (exact names + DOB, recall 0.7), u
  by random sampling, m by EM (blocked on DOB, then on both names); each record's best
  candidate at p >= 0.5.

Precision = correct links / links; recall = correct links / rows whose person is a
resident; F1 their harmonic mean.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bettercare.data import linkage
from bettercare.data.synth import generate, preset
from bettercare.data.synth.params import NOISE_LEVELS
from bettercare.data.synth.truth import TRUTH_FILE, precision_recall


def feeds(cache: Path, size: int, hwb: str, level: str) -> Path:
    """Generate (once) the feeds for ``size`` residents at noise ``level``."""
    out = cache / f"{hwb}-{size}-{level}"
    if not (out / "manifest.json").exists():
        params = preset(hwb).with_population(size).model_copy(update={"noise": NOISE_LEVELS[level]})
        generate(params, ["2016/17"], 42, out)
    return out


def baseline_link(records: pa.Table, identities: pa.Table, seed: int = 42) -> pa.Table:
    """A plain trained Splink model (see the module docstring); best candidate >= 0.5."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.register("records_raw", records)
    con.register("identities_raw", identities)
    std = linkage.standardise_sql()
    cols = ", ".join(
        f"{std[c]} AS {c}" for c in ("given_name", "family_name", "date_of_birth", "postcode")
    )
    con.execute(
        f"CREATE TABLE rec AS SELECT 'r' || CAST(record_id AS VARCHAR) AS unique_id, {cols} "
        "FROM records_raw"
    )
    con.execute(f"CREATE TABLE ide AS SELECT person_id AS unique_id, {cols} FROM identities_raw")
    db = DuckDBAPI(con)
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("family_name"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.PostcodeComparison("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "family_name"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ],
    )
    linker = Linker(
        [
            db.register("rec", dataset_display_name="records"),
            db.register("ide", dataset_display_name="identities"),
        ],
        settings,
        log_level=logging.ERROR,
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "family_name")
    )
    pred = linker.inference.predict(threshold_match_probability=0.5)
    out = con.sql(
        f"""SELECT CAST(substr(CASE WHEN source_dataset_l = 'records' THEN unique_id_l
                                    ELSE unique_id_r END, 2) AS BIGINT) AS record_id,
                   CASE WHEN source_dataset_l = 'records' THEN unique_id_r
                        ELSE unique_id_l END AS person_id, match_probability
            FROM {pred.physical_name}
            QUALIFY row_number() OVER (PARTITION BY record_id
                                       ORDER BY match_probability DESC, person_id) = 1"""
    ).to_arrow_table()
    con.close()
    return out


def score(con: duckdb.DuckDBPyConnection, links: pa.Table) -> dict[str, float]:
    """Precision, recall and F1 of ``links`` against the truth in ``con``."""
    con.register("links", links)
    tp, n_links, resident = con.execute(
        """SELECT count(*) FILTER (WHERE l.person_id = t.nhs_number),
                  count(l.person_id),
                  count(*) FILTER (WHERE t.nhs_number IN (SELECT person_id FROM ids))
           FROM recs r JOIN truth t USING (service_id)
           LEFT JOIN links l USING (record_id)"""
    ).fetchone()  # type: ignore[misc]
    con.complete()
    con.unregister("links")
    precision, recall = precision_recall(tp, n_links, resident)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"links": n_links, "precision": precision, "recall": recall, "f1": f1}


VARIANTS: dict[str, dict[str, bool]] = {
    "no TF": {"term_frequency": False},
    "no EM": {"em": False},
}


def measure(directory: Path, variants: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """Score both models (and, with ``variants``, bettercare without term-frequency
    adjustment and without EM) on one generated directory."""
    con = duckdb.connect()
    records = con.sql(
        "SELECT row_number() OVER () AS record_id, service_id, given_name, family_name, "
        f"date_of_birth, postcode FROM '{directory}/social_care_services.parquet'"
    ).to_arrow_table()
    identities = con.sql(
        "SELECT nhs_number AS person_id, given_name, family_name, date_of_birth, postcode "
        f"FROM '{directory}/residents.parquet'"
    ).to_arrow_table()
    con.register("recs", records)
    con.register("ids", identities)
    con.execute(f"CREATE TABLE truth AS SELECT * FROM '{directory / TRUTH_FILE}'")
    con.complete()
    rows = records.drop(["service_id"])
    out = []
    start = time.perf_counter()
    res = linkage.probabilistic_link(rows, identities)
    ours = score(con, res.links)
    ours.update(
        review=res.review.num_rows,
        seconds=time.perf_counter() - start,
        est_precision=res.estimated_precision,
        est_recall=res.estimated_recall,
    )
    out.append(("bettercare", ours))
    for name, options in VARIANTS.items() if variants else ():
        start = time.perf_counter()
        res = linkage.probabilistic_link(rows, identities, **options)
        m = score(con, res.links)
        m.update(
            review=res.review.num_rows,
            seconds=time.perf_counter() - start,
            est_precision=res.estimated_precision,
            est_recall=res.estimated_recall,
        )
        out.append((name, m))
    start = time.perf_counter()
    base = score(con, baseline_link(rows, identities))
    base.update(review=0, seconds=time.perf_counter() - start)
    base.update(est_precision=float("nan"), est_recall=float("nan"))
    out.append(("baseline", base))
    return out


def scale_one(directory: Path, memory_limit: str | None, blocking: bool = False) -> dict[str, Any]:
    """bettercare's model alone on ``directory`` (run in a child process).

    ``blocking``: also count the candidate pairs each blocking rule adds (exact, after
    the linkage; its seconds are not the linkage's).
    """
    con = duckdb.connect()
    records = con.sql(
        "SELECT row_number() OVER () AS record_id, service_id, given_name, family_name, "
        f"date_of_birth, postcode FROM '{directory}/social_care_services.parquet'"
    ).to_arrow_table()
    identities = con.sql(
        "SELECT nhs_number AS person_id, given_name, family_name, date_of_birth, postcode "
        f"FROM '{directory}/residents.parquet'"
    ).to_arrow_table()
    con.register("recs", records)
    con.register("ids", identities)
    con.execute(f"CREATE TABLE truth AS SELECT * FROM '{directory / TRUTH_FILE}'")
    con.complete()
    start, cpu = time.perf_counter(), time.process_time()
    res = linkage.probabilistic_link(
        records.drop(["service_id"]), identities, memory_limit=memory_limit
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    out: dict[str, Any] = score(con, res.links)
    out.update(
        records=records.num_rows,
        residents=identities.num_rows,
        pairs=res.candidate_pairs,
        seconds=seconds,
        cpu=cpu,
        stages=res.stage_cpu_seconds,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    if blocking:
        rows = records.drop(["service_id"])
        out["blocking"] = linkage.blocking_pairs(rows, identities)
        con.register("candidates", linkage.candidate_pairs(rows, identities))
        out["true_pairs"], out["true_kept"] = con.execute(
            """SELECT count(*), count(c.person_id)
               FROM recs r JOIN truth t USING (service_id)
               LEFT JOIN candidates c ON c.record_id = r.record_id AND c.person_id = t.nhs_number
               WHERE t.nhs_number IN (SELECT person_id FROM ids)"""
        ).fetchone()  # type: ignore[misc]
        con.complete()
    return out


def scale(
    sizes: list[int], cache: Path, hwb: str, memory_limit: str | None, blocking: bool = False
) -> None:
    """Print the linkage's cost at each population size (one child process each).

    ``blocking``: then the candidate pairs per record and per resident, by blocking rule,
    at each size (they stay about flat per record when the blocking grows linearly).
    """
    print(
        f"{'residents':>10}{'records':>9}{'pairs':>11}{'seconds':>9}{'CPU s':>8}{'s/1k in':>9}"
        f"{'peak MB':>9}{'precision':>11}{'recall':>8}{'F1':>8}  CPU s by stage"
    )
    found: list[dict[str, Any]] = []
    for size in sizes:
        directory = feeds(cache, size, hwb, "realistic")
        cmd = [sys.executable, __file__, "--scale-one", str(directory)]
        if memory_limit:
            cmd += ["--memory-limit", memory_limit]
        if blocking:
            cmd += ["--blocking"]
        child = subprocess.run(
            cmd,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        m = json.loads(child.stdout.strip().splitlines()[-1])
        per_k = m["seconds"] / ((m["records"] + m["residents"]) / 1000)
        stages = ", ".join(f"{k} {v:.1f}" for k, v in m["stages"].items())
        print(
            f"{m['residents']:>10,}{m['records']:>9,}{m['pairs']:>11,}{m['seconds']:>9.1f}{m['cpu']:>8.1f}"
            f"{per_k:>9.3f}{m['peak_mb']:>9,.0f}{m['precision']:>11.4f}{m['recall']:>8.4f}"
            f"{m['f1']:>8.4f}  {stages}",
            flush=True,
        )
        found.append(m)
    if blocking:
        print("\ncandidate pairs by blocking rule (pairs not already blocked by an earlier rule)")
        print(
            f"{'residents':>10}{'records':>9}{'pairs':>11}{'per record':>11}"
            f"{'per resident':>13}  rule"
        )
        for m in found:
            print(
                f"{m['residents']:>10,}{m['records']:>9,}  true pairs (record, its resident) "
                f"kept as candidates: {m['true_kept']:,} of {m['true_pairs']:,}"
            )
            per_rule = [("all rules", "", sum(n for _, _, n in m["blocking"])), *m["blocking"]]
            for rule, joined_on, n in per_rule:
                print(
                    f"{m['residents']:>10,}{m['records']:>9,}{n:>11,}{n / m['records']:>11.2f}"
                    f"{n / m['residents']:>13.4f}  {rule}"
                    + (f"  [hash join on: {joined_on}]" if joined_on else "")
                )


def main() -> None:
    """Run the benchmark and print one table row per noise level and model."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--hwb", default="leicestershire")
    ap.add_argument("--levels", nargs="+", default=list(NOISE_LEVELS), choices=list(NOISE_LEVELS))
    ap.add_argument(
        "--variants", action="store_true", help="also bettercare without TF, without EM"
    )
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bettercare-bench")
    ap.add_argument("--scale", type=int, nargs="+", metavar="RESIDENTS", help="cost at these sizes")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB's, for --scale")
    ap.add_argument(
        "--blocking", action="store_true", help="with --scale: candidate pairs by blocking rule"
    )
    ap.add_argument("--scale-one", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scale_one:
        print(json.dumps(scale_one(args.scale_one, args.memory_limit, args.blocking)))
        return
    if args.scale:
        scale(args.scale, args.cache, args.hwb, args.memory_limit, args.blocking)
        return
    print(
        f"{'level':<10}{'model':<12}{'links':>7}{'precision':>11}{'recall':>8}{'F1':>8}"
        f"{'review':>8}{'est.prec':>10}{'est.rec':>9}{'seconds':>9}"
    )
    for level in args.levels:
        directory = feeds(args.cache, args.size, args.hwb, level)
        for model, m in measure(directory, args.variants):
            print(
                f"{level:<10}{model:<12}{m['links']:>7,}{m['precision']:>11.4f}"
                f"{m['recall']:>8.4f}{m['f1']:>8.4f}{m['review']:>8,}"
                f"{m['est_precision']:>10.4f}{m['est_recall']:>9.4f}{m['seconds']:>9.1f}"
            )


if __name__ == "__main__":
    main()
