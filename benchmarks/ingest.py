"""Benchmark ingestion: rows/second and peak memory for synthetic feeds.

    python benchmarks/ingest.py                       # 100,000 and 1,000,000 residents
    python benchmarks/ingest.py --sizes 20000 --hwb rutland --format csv
    python benchmarks/ingest.py --sizes 20000 --format national

For each size the synthetic generator writes the feeds (Parquet, CSV with ``--format
csv``, or the national datasets' layouts with ``--format national``: GP registrations,
APC episodes, CLD, ONS estimates as CSV, read by :mod:`bettercare.data.national`) once
into a cache directory, then a fresh child process ingests them into a new store, so the
peak resident memory (``ru_maxrss``) is the ingestion's own. Rows/second is all feed rows
read (for APC episodes: the spells they form) over the wall time of ``ingest()``
(national conversion, validation, pseudonymisation, linkage, writing, one transaction).
Linkage figures are printed too; ``benchmarks/linkage.py`` prints them alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = b"benchmark-key-" + b"0" * 50


def feeds_dir(cache: Path, size: int, hwb: str, years: list[str], fmt: str) -> Path:
    """Generate (once) the synthetic feeds for ``size`` residents."""
    import duckdb

    from bettercare.data.synth import generate, preset
    from bettercare.data.synth.truth import TRUTH_FILE

    out = cache / f"{hwb}-{size}-{'_'.join(y.replace('/', '') for y in years)}"
    if fmt == "national":
        out = out.with_name(out.name + "-national")
    if not (out / "manifest.json").exists():
        generate(
            preset(hwb).with_population(size),
            years,
            42,
            out,
            fmt="national" if fmt == "national" else "internal",
        )
    if fmt in ("parquet", "national"):
        return out
    csv_dir = out.with_name(out.name + "-csv")
    if not (csv_dir / "residents.csv").exists():
        csv_dir.mkdir(exist_ok=True)
        (csv_dir / "_truth").mkdir(exist_ok=True)
        con = duckdb.connect()
        for f in out.glob("*.parquet"):
            con.execute(f"COPY (SELECT * FROM '{f}') TO '{csv_dir / (f.stem + '.csv')}' (HEADER)")
        (csv_dir / TRUTH_FILE).write_bytes((out / TRUTH_FILE).read_bytes())
    return csv_dir


def run_one(directory: Path) -> dict:
    from bettercare.data.ingest import ingest
    from bettercare.data.synth.truth import store_linkage_quality

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = ingest(directory, Path(tmp) / "store" / "store.duckdb", KEY)
        seconds = time.perf_counter() - t0
        store_mb = (Path(tmp) / "store" / "store.duckdb").stat().st_size / 1e6
        truth = store_linkage_quality(Path(tmp) / "store" / "store.duckdb", directory, KEY)
    return {
        "seconds": seconds,
        "outcome": result.outcome,
        "feeds": {
            f.feed: [f.rows_read, f.rows_loaded, f.rows_quarantined, f.rows_opted_out]
            for f in result.feeds
        },
        "linkage": result.linkage | truth,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "store_mb": store_mb,
    }


def report(size: int, fmt: str, r: dict) -> None:
    rows = sum(v[0] for v in r["feeds"].values())
    print(
        f"\n== {size:,} residents ({fmt}): {rows:,} rows in {r['seconds']:.1f} s = "
        f"{rows / r['seconds']:,.0f} rows/s; peak RSS {r['peak_rss_mb']:,.0f} MB; "
        f"store {r['store_mb']:,.1f} MB; outcome {r['outcome']}"
    )
    print(f"{'feed':<24}{'read':>10}{'loaded':>10}{'quarant.':>10}{'opted out':>10}")
    for feed, (read, loaded, quarantined, opted) in r["feeds"].items():
        print(f"{feed:<24}{read:>10,}{loaded:>10,}{quarantined:>10,}{opted:>10,}")
    link = r["linkage"]
    if link.get("linkage_seconds"):
        rest = r["seconds"] - link["linkage_seconds"]
        print(f"without probabilistic linkage: {rest:.1f} s = {rows / rest:,.0f} rows/s")
    if link:
        print(
            f"linkage: {link['records']:,.0f} social care rows, "
            f"{link['linked_nhs_number']:,.0f} by NHS number, "
            f"{link['linked_probabilistic']:,.0f}/{link['needing_probabilistic']:,.0f} "
            f"probabilistic in {link.get('linkage_seconds', 0):.1f} s; "
            f"match rate {link['match_rate']:.4f}; precision "
            f"{link.get('truth_precision', float('nan')):.4f}, recall "
            f"{link.get('truth_recall', float('nan')):.4f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--hwb", default="leicestershire")
    ap.add_argument("--years", nargs="+", default=["2016/17"])
    ap.add_argument("--format", choices=["parquet", "csv", "national"], default="parquet")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bettercare-bench")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    for size in args.sizes:
        directory = feeds_dir(args.cache, size, args.hwb, args.years, args.format)
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(directory)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        report(size, args.format, json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
