"""Benchmark a synthetic England: synthesise, ingest and measure, step by step.

    python benchmarks/england.py                       # 1/100 scale (~570,000 residents)
    python benchmarks/england.py --scale 0.1           # 1/10 (~5.7M): minutes, GBs
    python benchmarks/england.py --backend spark       # the ingest and metrics on Spark
    python benchmarks/england.py --scale 0.001 --stores /tmp/e --backend spark --compare

Each step runs in a fresh child process so its peak resident memory (``ru_maxrss``) is
its own: ``synth`` (:func:`bettercare.data.synth.england.generate_england`, every HWB
area of England at ``--scale``, cached in ``--cache``), ``ingest`` and ``metrics``
(every metric per HWB per month, :func:`bettercare.analytics.engine.compute_metrics`).

``--backend duckdb`` (default): :func:`bettercare.data.ingest.ingest` into a DuckDB
store with DuckDB's ``--memory-limit``, the metrics on DuckDB. ``--backend spark``:
:func:`bettercare.data.spark_ingest.ingest` into a Parquet store, the metrics on Spark
from that store (the same ``compute_metrics`` call, ``backend="spark"``), Spark local
(``BETTERCARE_SPARK_MASTER``, default ``local[2]``) with ``--driver-memory``.

Printed per step: seconds (wall and CPU: on a shared machine the CPU seconds are the
steadier figure), rows, rows per CPU-second, peak memory and the load average. For
Spark the JVM is a separate process (pyspark starts ``spark-submit``, which ``exec``\\s
java, as a child of the step's Python process): the step's CPU is the Python process's
(``time.process_time``) plus the user+system CPU of every process below it (the JVM,
its Python workers), read from ``/proc/<pid>/stat`` every 0.2 s and once more at the
end of the step, plus the CPU of the JVM's children it has already waited for (the
launcher); the session's start-up is inside the step. Memory: ``py MB`` is the Python
process's ``ru_maxrss``, ``JVM MB`` the JVM's own high-water mark (``VmHWM`` in
``/proc/<pid>/status``) and ``peak MB`` the largest sum of the resident memory of the
Python process and every process below it seen at one sampling (for DuckDB, which runs
in the Python process, ``peak MB`` is its ``ru_maxrss``).

``--stores DIR`` keeps the stores and each backend's metrics (``metrics-<backend>.parquet``)
there (default: a temporary directory, removed). ``--compare`` then checks that the two
backends' metrics are equal row for row (relative tolerance 1e-9), running the other
backend's ingest and metrics first when its metrics are not in ``--stores`` yet.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

KEY = b"benchmark-key-" + b"0" * 50
BACKENDS = ("duckdb", "spark")
TABLES = ("hospital_spells", "ae_attendances", "social_care_services", "residents")
_TICK = os.sysconf("SC_CLK_TCK")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (an unknown ``--backend`` exits 2 with argparse's message)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--backend", choices=BACKENDS, default="duckdb")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB's memory limit")
    ap.add_argument(
        "--driver-memory",
        default=os.environ.get("BETTERCARE_SPARK_DRIVER_MEMORY", "2g"),
        help="Spark driver memory (local mode: all of Spark's heap)",
    )
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bettercare-bench")
    ap.add_argument("--stores", type=Path, help="keep the stores and metrics here")
    ap.add_argument("--compare", action="store_true", help="check Spark's metrics equal DuckDB's")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--feeds", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.scale <= 0:
        ap.error("--scale must be above 0")
    return args


# --- measuring a step -------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, own CPU s, waited-for children's CPU s) of ``pid``, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    own = (int(fields[11]) + int(fields[12])) / _TICK
    reaped = (int(fields[13]) + int(fields[14])) / _TICK
    return int(fields[1]), own, reaped


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                children.setdefault(st[0], []).append(int(name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Tree:
    """The CPU and memory of every process below this one (the JVM and its workers).

    Only processes started after the tree: one already running (a test runner's Spark
    session, say) is not the step's.
    """

    def __init__(self, every: float = 0.2) -> None:
        self._before = set(_descendants(os.getpid()))
        self.cpu: dict[int, float] = {}  # pid -> own CPU s at its last sampling
        self.reaped: dict[int, float] = {}  # pid -> its waited-for children's CPU s
        self.hwm_kb: dict[int, int] = {}  # pid -> VmHWM
        self.names: dict[int, str] = {}
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def sample(self) -> None:
        me = os.getpid()
        total = _status_kb(me, "VmRSS")
        for pid in _descendants(me):
            if pid in self._before:
                continue
            st = _stat(pid)
            if st is None:
                continue
            self.cpu[pid], self.reaped[pid] = st[1], st[2]
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), _status_kb(pid, "VmHWM"))
            # each time: the pid that becomes the JVM starts as spark-submit's shell
            with contextlib.suppress(OSError):
                self.names[pid] = Path(f"/proc/{pid}/comm").read_text().strip()
            total += _status_kb(pid, "VmRSS")
        self.peak_kb = max(self.peak_kb, total)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.sample()

    def finish(self) -> dict[str, Any]:
        """Stop sampling, sample once more; the tree's CPU and memory figures."""
        self._stop.set()
        self._thread.join()
        self.sample()
        jvms = [p for p, n in self.names.items() if n == "java"]
        # Own CPU of every process seen, plus what the JVMs already waited for (the
        # launcher run by spark-class before it execs java). Python workers are waited
        # for by pyspark's daemon, whose children's CPU is not added: they were sampled.
        cpu = sum(self.cpu.values()) + sum(self.reaped[p] for p in jvms)
        return {
            "child_cpu": cpu,
            "jvm_cpu": sum(self.cpu[p] + self.reaped[p] for p in jvms),
            "jvm_mb": sum(self.hwm_kb[p] for p in jvms) / 1024,
            "tree_mb": self.peak_kb / 1024,
            "processes": len(self.cpu),
        }


