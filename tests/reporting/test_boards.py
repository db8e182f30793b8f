from pathlib import Path

import pandas as pd

from bettercare.data.figures.store import COLUMNS
from bettercare.data.plan_files import load_plan
from bettercare.reporting.boards import PlanEntry, boards_side_by_side, icb_csv

EXAMPLES = Path(__file__).parents[2] / "examples"


def entry(name: str, state: str = "draft") -> PlanEntry:
    p = load_plan(EXAMPLES / name)
    return PlanEntry(p, p.plan_id, p.plan_id, p.hwb.ons_code or "marlbury", state)


def test_boards_grouped_by_region_with_rag_and_returns():
    # Leicestershire plans 606.4 permanent admissions per 100,000 65+ in 2016/17;
    # published 70 of 10,000 = 700: worse -> RED.
    figs = pd.DataFrame(
        [
            dict.fromkeys(COLUMNS)
            | {
                "metric": "permanent_admissions_care_homes_65",
                "area_code": "E10000018",
                "area_type": "hwb",
                "period": "2016/17",
                "numerator": 70.0,
                "denominator": 10_000.0,
                "suppressed": False,
            }
        ],
        columns=list(COLUMNS),
    )
    view = boards_side_by_side(
        [
            entry("leicestershire_2016.yaml", "agreed"),
            entry("rutland_2014.yaml"),
            entry("central_lancashire_2015.yaml"),
            entry("marlbury_2025.yaml"),
        ],
        figs,
    )
    regions = dict(view.regions)
    assert sorted(regions) == ["(not an HWB of England)", "Midlands", "North West"]
    leics = next(r for r in regions["Midlands"] if r.hwb_code == "E10000018")
    assert leics.rag == {"RED": 1} and leics.state == "agreed"
    rutland = next(r for r in regions["Midlands"] if r.hwb_code == "E06000017")
    assert rutland.funding_total == 185_000  # 81,000 Care Act + 104,000 DFG in 2015/16
    marlbury = regions["(not an HWB of England)"][0]
    assert marlbury.returns == ["2025/26 Q1", "2025/26 Q2"]
    only = boards_side_by_side([entry("rutland_2014.yaml")], None, region="North West")
    assert only.regions == []
    lines = icb_csv(view).splitlines()
    assert len(lines) == 5 and lines[0].startswith("nhs_region,hwb_code")
