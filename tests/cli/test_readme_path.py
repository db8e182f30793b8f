"""The README's documented path, run as written through the real command line.

The commands are read from README.md (the first ``bash`` block holding ``bettercare
synth``, ``ingest`` and ``metrics``), so this test breaks when the README changes in a way
that no longer works. Each line runs in a subprocess (``python -m bettercare``) in a
temporary directory whose ``examples/`` is the repository's.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bettercare.data.plan_files import load_plan

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def documented_path(readme: str) -> list[list[str]]:
    """The commands of the first fenced bash block running synth, ingest and metrics."""
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        lines = [ln.strip() for ln in block.replace("\\\n", " ").splitlines() if ln.strip()]
        commands = [shlex.split(ln, comments=True) for ln in lines]
        verbs = [c[1] for c in commands if len(c) > 1 and c[0] == "bettercare"]
        if {"synth", "ingest", "metrics"} <= set(verbs):
            return commands
    raise AssertionError("README.md has no bash block with bettercare synth, ingest, metrics")


def test_documented_path_is_found():
    commands = documented_path(README.read_text(encoding="utf-8"))
    assert all(c[0] == "bettercare" for c in commands)
    metrics = next(c for c in commands if c[1] == "metrics")
    assert "--period" not in metrics  # the point: no extra flags


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    commands = documented_path(README.read_text(encoding="utf-8"))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {k: v for k, v in os.environ.items() if k != "BETTERCARE_PSEUDONYM_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    runs = []
    for command in commands:
        run = subprocess.run(
            [sys.executable, "-m", "bettercare", *command[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"{shlex.join(command)}: {run.stdout}\n{run.stderr}"
        assert "Traceback" not in run.stderr
        runs.append((command, run))
    metrics_cmd, metrics_run = next(r for r in runs if r[0][1] == "metrics")
    out = tmp_path / metrics_cmd[metrics_cmd.index("--out") + 1]
    table = pd.read_csv(out / "metrics.csv")
    assert not table.empty
    assert "non_elective_admissions" in set(table.metric)
    # synth writes spells admitted in Feb/Mar before its first year (2016/17): those
    # months are reported as unmeasurable, not measured and not a failure.
    warning = re.sub(r"\s+", " ", metrics_run.stderr)
    assert re.search(
        r"warning: non_elective_admissions: 2016-02, 2016-03 not measured for HWB "
        r"E10000018: partial period at the edge of the data",
        warning,
    ), warning
    nea = table[(table.metric == "non_elective_admissions") & (table.breakdown == "all")]
    assert nea.period.min() == "2016-04" and nea.period.max() == "2017-03"
    # scheme activity uses the plan's scheme references: every target is tracked
    assert "not in the plan" not in warning and "but no activity" not in warning
    plan = load_plan(ROOT / "examples" / "leicestershire_2016.yaml")
    targeted = {s.reference for s in plan.schemes if any(s.admissions_avoided.values())}
    schemes = pd.read_csv(out / "scheme_impact.csv")
    assert set(schemes.scheme_reference) == targeted | {"all schemes"}
    assert schemes.avoided.sum() > 0
