"""The command line starts at once: importing it loads none of the heavy libraries.

Heavy libraries are imported inside the commands that use them (the house rule for
``bettercare/cli``); this guards it. Start-up time itself is measured by
``benchmarks/cli_startup.py``, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = {"sklearn", "splink", "ibis", "pyspark", "matplotlib", "weasyprint", "scipy"}
#: also kept out of start-up, though lighter: data frames, the stores, the web stack
DEFERRED = {"pandas", "duckdb", "pyarrow", "sqlalchemy", "fastapi", "argon2", "statsmodels"}


def _loaded_after(code: str) -> set[str]:
    listing = "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    script = f"{code}\nimport json, sys\n{listing}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _loaded_after("import bettercare.cli.main")
    assert loaded & HEAVY == set()
    assert loaded & DEFERRED == set()


def test_the_check_sees_a_heavy_import():
    """The subprocess check is not blind: an import of one of them is reported."""
    assert "scipy" in _loaded_after("import bettercare.cli.main\nimport scipy")


def test_version_and_help_answer_without_them():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in (["--version"], ["--help"], ["synth", "--help"], ["risk", "evaluate", "--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "bettercare", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout.strip()


def test_the_listed_names_match_their_definitions():
    """Names the command line lists without loading the models agree with the models."""
    from bettercare.analytics.risk import MODELS
    from bettercare.analytics.risk.model import fit  # noqa: F401  (loads the models)
    from bettercare.data.synth import NOISE_LEVEL_NAMES
    from bettercare.data.synth.params import NOISE_LEVELS

    assert tuple(NOISE_LEVELS) == NOISE_LEVEL_NAMES
    assert set(MODELS) == {"logistic", "gbm"}
