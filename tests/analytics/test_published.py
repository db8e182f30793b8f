from pathlib import Path

import pandas as pd
import pytest

from bettercare.analytics.published import (
    benchmark,
    combine,
    england_value,
    grain_of,
    plan_vs_published,
    published_actuals,
)
from bettercare.data.figures.store import COLUMNS
from bettercare.data.geography import hwb_by_code
from bettercare.data.plan_files import load_plan

EXAMPLES = Path(__file__).parents[2] / "examples"


def figs(rows):
    base = dict.fromkeys(COLUMNS)
    out = []
    for r in rows:
        d = dict(base) | {"suppressed": False, "area_type": "hwb", "layout": "bettercare"}
        d |= r
        out.append(d)
    return pd.DataFrame(out, columns=list(COLUMNS))


def test_grains():
    assert [grain_of(p) for p in ("2024-05", "2024/25 Q2", "2024/25", "2018-01..2020-12")] == [
        "month",
        "quarter",
        "year",
        "year",
    ]


def test_published_actuals_leave_suppressed_out_and_say_so():
    f = figs(
        [
            {
                "metric": "emergency_admissions_65",
                "area_code": "E06000017",
                "period": "2024/25",
                "numerator": 2000.0,
                "denominator": 10000.0,
                "value": None,
            },
            {
                "metric": "emergency_admissions_65",
                "area_code": "E06000016",
                "period": "2024/25",
                "suppressed": True,
            },
            {
                "metric": "emergency_admissions_65",
                "area_code": "E06000017",
                "period": "2024-04",
                "numerator": 170.0,
                "denominator": 10000.0,
                "value": 1700.0,
            },
            {
                "metric": "emergency_admissions_65",
                "area_code": "E92000001",
                "area_type": "england",
                "period": "2024/25",
                "numerator": 1.0,
                "denominator": 2.0,
                "value": 1.0,
            },
        ]
    )
    a = published_actuals(f)
    year = a["year"]
    assert list(year.hwb_code) == ["E06000017"]  # England row and the suppressed one left out
    # value derived from numerator / denominator: 2000 / 10000 * 100,000 = 20,000
    assert year.value.iloc[0] == pytest.approx(20_000)
    assert year.source.iloc[0] == "published"
    assert list(a["month"].period) == ["2024-04"]
    assert any("E06000016" in w and "suppressed" in w for w in year.attrs["warnings"])


def test_combine_keeps_the_store_figure_where_both_have_one():
    store = pd.DataFrame(
        {
            "metric": ["emergency_admissions_65"],
            "hwb_code": ["E06000017"],
            "period": ["2024/25"],
            "breakdown": ["all"],
            "numerator": [1.0],
            "denominator": [10.0],
            "value": [10000.0],
        }
    )
    pub = published_actuals(
        figs(
            [
                {
                    "metric": "emergency_admissions_65",
                    "area_code": "E06000017",
                    "period": "2024/25",
                    "numerator": 2.0,
                    "denominator": 10.0,
                    "value": 20000.0,
                },
                {
                    "metric": "emergency_admissions_65",
                    "area_code": "E06000017",
                    "period": "2023/24",
                    "numerator": 3.0,
                    "denominator": 10.0,
                    "value": 30000.0,
                },
            ]
        )
    )
    both = combine({"year": store}, pub)["year"].sort_values("period")
    assert list(zip(both.period, both.value, both.source, strict=True)) == [
        ("2023/24", 30000.0, "published"),
        ("2024/25", 10000.0, "store"),
    ]
    assert any("also measured on the store" in w for w in both.attrs["warnings"])


def test_plan_measured_on_published_figures_alone():
    # Marlbury plans 23,100 emergency admissions 65+ per 100,000 in 2025/26 (per year).
    plan = load_plan(EXAMPLES / "marlbury_2025.yaml")
    f = figs(
        [
            {
                "metric": "emergency_admissions_65",
                "area_code": "E06000017",
                "period": p,
                "numerator": n,
                "denominator": 10_000.0,
                "value": None,
            }
            for p, n in (("2023/24", 2400.0), ("2024/25", 2380.0), ("2025/26", 2350.0))
        ]
    )
    pva = plan_vs_published(published_actuals(f), plan, hwb_code="E06000017")["year"]
    row = pva[pva.period == "2025/26"].iloc[0]
    # 2350 / 10000 * 100,000 = 23,500: worse than 23,100 by 400 = 1.73% <= 2.5% -> AMBER
    assert row.actual == pytest.approx(23_500)
    assert row.rag == "AMBER"
    assert row.source == "published"
    # three annual points: too few for SPC limits (12 needed), said rather than guessed
    assert isinstance(row.spc_note, str) and "too few" in row.spc_note


def test_benchmark_by_hand():
    areas = hwb_by_code()
    # three East Midlands HWBs (NHS Midlands) and one London borough
    vals = {
        "E06000015": (30, 100),
        "E06000016": (20, 100),
        "E06000017": (10, 50),
        "E09000001": (5, 10),
    }
    f = figs(
        [
            {
                "metric": "reablement_91_days",
                "area_code": c,
                "period": "2024/25",
                "numerator": float(n),
                "denominator": float(d),
                "value": None,
            }
            for c, (n, d) in vals.items()
        ]
    )
    b = benchmark(
        f,
        "reablement_91_days",
        "2024/25",
        "E06000017",
        ["E06000015", "E06000016", "E09000001"],
        areas,
    )
    assert b.value == pytest.approx(20.0)  # 10 / 50
    # England computed: (30 + 20 + 10 + 5) / (100 + 100 + 50 + 10) = 65 / 260 = 25%
    assert b.england == pytest.approx(25.0)
    assert b.england_basis.startswith("computed")
    # Midlands: (30 + 20 + 10) / 250 = 24%
    assert b.region == pytest.approx(24.0) and b.region_name == "Midlands"
    # peers 30, 20, 50 -> quartiles 25, 30, 40; higher is better: best quartile 40
    assert (b.peer_lower_quartile, b.peer_median, b.peer_upper_quartile) == (25.0, 30.0, 40.0)
    assert b.peer_best_quartile == 40.0
    # 50 and 30 are better; the 20 ties and shares: rank 3 of 4
    assert (b.rank, b.of) == (3, 4)
    assert england_value(f, "reablement_91_days", "2023/24")[0] is None