def _done(t0: float, cpu: float, rows: int, tree: Tree | None = None, **extra: object) -> dict:
    seconds, own_cpu = time.perf_counter() - t0, time.process_time() - cpu
    py_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, Any] = {"seconds": seconds, "py_cpu": own_cpu, "rows": rows, "py_mb": py_mb}
    if tree is None:
        out.update(cpu=own_cpu, peak_mb=py_mb, jvm_mb=0.0)
    else:
        t = tree.finish()
        out.update(cpu=own_cpu + t["child_cpu"], peak_mb=max(py_mb, t["tree_mb"]), **t)
    out["load"] = os.getloadavg()[0]
    return {**out, **extra}


# --- the steps (each in its own process) ------------------------------------------------


def step_synth(feeds: Path, scale: float) -> dict:
    from bettercare.data.synth.england import generate_england

    t0, cpu = time.perf_counter(), time.process_time()
    result = generate_england(scale, ["2016/17"], 42, feeds)
    return _done(t0, cpu, sum(result.row_counts.values()), residents=result.residents)


def _ingest_notes(result: Any) -> dict[str, Any]:
    notes = {"outcome": result.outcome, "match_rate": result.linkage.get("match_rate", 0.0)}
    if "linkage_seconds" in result.linkage:  # the DuckDB ingest times its linkage
        notes["linkage_seconds"] = result.linkage["linkage_seconds"]
    return notes


def _progress(t0: float) -> Any:
    """The ingest's progress as stderr lines with the seconds since ``t0`` (the log)."""

    def report(stage: str, done: int, total: int) -> None:
        print(f"[{time.perf_counter() - t0:8.1f} s] {done}/{total} {stage}", file=sys.stderr)
        sys.stderr.flush()

    return report


def step_ingest(feeds: Path, store: Path, memory_limit: str) -> dict:
    from bettercare.data.ingest import ingest

    t0, cpu = time.perf_counter(), time.process_time()
    result = ingest(feeds, store, KEY, memory_limit=memory_limit, progress=_progress(t0))
    rows = sum(f.rows_read for f in result.feeds)
    return _done(
        t0,
        cpu,
        rows,
        linkage_cpu=result.linkage.get("linkage_cpu_seconds", 0.0),
        **_ingest_notes(result),
    )


def step_ingest_spark(feeds: Path, store: Path) -> dict:
    from bettercare.data.spark_ingest import ingest
    from bettercare.data.spark_ingest.session import spark_session

    t0, cpu = time.perf_counter(), time.process_time()
    tree = Tree()
    spark = spark_session()
    session_s = time.perf_counter() - t0
    result = ingest(str(feeds), str(store), KEY, spark=spark, progress=_progress(t0))
    rows = sum(f.rows_read for f in result.feeds)
    return _done(t0, cpu, rows, tree, session_s=session_s, **_ingest_notes(result))


def _events(store: Path) -> int:
    from bettercare.analytics.engine.backends import open_store

    with open_store(store) as con:
        return sum(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES)


def step_metrics(store: Path, backend: str, out: Path) -> dict:
    from bettercare.analytics.engine import compute_metrics

    events = _events(store)
    t0, cpu = time.perf_counter(), time.process_time()
    tree = None
    extra: dict[str, Any] = {}
    if backend == "spark":
        from bettercare.analytics.engine import spark_session

        tree = Tree()
        spark_session()
        extra["session_s"] = time.perf_counter() - t0
    result = compute_metrics(store, "month", backend=backend)
    figures = _done(t0, cpu, events, tree, result_rows=len(result), **extra)
    result.attrs = {}  # warnings and unmeasured periods: not Parquet metadata
    result.to_parquet(out)
    return figures


