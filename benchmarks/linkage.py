"""Benchmark probabilistic linkage on synthetic truth: precision, recall, match rate, time.

    python benchmarks/linkage.py                       # 100,000 and 1,000,000 residents
    python benchmarks/linkage.py --sizes 20000 --hwb rutland

Records are the social care rows whose NHS number is missing or fails modulus 11;
identities are the residents (raw NHS number as the id: in memory, benchmark only). The
generator's ``_truth/social_care_person.parquet`` gives each row's true NHS number.
Precision = correct links / links; recall = correct links / records whose person is a
resident. Three parameter settings are compared: the documented priors only; priors
with u re-estimated by random sampling (the ingest default for >= 10,000 residents);
and u sampling plus m by expectation maximisation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from ingest import feeds_dir

from bettercare.data import linkage, nhs_numbers
from bettercare.data.synth.truth import TRUTH_FILE, precision_recall

VARIANTS = {
    "priors": {"train_u": False, "em": False},
    "priors + u sampling": {"train_u": True, "em": False},
    "u sampling + EM": {"train_u": True, "em": True},
}


def measure(directory: Path, threshold: float) -> None:
    con = duckdb.connect()
    valid = nhs_numbers.sql_is_valid("nhs_number")
    records = con.sql(
        f"SELECT row_number() OVER () AS record_id, service_id, given_name, family_name, "
        f"date_of_birth, postcode FROM '{directory}/social_care_services.parquet' "
        f"WHERE NOT {valid}"
    ).to_arrow_table()
    identities = con.sql(
        "SELECT nhs_number AS person_id, given_name, family_name, date_of_birth, postcode "
        f"FROM '{directory}/residents.parquet'"
    ).to_arrow_table()
    con.register("recs", records)
    con.register("ids", identities)
    con.execute(f"CREATE TABLE truth AS SELECT * FROM '{directory / TRUTH_FILE}'")
    total_sc = con.execute(
        f"SELECT count(*) FROM '{directory}/social_care_services.parquet'"
    ).fetchall()[0][0]
    print(
        f"{records.num_rows:,} of {total_sc:,} social care rows need probabilistic linkage; "
        f"{identities.num_rows:,} residents; threshold {threshold}"
    )
    print(
        f"{'parameters':<22}{'links':>8}{'precision':>11}{'recall':>9}{'match rate':>12}"
        f"{'pairs':>10}{'seconds':>9}"
    )
    for name, opts in VARIANTS.items():
        res = linkage.probabilistic_link(
            records.drop(["service_id"]), identities, threshold, **opts
        )
        con.register("links", res.links)
        tp, links, resident = con.execute(
            """SELECT count(*) FILTER (WHERE l.person_id = t.nhs_number),
                      count(l.person_id),
                      count(*) FILTER (WHERE t.nhs_number IN (SELECT person_id FROM ids))
               FROM recs r JOIN truth t USING (service_id)
               LEFT JOIN links l USING (record_id)"""
        ).fetchall()[0]
        con.unregister("links")
        precision, recall = precision_recall(tp, links, resident)
        rate = links / records.num_rows if records.num_rows else float("nan")
        print(
            f"{name:<22}{links:>8,}{precision:>11.4f}{recall:>9.4f}{rate:>12.4f}"
            f"{res.candidate_pairs:>10,}{res.seconds:>9.1f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--hwb", default="leicestershire")
    ap.add_argument("--years", nargs="+", default=["2016/17"])
    ap.add_argument("--threshold", type=float, default=linkage.DEFAULT_THRESHOLD)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bettercare-bench")
    args = ap.parse_args()
    for size in args.sizes:
        print(f"\n== {size:,} residents")
        measure(feeds_dir(args.cache, size, args.hwb, args.years, "parquet"), args.threshold)


if __name__ == "__main__":
    main()
