"""How fast the command line answers ``--version`` and ``--help``: wall time and peak memory.

Run: ``python benchmarks/cli_startup.py [runs]``. Prints the median wall time and the
peak resident memory (the child's ru_maxrss) of each command over ``runs`` runs.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time


def measure(args: list[str], runs: int) -> tuple[float, float]:
    """Median seconds and peak MB of ``python -m bettercare <args>``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bettercare", *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(times), peak_kb / 1024


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for args in (["--version"], ["--help"]):
        seconds, mb = measure(args, runs)
        shown = " ".join(args)
        print(f"bettercare {shown}: median {seconds:.2f} s, peak {mb:.0f} MB ({runs} runs)")
