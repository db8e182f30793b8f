"""Benchmark ingestion: rows/second and peak memory for synthetic feeds.

    python benchmarks/ingest.py                       # 100,000 and 1,000,000 residents
    python benchmarks/ingest.py --sizes 20000 --hwb rutland --format csv
    python benchmarks/ingest.py --sizes 20000 --format national

For each size the synthetic generator writes the feeds (Parquet, CSV with ``--format
csv``, or the national datasets' layouts with ``--format national``: GP registrations,
APC episodes, ECDS A&E attendances, CLD, ONS estimates as CSV and the opt-out check's
``.dat`` files, read by :mod:`bettercare.data.national`) once
into a cache directory, then a fresh child process ingests them into a new store, so the
peak resident memory (``ru_maxrss``) is the ingestion's own. Rows/second is all feed rows
read (for APC episodes: the spells they form) over the wall time of ``ingest()``
(national conversion, validation, pseudonymisation, linkage, writing, one transaction).
Linkage figures are printed too; ``benchmarks/linkage.py`` prints them alone. For the
national formats each reader is also timed alone (reading and converting its file into
the internal layout, without the ingest's checks): rows/s per national file.
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


def time_readers(directory: Path) -> dict[str, list[float]]:
    """Each national file's reader alone: {file: [rows, seconds]}.

    Rows are the internal rows the reader gives (APC: spells), for the opt-out check the
    lines of both files it reads.
    """
    from bettercare.data.national import NATIONAL_FILES, OTHER_SUFFIX
    from bettercare.data.national.convert import read_national

    out = {}
    for stem in NATIONAL_FILES:
        path = directory / f"{stem}{OTHER_SUFFIX.get(stem, '.csv')}"
        if path.exists():
            t0 = time.perf_counter()
            table, _ = read_national(path)
            seconds = time.perf_counter() - t0
            rows = table.num_rows
            if path.suffix == ".dat":  # the opt-out check: both files' lines are read
                rows = sum(len(p.read_bytes().splitlines()) for p in directory.glob("ndop_*.dat"))
            out[path.name] = [rows, seconds]
    return out


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
        "readers": time_readers(directory),  # after the ingest: its peak RSS is its own
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
    if r.get("readers"):
        print(f"{'national reader (alone)':<24}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
        for name, (n, secs) in r["readers"].items():
            print(f"{name:<24}{n:>10,}{secs:>10.2f}{n / secs if secs else 0:>12,.0f}")
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
