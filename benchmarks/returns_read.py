"""Time writing and reading back a year-end return (the example plans; small).

Prints seconds per write and per read (the reader parses every XML part with defusedxml
before openpyxl reads the sheets). Run: ``python benchmarks/returns_read.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bettercare.data.plan_files import load_plan
from bettercare.data.returns import read_return
from bettercare.reporting.returns import write_return

EXAMPLES = Path(__file__).parent.parent / "examples"


def main(repeat: int = 5) -> None:
    """Print the mean write and read time of each example's year-end return."""
    for name, fy in (("marlbury_2025.yaml", "2025/26"), ("marlbury_2026.yaml", "2026/27")):
        plan = load_plan(EXAMPLES / name)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ye.xlsx"
            t0 = time.perf_counter()
            for _ in range(repeat):
                write_return(plan, fy, 4, path)
            t1 = time.perf_counter()
            for _ in range(repeat):
                read_return(path, plan)
            t2 = time.perf_counter()
            size = path.stat().st_size
        print(
            f"{name}: write {(t1 - t0) / repeat:.3f} s, read {(t2 - t1) / repeat:.3f} s, "
            f"{size / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()
