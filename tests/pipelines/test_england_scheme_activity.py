"""A synthetic England store: each board's plan sees only its own scheme activity.

Every area of ``synth --england`` is the Leicestershire preset placed in the area, so
every board has the five schemes ``T3-CRISIS`` ... ``T3-CDU`` under the same
references. Ingested into one store, Leicestershire's example plan must count its own
board's rows only: the feed files themselves give the expected totals.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bettercare.analytics.measure import measure_plan
from bettercare.analytics.scheme_impact import ALL_SCHEMES
from bettercare.data.geography import hwb_by_code
from bettercare.data.ingest import ingest
from bettercare.data.plan_files import load_plan
from bettercare.data.synth.england import generate_england

pytestmark = pytest.mark.slow

LEICESTERSHIRE, LEICESTER = "E10000018", "E06000016"
KEY = b"england-scheme-activity-test-key-" + b"0123456789abcdef" * 3
PLAN = Path(__file__).resolve().parents[2] / "examples" / "leicestershire_2016.yaml"


def test_leicestershires_plan_counts_only_leicestershires_schemes(tmp_path: Path) -> None:
    areas = tuple(hwb_by_code()[c] for c in (LEICESTERSHIRE, LEICESTER))
    feeds = tmp_path / "feeds"
    generate_england(0.002, ["2016/17"], 3, feeds, areas=areas)
    store = tmp_path / "store.duckdb"
    result = ingest(feeds, store, KEY)
    assert result.outcome in ("loaded", "quarantined"), result.file_issues

    by_board = dict(
        duckdb.sql(
            f"SELECT hwb_code, sum(admissions_avoided) FROM '{feeds}/scheme_activity.parquet' "
            "GROUP BY 1"
        ).fetchall()
    )
    assert set(by_board) == {LEICESTERSHIRE, LEICESTER}  # both boards have activity

    schemes = measure_plan(load_plan(PLAN), store, grains=("month",)).schemes["month"]
    year_end = schemes[schemes.period == "2017-03"].set_index("scheme_reference")
    assert year_end.loc[ALL_SCHEMES, "avoided_to_date"] == by_board[LEICESTERSHIRE]
    for ref in ("T3-CRISIS", "T3-OPU", "T3-LUCC", "T3-7DAY", "T3-CDU"):
        assert year_end.loc[ref, "avoided_to_date"] > 0, ref  # the plan's own schemes
