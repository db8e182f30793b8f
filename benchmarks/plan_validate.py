"""Benchmark plan validation: seconds to read, check and locate a large plan file.

    python benchmarks/plan_validate.py                 # ~6 MB plan
    python benchmarks/plan_validate.py --mb 2 --keep /tmp/big.yaml

Builds a plan from ``examples/leicestershire_2016.yaml`` with thousands of extra schemes,
funding lines and risks (each carrying a planning-rule finding, so locating findings is
measured too), writes it as YAML and times what ``bettercare plan validate`` does: load
(YAML, models), run the planning rules and attach file and line to every finding. Real
plans are tens of kilobytes; this is the size to validate "in seconds".
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import yaml

from bettercare.data.plan_files import load_plan_with_lines, locate
from bettercare.domain.rules import check_plan

EXAMPLE = Path(__file__).parent.parent / "examples" / "leicestershire_2016.yaml"


def big_plan(target_bytes: int) -> str:
    """The example plan grown with schemes, funding lines and risks to ``target_bytes``."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    fy = data["financial_years"][0]
    base = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    scheme = {
        "reference": "X{n}",
        "name": "Generated scheme {n}: integrated community support for older people",
        "area_of_spend": "community_health",
        "commissioner": "joint",
        "provider": "Generated community provider {n}",
        "funding_source": "ccg_minimum",
        "spend": {fy: 1000},
        "description": "A scheme generated for the benchmark; its text is about as long "
        "as a real scheme description in a Part 2 template.",
    }
    risk = {
        "id": "XR{n}",
        "description": "Generated risk {n}: demand exceeds capacity",
        "likelihood": 3,
        "impact": 4,
        "score": 11,
    }  # 11 != 12: one finding each
    one = len(yaml.safe_dump([scheme, risk], sort_keys=False))
    n = max(1, (target_bytes - len(base)) // one)
    schemes = [
        {k: (v.format(n=i) if isinstance(v, str) else v) for k, v in scheme.items()}
        for i in range(n)
    ]
    risks = [
        {k: (v.format(n=i) if isinstance(v, str) else v) for k, v in risk.items()} for i in range(n)
    ]
    data["schemes"] = data.get("schemes", []) + schemes
    data["risks"] = data.get("risks", []) + risks
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=6.0, help="plan size in megabytes")
    ap.add_argument("--keep", type=Path, help="also write the generated plan here")
    args = ap.parse_args()
    text = big_plan(int(args.mb * 1024 * 1024))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big_plan.yaml"
        path.write_text(text, encoding="utf-8")
        t0, c0 = time.perf_counter(), time.process_time()
        plan, lines = load_plan_with_lines(path)
        t1 = time.perf_counter()
        findings = locate(check_plan(plan), path, lines)
        t2, c2 = time.perf_counter(), time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"plan: {len(text) / 1e6:.1f} MB, {len(plan.schemes):,} schemes, "
        f"{len(plan.risks):,} risks, {len(findings):,} findings"
    )
    print(
        f"load {t1 - t0:.2f} s, rules and locating {t2 - t1:.2f} s, total {t2 - t0:.2f} s "
        f"(CPU {c2 - c0:.2f} s), peak memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
