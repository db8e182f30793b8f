"""The models' inputs from the tiny hand-built store (tests/metrics_fixtures.py)."""

from __future__ import annotations

import pytest
from metrics_fixtures import A, store_file

from bettercare.analytics.modelling.errors import ModellingInputError
from bettercare.analytics.modelling.pathway import PathwayConfig
from bettercare.analytics.modelling.store_inputs import arrivals_from_store, config_from_store


def _config(hwb: str | None) -> PathwayConfig:
    return PathwayConfig.model_validate(
        {
            "hwb_code": hwb,
            "arrivals": {"per_day": 5},
            "pathways": [
                {
                    "id": "reablement",
                    "name": "Reablement",
                    "service": "discharge_pathway_1",
                    "share": 9,
                    "capacity": 4,
                    "length_of_service": {"kind": "exponential", "mean": 1},
                },
                {
                    "id": "care_home",
                    "name": "Care home",
                    "service": "discharge_pathway_3",
                    "share": 1,
                    "capacity": 4,
                    "length_of_service": {"kind": "exponential", "mean": 1},
                },
            ],
        }
    )


def test_arrivals_by_hand(tmp_path):
    """HWB A: pathway 3 in May 2016, pathway 1 in October; April measured with none.

    2 supported discharges over 30 + 31 + 31 days = 2/92 a day, half to each pathway;
    month weights: April 0, May and October 1/31 a day, the rest the average 2/92.
    Delayed days of A's residents: April 10 + 6 + 5 = 21, May 4.
    """
    store = store_file(tmp_path / "s.duckdb")
    found = arrivals_from_store(store, _config(A))
    assert found.hwb_code == A
    assert found.months == ["2016-04", "2016-05", "2016-10"]
    assert found.arrivals.per_day == pytest.approx(2 / 92)
    assert found.shares == {"reablement": 0.5, "care_home": 0.5}
    month = found.arrivals.month
    assert month["apr"] == 0 and month["may"] == pytest.approx(1 / 31)
    assert month["oct"] == pytest.approx(1 / 31) and month["jan"] == pytest.approx(2 / 92)
    assert found.observed_delayed_days == {"2016-04": 21.0, "2016-05": 4.0}
    cfg = config_from_store(_config(A), found)
    assert [p.share for p in cfg.pathways] == [0.5, 0.5]
    assert cfg.arrivals.per_day == pytest.approx(2 / 92)


def test_a_store_with_two_hwbs_needs_one_named(tmp_path):
    store = store_file(tmp_path / "s.duckdb")
    with pytest.raises(ModellingInputError, match="hwb_code: the store holds 2 HWBs"):
        arrivals_from_store(store, _config(None))
    with pytest.raises(ModellingInputError, match="E99999999 is not in the store"):
        arrivals_from_store(store, _config("E99999999"))
