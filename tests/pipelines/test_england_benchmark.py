"""benchmarks/england.py's options, its CPU accounting of child processes, its comparison.

No benchmark is run here (no Spark, no synthesis): the command line, the /proc sampling
that adds the JVM's CPU to a Spark step's, and the row-for-row check of two backends'
metrics, each on a case worked by hand.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "england.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("england_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_backend_defaults_to_duckdb_and_takes_spark(bench: ModuleType) -> None:
    assert bench.parse_args([]).backend == "duckdb"
    args = bench.parse_args(["--backend", "spark", "--scale", "0.1", "--compare"])
    assert (args.backend, args.scale, args.compare) == ("spark", 0.1, True)


def test_an_unknown_backend_is_refused_with_exit_2(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(["--backend", "flink"])
    assert exit_.value.code == 2
    assert "invalid choice: 'flink'" in capsys.readouterr().err


def test_a_scale_of_zero_is_refused(bench: ModuleType) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(["--scale", "0"])
    assert exit_.value.code == 2


def test_the_cpu_of_a_child_process_is_counted(bench: ModuleType) -> None:
    """A child that spins for 0.6 CPU-seconds adds at least 0.5 s to the tree's CPU."""
    tree = bench.Tree(every=0.05)
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
    child = subprocess.Popen([sys.executable, "-c", spin])
    time.sleep(0.3)
    tree.sample()  # seen alive at least once (sampled every 0.05 s besides)
    child.wait()
    figures = tree.finish()
    assert figures["child_cpu"] >= 0.5
    assert figures["jvm_cpu"] == 0.0  # no process named java started since
    assert figures["processes"] >= 1


def test_a_process_running_before_the_tree_is_not_counted(bench: ModuleType) -> None:
    """A child already spinning when the tree starts (a Spark session's JVM) is not the step's."""
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.8: pass\n"
    child = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.3)
        tree = bench.Tree(every=0.05)
        time.sleep(0.2)
        tree.sample()
    finally:
        child.wait()
    figures = tree.finish()
    assert figures["child_cpu"] == 0.0
    assert figures["processes"] == 0


def test_own_cpu_read_from_proc_matches_process_time(bench: ModuleType) -> None:
    t = time.process_time()
    while time.process_time() - t < 0.3:
        pass
    stat = bench._stat(__import__("os").getpid())
    assert stat is not None
    assert abs(stat[1] - time.process_time()) < 0.1


def _metrics(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["nel_admissions", "nel_admissions"],
            "hwb_code": ["E06000016", "E06000017"],
            "period": ["2016-04", "2016-04"],
            "value": [12.0, value],
        }
    )


def test_equal_metrics_compare_equal_in_any_row_order(bench: ModuleType, tmp_path: Path) -> None:
    duck, spark = tmp_path / "d.parquet", tmp_path / "s.parquet"
    _metrics(7.0).to_parquet(duck)
    _metrics(7.0).iloc[::-1].to_parquet(spark)
    assert bench.step_compare(duck, spark) == {"equal": True, "rows": 2}


def test_a_value_off_by_one_in_a_million_is_reported(bench: ModuleType, tmp_path: Path) -> None:
    duck, spark = tmp_path / "d.parquet", tmp_path / "s.parquet"
    _metrics(7.0).to_parquet(duck)
    _metrics(7.000007).to_parquet(spark)
    result = bench.step_compare(duck, spark)
    assert result["equal"] is False
    assert result["differing"] == {"nel_admissions.value": 1}
