"""Published figures: time to read, validate and load a national publication, and to compare.

Prints figures, asserts nothing. Usage:
``python benchmarks/figures_load.py [--years N] [--monthly]`` (default 3 years, yearly).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bettercare.analytics.published import compare_board
from bettercare.data.figures import load_figures, read_figures, read_figures_file
from bettercare.data.figures.peer_groups import region_peers
from bettercare.data.geography import hwb_by_code
from bettercare.data.synth.publication import synthetic_publication, write_publication


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--monthly", action="store_true", help="the last year also by month")
    args = ap.parse_args()
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(2024 - args.years, 2024)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        frame = synthetic_publication(years, monthly_years=years[-1:] if args.monthly else ())
        csv = write_publication(Path(tmp) / "pub.csv", frame)
        t1 = time.perf_counter()
        result = read_figures_file(csv)
        t2 = time.perf_counter()
        load_figures(result, Path(tmp) / "f.duckdb", str(csv))
        t3 = time.perf_counter()
        figures = read_figures(Path(tmp) / "f.duckdb")
        areas = hwb_by_code()
        rows = compare_board(figures, "E10000018", region_peers(areas)["E10000018"], areas)
        t4 = time.perf_counter()
    print(f"figures: {len(frame):,} ({len(years)} years{', monthly' if args.monthly else ''})")
    print(f"generate + write CSV: {t1 - t0:.2f} s")
    print(f"read + validate:      {t2 - t1:.2f} s ({len(result.rows) / (t2 - t1):,.0f} rows/s)")
    print(f"load into DuckDB:     {t3 - t2:.2f} s")
    print(f"compare one board:    {t4 - t3:.2f} s ({len(rows)} metrics, funnels included)")


if __name__ == "__main__":
    main()
