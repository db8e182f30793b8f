"""Benchmark ingestion: rows/second and peak memory for synthetic feeds.

    python benchmarks/ingest.py                       # 100,000 and 1,000,000 residents
    python benchmarks/ingest.py --sizes 20000 --hwb rutland --format csv
    python benchmarks/ingest.py --sizes 20000 --format national
    python benchmarks/ingest.py --sizes 20000 100000 --format parquet national  # side by side

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

**The floor**: in the same run, another fresh child process reads the same Parquet files,
replaces each NHS number by its keyed pseudonym in DuckDB's Arrow UDF (the one the
ingest uses, :func:`bettercare.data.pseudonymise.register_udf`), drops the other direct
identifiers and writes each feed's table into a new DuckDB file: no checks, no opt-outs,
no linkage, one transaction. Printed: bettercare's seconds against the floor's, with
and without linkage, and both peak memories. Both get the same DuckDB ``--memory-limit``
(default 1 GB) and spill directory. ``--no-floor`` leaves it out.
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


def floor_one(directory: Path, memory_limit: str) -> dict:
    """The floor: read, pseudonymise, write; no checks (run in a child process)."""
    from bettercare.data import duck, pseudonymise
    from bettercare.data.schema import FEEDS

    with tempfile.TemporaryDirectory() as tmp:
        t0, cpu = time.perf_counter(), time.process_time()
        con = duck.connect(Path(tmp) / "floor.duckdb")
        con.execute(f"SET temp_directory = '{tmp}/spill'")
        con.execute("SET memory_limit = ?", [memory_limit])
        pseudonymise.register_udf(con, KEY)
        con.execute("BEGIN TRANSACTION")
        rows = 0
        for feed in FEEDS.values():
            path = directory / f"{feed.name}.parquet"
            if not path.exists():
                continue
            drop = [c.name for c in feed.columns if c.identifier]
            exclude = f" EXCLUDE ({', '.join(drop)})" if drop else ""
            pid = (
                ", bc_pseudonym(CAST(nhs_number AS VARCHAR)) AS person_id"
                if ("nhs_number" in feed.column_names)
                else ""
            )
            table = feed.store_table or f"floor_{feed.name}"
            con.execute(
                f"CREATE TABLE {table} AS SELECT *{exclude}{pid} FROM read_parquet('{path}')"
            )
            rows += con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        con.execute("COMMIT")
        con.close()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_one(directory: Path, memory_limit: str) -> dict:
    from bettercare.data.ingest import ingest
    from bettercare.data.synth.truth import store_linkage_quality

    with tempfile.TemporaryDirectory() as tmp:
        t0, cpu = time.perf_counter(), time.process_time()
        result = ingest(
            directory, Path(tmp) / "store" / "store.duckdb", KEY, memory_limit=memory_limit
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
        store_mb = (Path(tmp) / "store" / "store.duckdb").stat().st_size / 1e6
        truth = store_linkage_quality(Path(tmp) / "store" / "store.duckdb", directory, KEY)
    return {
        "seconds": seconds,
        "cpu": cpu,
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


def report_floor(r: dict, floor: dict) -> None:
    """bettercare against the floor: seconds (wall and CPU), ratios, peak memory."""
    link_s = r["linkage"].get("linkage_seconds", 0.0)
    link_cpu = r["linkage"].get("linkage_cpu_seconds", 0.0)
    print(
        f"floor (read, pseudonymise, write): {floor['rows']:,} rows in {floor['seconds']:.1f} s "
        f"(CPU {floor['cpu']:.1f} s); peak RSS {floor['peak_rss_mb']:,.0f} MB"
    )
    for label, secs, base in (
        ("wall", r["seconds"], floor["seconds"]),
        ("CPU", r["cpu"], floor["cpu"]),
    ):
        less = link_s if label == "wall" else link_cpu
        print(
            f"bettercare / floor ({label}): with linkage {secs / base:.2f}x "
            f"({secs:.1f} s / {base:.1f} s); without linkage {(secs - less) / base:.2f}x "
            f"({secs - less:.1f} s)"
        )


def report_rates(rates: list[tuple[int, str, dict]]) -> None:
    """The formats side by side: rows per second of wall and of CPU, with and without linkage.

    Rows are the internal rows each ingest read (for APC episodes: the spells they form),
    so the layouts are compared on the same records.
    """
    print(
        f"\n{'residents':>10} {'format':<9}{'rows':>10}{'wall s':>8}{'CPU s':>8}{'rows/s':>9}"
        f"{'rows/CPU-s':>11}{'  without linkage: rows/CPU-s':>30}"
    )
    for size, fmt, r in rates:
        rows = sum(v[0] for v in r["feeds"].values())
        rest = r["cpu"] - r["linkage"].get("linkage_cpu_seconds", 0.0)
        print(
            f"{size:>10,} {fmt:<9}{rows:>10,}{r['seconds']:>8.1f}{r['cpu']:>8.1f}"
            f"{rows / r['seconds']:>9,.0f}{rows / r['cpu']:>11,.0f}{rows / rest:>30,.0f}"
        )


def report(size: int, fmt: str, r: dict) -> None:
    rows = sum(v[0] for v in r["feeds"].values())
    print(
        f"\n== {size:,} residents ({fmt}): {rows:,} rows in {r['seconds']:.1f} s = "
        f"{rows / r['seconds']:,.0f} rows/s; CPU {r['cpu']:.1f} s; "
        f"peak RSS {r['peak_rss_mb']:,.0f} MB; "
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
    ap.add_argument(
        "--format",
        choices=["parquet", "csv", "national"],
        nargs="+",
        default=["parquet"],
        help="one or more: with several, a table compares their rates at each size",
    )
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bettercare-bench")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB's (spills beyond it)")
    ap.add_argument("--no-floor", action="store_true", help="leave out the floor")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.memory_limit)))
        return
    if args.floor:
        print(json.dumps(floor_one(args.floor, args.memory_limit)))
        return

    def child(flag: str, directory: Path) -> dict:
        out = subprocess.run(
            [sys.executable, __file__, flag, str(directory), "--memory-limit", args.memory_limit],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    rates: list[tuple[int, str, dict]] = []
    for size in args.sizes:
        for fmt in args.format:
            directory = feeds_dir(args.cache, size, args.hwb, args.years, fmt)
            r = child("--one", directory)
            report(size, fmt, r)
            rates.append((size, fmt, r))
            if fmt == "parquet" and not args.no_floor:
                report_floor(r, child("--floor", directory))
    if len(args.format) > 1:
        report_rates(rates)


if __name__ == "__main__":
    main()
