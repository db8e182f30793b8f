"""Synthetic data true to each year: no delayed-transfer SitRep rows after February 2020.

The monthly DToC SitRep was paused in March 2020 and never restarted
(bettercare.domain.metric_sources cites the sources). A world spanning 2019/20 and
2020/21 has SitRep rows to February 2020 only, while delays still lengthen hospital stays
(their spells are as before); the metric built on the SitRep says "not
collected after February 2020" for later periods instead of computing zeros.
"""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest

from bettercare.data.synth import generate, preset
from bettercare.domain.metric_sources import not_collected, sources_for


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth") / "leics"
    generate(preset("leicestershire").with_population(20_000), ["2019/20", "2020/21"], 3, d)
    return d


def test_no_sitrep_rows_after_february_2020(out):
    months = pq.read_table(out / "delayed_transfers.parquet").column("census_month").to_pylist()
    assert months, "the SitRep months before March 2020 keep their rows"
    assert max(months) == dt.date(2020, 2, 1)
    assert min(months) <= dt.date(2019, 4, 1)


def test_a_2024_26_world_has_an_empty_sitrep_feed(tmp_path):
    d = tmp_path / "marlbury"
    generate(preset("leicestershire").with_population(5_000), ["2024/25", "2025/26"], 3, d)
    table = pq.read_table(d / "delayed_transfers.parquet")
    assert table.num_rows == 0
    assert "census_month" in table.column_names  # the feed keeps its layout
    spells = pq.read_table(d / "hospital_spells.parquet")
    assert spells.num_rows > 0


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        (dt.date(2020, 2, 1), dt.date(2020, 2, 29), None),
        (dt.date(2020, 3, 1), dt.date(2020, 3, 31), "not collected after February 2020"),
        (dt.date(2019, 4, 1), dt.date(2020, 3, 31), "only partly collected"),
        (dt.date(2024, 4, 1), dt.date(2025, 3, 31), "not collected after February 2020"),
    ],
)
def test_dtoc_periods_after_the_collection_are_not_collected(start, end, says):
    reason = not_collected("delayed_transfers_of_care", start, end)
    assert (reason is None) if says is None else (says in reason)
    assert not_collected("non_elective_admissions", start, end) is None


def test_metric_sources_change_with_the_year():
    """SALT to 2023/24, Client Level Data from 2024/25 (both confirmed); DToC to 2019/20."""

    def collections(metric, fy):
        return [s.collection.split(" (")[0] for s in sources_for(metric, fy)]

    assert collections("permanent_admissions_care_homes_65", "2022/23") == [
        "Short and Long Term support return"
    ]
    assert collections("permanent_admissions_care_homes_65", "2024/25") == [
        "Adult Social Care Client Level Data"
    ]
    assert sources_for("delayed_transfers_of_care", "2019/20")[0].confirmed
    assert sources_for("delayed_transfers_of_care", "2020/21") == []
    (reablement,) = sources_for("reablement_91_days", "2025/26")
    assert not reablement.confirmed
