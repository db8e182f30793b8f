"""``measure_plan``: one measuring for the CLI, the board pack and the app (tiny store)."""

from __future__ import annotations

import duckdb
import pytest
from metrics_fixtures import A, store_file

from bettercare.analytics.measure import MeasureError, measure_plan
from bettercare.domain.rag import RagThresholds


@pytest.fixture
def plan(make_plan):
    def tune(data: dict) -> None:
        data["hwb"] = {**data["hwb"], "ons_code": A}
        data["metrics"] = [
            {
                "metric": "delayed_transfers_of_care",
                "baseline": {"period": "2015/16", "value": 25},
                "time_basis": "month",
                "planned": [{"period": "2016/17", "value": 18.0}],
            }
        ]

    return make_plan(tune)


def test_a_plan_measured_by_grain(plan, tmp_path) -> None:
    found = measure_plan(plan, store_file(tmp_path / "store.duckdb"), ("month", "year"))
    assert found.hwb_code == A and set(found.pva) == {"month", "year"}
    month = found.pva["month"]
    dtoc = month[month.metric == "delayed_transfers_of_care"].set_index("period")
    # hand-built store: 20.0 then 5.0 per 100,000 against a plan of 18.0 (lower is better)
    assert dtoc.loc["2016-04", "rag"] == "RED"  # 11% worse than plan
    assert dtoc.loc["2016-05", "rag"] == "GREEN"
    assert found.p4p is not None  # measured at month grain
    assert found.amber_tolerance_pct == 2.5


def test_a_wider_tolerance_is_used_for_the_rag(plan, tmp_path) -> None:
    wide = RagThresholds(amber_tolerance_pct=15)
    found = measure_plan(plan, store_file(tmp_path / "store.duckdb"), ("month",), thresholds=wide)
    month = found.pva["month"]
    dtoc = month[month.metric == "delayed_transfers_of_care"].set_index("period")
    assert dtoc.loc["2016-04", "rag"] == "AMBER"  # 11% worse is within 15%


def test_without_month_grain_no_p4p(plan, tmp_path) -> None:
    assert measure_plan(plan, store_file(tmp_path / "store.duckdb"), ("year",)).p4p is None


def test_an_empty_store_is_one_line(plan, tmp_path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(MeasureError, match="store has no table"):
        measure_plan(plan, empty)
