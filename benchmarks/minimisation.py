"""How identifying are the residents' quasi-identifiers before and after data minimisation?

Generates a synthetic population (``bettercare synth``) and measures, on its residents
feed (what the store held before minimisation, less opted-out people), the share of
residents unique on (date of birth, sex, LSOA) and on (month of birth, sex, LSOA), which
is what the store keeps now, plus the share in groups smaller than 5 (k-anonymity, k=5).

    PYTHONPATH=. python benchmarks/minimisation.py --hwb leicestershire -n 20000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

# label -> columns grouped on
KEYS = {
    "date of birth, sex, LSOA (before)": "date_of_birth, sex, lsoa",
    "month of birth, sex, LSOA (store now)": "date_trunc('month', date_of_birth), sex, lsoa",
    "year of birth, sex, LSOA": "year(date_of_birth), sex, lsoa",
    "month of birth, sex, HWB (no LSOA)": "date_trunc('month', date_of_birth), sex, hwb_code",
    "month of birth, sex, LSOA, practice, IMD, LTCs": (
        "date_trunc('month', date_of_birth), sex, lsoa, gp_practice, imd_decile, ltc_count"
    ),
}


def measure(residents: Path) -> list[tuple[str, int, float, float]]:
    con = duckdb.connect()
    out = []
    for label, expr in KEYS.items():
        n, unique, small = con.execute(
            f"""WITH g AS (SELECT {expr}, count(*) AS k FROM '{residents}' GROUP BY ALL)
                SELECT sum(k), sum(k) FILTER (WHERE k = 1), sum(k) FILTER (WHERE k < 5)
                FROM g"""
        ).fetchone()
        out.append((label, int(n), (unique or 0) / n, (small or 0) / n))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hwb", default="leicestershire")
    ap.add_argument("-n", "--population", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "bettercare",
            "synth",
            "--hwb",
            args.hwb,
            "-n",
            str(args.population),
            "--seed",
            str(args.seed),
            "-o",
            tmp,
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        lsoas = (
            duckdb.connect()
            .execute(f"SELECT count(DISTINCT lsoa) FROM '{tmp}/residents.parquet'")
            .fetchone()[0]
        )
        print(f"{args.hwb}, -n {args.population}, seed {args.seed}: {lsoas} LSOAs")
        for label, n, unique, small in measure(Path(tmp) / "residents.parquet"):
            print(
                f"  {label:48s} residents {n:7d}  unique {unique:6.1%}  in groups <5 {small:6.1%}"
            )


if __name__ == "__main__":
    main()
