"""Benchmark a synthetic England: synthesise, ingest and measure, step by step.

    python benchmarks/england.py                       # 1/100 scale (~570,000 residents)
    python benchmarks/england.py --scale 0.1           # 1/10 (~5.7M): minutes, GBs

Each step runs in a fresh child process so its peak resident memory (``ru_maxrss``) is
its own: ``synth`` (:func:`bettercare.data.synth.england.generate_england`, every HWB
area of England at ``--scale``, cached), ``ingest`` (:func:`bettercare.data.ingest.ingest`
with DuckDB's ``--memory-limit``), ``metrics`` (every metric per HWB per month on DuckDB,
:func:`bettercare.analytics.engine.compute_metrics`). Printed per step: seconds (wall
and the process's CPU: on a shared machine the CPU seconds are the steadier figure),
rows, rows/s and peak memory.
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


def _done(t0: float, cpu: float, rows: int, **extra: object) -> dict:
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - cpu,
        "rows": rows,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **extra,
    }


def step_synth(feeds: Path, scale: float) -> dict:
    from bettercare.data.synth.england import generate_england

    t0, cpu = time.perf_counter(), time.process_time()
    result = generate_england(scale, ["2016/17"], 42, feeds)
    return _done(t0, cpu, sum(result.row_counts.values()), residents=result.residents)


def step_ingest(feeds: Path, store: Path, memory_limit: str) -> dict:
    from bettercare.data.ingest import ingest

    t0, cpu = time.perf_counter(), time.process_time()
    result = ingest(feeds, store, KEY, memory_limit=memory_limit)
    rows = sum(f.rows_read for f in result.feeds)
    return _done(
        t0,
        cpu,
        rows,
        outcome=result.outcome,
        linkage_seconds=result.linkage.get("linkage_seconds", 0.0),
        linkage_cpu=result.linkage.get("linkage_cpu_seconds", 0.0),
        match_rate=result.linkage.get("match_rate", 0.0),
    )


def step_metrics(store: Path) -> dict:
    import duckdb

    from bettercare.analytics.engine import compute_metrics

    con = duckdb.connect(str(store), read_only=True)
    events = sum(
        con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("hospital_spells", "ae_attendances", "social_care_services", "residents")
    )
    con.close()
    t0, cpu = time.perf_counter(), time.process_time()
    result = compute_metrics(store, "month")
    return _done(t0, cpu, events, result_rows=len(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bettercare-bench")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--feeds", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step == "synth":
        print(json.dumps(step_synth(args.feeds, args.scale)))
        return
    if args.step == "ingest":
        print(json.dumps(step_ingest(args.feeds, args.store, args.memory_limit)))
        return
    if args.step == "metrics":
        print(json.dumps(step_metrics(args.store)))
        return

    feeds = args.cache / f"england-{args.scale:g}"
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store" / "store.duckdb"
        steps = ["ingest", "metrics"]
        if not (feeds / "manifest.json").exists():
            steps.insert(0, "synth")
        print(f"England at scale {args.scale:g}: {feeds}")
        print(
            f"{'step':<10}{'seconds':>9}{'CPU s':>8}{'rows':>12}{'rows/s':>10}{'peak MB':>9}  notes"
        )
        for step in steps:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--step",
                    step,
                    "--scale",
                    str(args.scale),
                    "--feeds",
                    str(feeds),
                    "--store",
                    str(store),
                    "--memory-limit",
                    args.memory_limit,
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            if out.returncode != 0:  # the step's own last lines say why
                tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-5:])
                sys.exit(f"error: step {step} failed (exit {out.returncode}):\n{tail}")
            m = json.loads(out.stdout.strip().splitlines()[-1])
            notes = {k: v for k, v in m.items() if k not in ("seconds", "cpu", "rows", "peak_mb")}
            print(
                f"{step:<10}{m['seconds']:>9.1f}{m['cpu']:>8.1f}{m['rows']:>12,}"
                f"{m['rows'] / m['seconds']:>10,.0f}{m['peak_mb']:>9,.0f}  {notes}",
                flush=True,
            )


if __name__ == "__main__":
    main()
