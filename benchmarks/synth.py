"""Benchmark the synthetic population generator: seconds, rows/second and peak memory.

    python benchmarks/synth.py                      # 100,000 and 1,000,000 residents
    python benchmarks/synth.py --sizes 20000 --hwb rutland --years 2016/17

Each size runs in a fresh child process so its peak resident memory (``ru_maxrss``) is
its own. Rows/second per feed is the feed's rows over the time of the step that
generated it; the total is all rows (feeds only) over the whole run including writing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(size: int, hwb: str, years: list[str], seed: int) -> dict:
    from bettercare.data.synth import generate, preset

    params = preset(hwb).with_population(size)
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:

        def mark(step: str) -> None:
            marks.append((step, time.perf_counter()))

        result = generate(params, years, seed, Path(tmp) / "out", progress=mark)
        total = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*")) / 1e6
    ends = [t for _, t in marks[1:]] + [t0 + total]
    step_seconds = {name: end - t for (name, t), end in zip(marks, ends, strict=True)}
    return {
        "residents": size,
        "seconds": total,
        "rows": result.row_counts,
        "step_seconds": step_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "output_mb": size_mb,
    }


def report(r: dict) -> None:
    rows = r["rows"]
    total_rows = sum(rows.values())
    print(
        f"\n== {r['residents']:,} residents: {r['seconds']:.1f} s, "
        f"{total_rows / r['seconds']:,.0f} rows/s overall, "
        f"peak RSS {r['peak_rss_mb']:,.0f} MB, output {r['output_mb']:,.1f} MB"
    )
    print(f"{'feed / step':<24}{'rows':>12}{'seconds':>10}{'rows/s':>14}")
    for step, secs in r["step_seconds"].items():
        n = rows.get(step)
        rate = f"{n / secs:,.0f}" if n is not None and secs > 0 else ""
        print(f"{step:<24}{'' if n is None else f'{n:,}':>12}{secs:>10.2f}{rate:>14}")
    print(f"{'total':<24}{total_rows:>12,}{r['seconds']:>10.2f}{total_rows / r['seconds']:>14,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--hwb", default="leicestershire")
    ap.add_argument("--years", nargs="+", default=["2016/17"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.sizes[0], args.hwb, args.years, args.seed)))
        return
    print(f"bettercare synth benchmark: {args.hwb}, years {' '.join(args.years)}, seed {args.seed}")
    for size in args.sizes:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--sizes",
            str(size),
            "--hwb",
            args.hwb,
            "--seed",
            str(args.seed),
            "--years",
            *args.years,
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        report(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