def step_compare(duck: Path, spark: Path) -> dict:
    """Spark's metrics against DuckDB's, row for row (relative tolerance 1e-9)."""
    import numpy as np
    import pandas as pd

    a, b = pd.read_parquet(duck), pd.read_parquet(spark)
    keys = [c for c in a.columns if not pd.api.types.is_numeric_dtype(a[c])]  # metric, hwb, ...
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
        return {"equal": True, "rows": len(a)}
    except AssertionError as exc:
        merged = a.merge(b, on=keys, how="outer", suffixes=("_duckdb", "_spark"), indicator=True)
        only = merged[merged["_merge"] != "both"]
        both = merged[merged["_merge"] == "both"]
        differing: dict[str, int] = {}
        for c in (c for c in a.columns if c not in keys):
            x, y = both[f"{c}_duckdb"], both[f"{c}_spark"]
            if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
                bad = ~np.isclose(x.astype(float), y.astype(float), rtol=1e-9, equal_nan=True)
            else:
                bad = (x != y) & ~(x.isna() & y.isna())
            if bad.any():
                for metric in both.loc[bad, "metric"].unique():
                    differing[f"{metric}.{c}"] = int((bad & (both.metric == metric)).sum())
        return {
            "equal": False,
            "rows": len(a),
            "spark_rows": len(b),
            "unmatched_rows": len(only),
            "differing": differing,
            "first": str(exc).splitlines()[:6],
        }


# --- the run ----------------------------------------------------------------------------


def _child(step: str, args: argparse.Namespace, feeds: Path, stores: Path, backend: str) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env["BETTERCARE_SPARK_DRIVER_MEMORY"] = args.driver_memory
    log = stores / f"{step}-{backend}.log"  # the step's stderr: progress, Spark's log
    with log.open("w") as err:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--step",
                step,
                "--backend",
                backend,
                "--scale",
                str(args.scale),
                "--feeds",
                str(feeds),
                "--stores",
                str(stores),
                "--memory-limit",
                args.memory_limit,
                "--driver-memory",
                args.driver_memory,
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    if out.returncode != 0:  # the step's own last lines say why
        tail = "\n".join(log.read_text().strip().splitlines()[-8:])
        sys.exit(f"error: step {step} ({backend}) failed (exit {out.returncode}):\n{tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


SHOWN = ("seconds", "cpu", "rows", "peak_mb", "py_mb", "jvm_mb", "load")


def _print(step: str, backend: str, m: dict) -> None:
    notes = {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items() if k not in SHOWN}
    print(
        f"{step:<9}{backend:<8}{m['seconds']:>9.1f}{m['cpu']:>9.1f}{m['rows']:>12,}"
        f"{m['rows'] / max(m['cpu'], 1e-9):>12,.0f}{m['py_mb']:>8,.0f}{m['jvm_mb']:>8,.0f}"
        f"{m['peak_mb']:>9,.0f}{m['load']:>6.1f}  {notes}",
        flush=True,
    )


def _store(stores: Path, backend: str) -> Path:
    return stores / ("store.parquet" if backend == "spark" else "store.duckdb")


def _metrics_file(stores: Path, backend: str) -> Path:
    return stores / f"metrics-{backend}.parquet"


def run(args: argparse.Namespace, stores: Path) -> None:
    feeds = args.cache / f"england-{args.scale:g}"
    stores.mkdir(parents=True, exist_ok=True)
    plan = [("ingest", args.backend), ("metrics", args.backend)]
    if args.compare:
        other = "spark" if args.backend == "duckdb" else "duckdb"
        if not _metrics_file(stores, other).exists():
            plan = [("ingest", other), ("metrics", other), *plan]
    if not (feeds / "manifest.json").exists():
        plan.insert(0, ("synth", args.backend))
    print(f"England at scale {args.scale:g}: {feeds}; stores in {stores}")
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{'step':<9}{'backend':<8}{'wall s':>9}{'CPU s':>9}{'rows':>12}{'rows/CPU-s':>12}"
        f"{'py MB':>8}{'JVM MB':>8}{'peak MB':>9}{'load':>6}  notes"
    )
    for step, backend in plan:
        shown = "-" if step == "synth" else backend
        if step == "ingest":  # a fresh store each time (the DuckDB ingest would add to one)
            old = _store(stores, backend)
            if old.is_dir():
                shutil.rmtree(old)
            old.unlink(missing_ok=True)
            Path(f"{old}.wal").unlink(missing_ok=True)
        _print(step, shown, _child(step, args, feeds, stores, backend))
    if args.compare:
        m = _child("compare", args, feeds, stores, args.backend)
        verdict = "equal" if m["equal"] else "NOT equal"
        print(f"Spark's metrics against DuckDB's (rtol 1e-9): {verdict}, {m}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.step:
        stores: Path = args.stores
        store = _store(stores, args.backend)
        if args.step == "synth":
            figures = step_synth(args.feeds, args.scale)
        elif args.step == "ingest" and args.backend == "spark":
            figures = step_ingest_spark(args.feeds, store)
        elif args.step == "ingest":
            figures = step_ingest(args.feeds, store, args.memory_limit)
        elif args.step == "metrics":
            figures = step_metrics(store, args.backend, _metrics_file(stores, args.backend))
        elif args.step == "compare":
            figures = step_compare(_metrics_file(stores, "duckdb"), _metrics_file(stores, "spark"))
        else:
            sys.exit(f"error: unknown step {args.step}")
        print(json.dumps(figures))
        return
    if args.stores is not None:
        run(args, args.stores)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
