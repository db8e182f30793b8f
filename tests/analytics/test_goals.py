import pandas as pd
import pytest

from bettercare.analytics.goals import goal_advice, trajectory
from bettercare.data.figures.store import COLUMNS
from bettercare.data.geography import hwb_by_code


def figs(rows):
    out = []
    for r in rows:
        d = dict.fromkeys(COLUMNS) | {"suppressed": False, "area_type": "hwb"} | r
        out.append(d)
    return pd.DataFrame(out, columns=list(COLUMNS))


def test_stable_trajectory_is_the_mean_by_hand():
    # 10 12 11 13 12: mean 11.6; moving ranges 2 1 2 1, mean 1.5;
    # limits 11.6 +/- 2.66 * 1.5 = 7.61 .. 15.59; no special cause.
    projected, (lo, hi), how = trajectory([10, 12, 11, 13, 12], "reablement_91_days")
    assert projected == pytest.approx(11.6)
    assert (lo, hi) == (pytest.approx(7.61), pytest.approx(15.59))
    assert how.startswith("common-cause")


def test_trending_series_projects_the_line():
    # 1..7 rising: a run of 6+ increases is special cause; the line y = x + 1 gives 8 next
    projected, _, how = trajectory([1, 2, 3, 4, 5, 6, 7], "reablement_91_days")
    assert projected == pytest.approx(8.0)
    assert how.startswith("special-cause")


def test_goal_options_in_people_by_hand():
    years = ["2020/21", "2021/22", "2022/23", "2023/24", "2024/25"]
    rows = [
        {
            "metric": "reablement_91_days",
            "area_code": "E06000017",
            "period": y,
            "numerator": float(n),
            "denominator": 1000.0,
        }
        for y, n in zip(years, (100, 120, 110, 130, 120), strict=True)
    ]
    peers = {"E06000015": 200, "E06000016": 140, "E06000018": 160}
    rows += [
        {
            "metric": "reablement_91_days",
            "area_code": c,
            "period": "2024/25",
            "numerator": float(n),
            "denominator": 1000.0,
        }
        for c, n in peers.items()
    ]
    [advice] = goal_advice(figs(rows), "E06000017", list(peers), hwb_by_code())
    assert advice.latest == pytest.approx(12.0) and advice.latest_period == "2024/25"
    by = {o.basis: o for o in advice.options}
    # trajectory 11.6: 0.4 points lower = 0.4% of 1,000 = 4 fewer people at home
    assert by["trajectory"].change_count == pytest.approx(-4.0)
    # peers 20, 14, 16 %: median 16 -> +4 points = 40 people; upper quartile 18 -> 60
    assert by["peer median"].value == pytest.approx(16.0)
    assert by["peer median"].change_count == pytest.approx(40.0)
    assert by["peer best quartile"].value == pytest.approx(18.0)
    assert by["peer best quartile"].change_count == pytest.approx(60.0)
    assert advice.counted == "people at home 91 days after reablement"
