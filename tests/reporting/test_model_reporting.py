"""The models' charts (PNG bytes / SVG text) and HTML sections, as the web app calls them."""

from __future__ import annotations

from pathlib import Path

from bettercare.analytics.modelling import ImpactParams, run_impact
from bettercare.analytics.modelling.pathway import PathwayConfig, run_pathway, sweep_capacity
from bettercare.data.plan_files import load_plan
from bettercare.reporting.modelling import (
    impact_charts,
    impact_section_html,
    pathway_charts,
    pathway_section_html,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


def test_impact_charts_and_section():
    r = run_impact(load_plan(EXAMPLES / "rutland_2014.yaml"), ImpactParams(draws=2000))
    pngs = impact_charts(r)
    assert set(pngs) == {"admissions_avoided", "tornado", "partner_shortfall"}
    assert all(isinstance(b, bytes) and b.startswith(PNG) for b in pngs.values())
    svgs = impact_charts(r, "svg")
    assert all(isinstance(t, str) and "<svg" in t for t in svgs.values())
    html = impact_section_html(r, {k: f"{k}.png" for k in pngs})
    assert f"Probability of meeting the target: {r.probability_meeting_target:.0%}" in html
    assert "ASSUMPTION" in html  # the equal-share assumption is shown, not hidden


def test_pathway_charts_and_section():
    cfg = PathwayConfig.model_validate(
        {
            "days": 60,
            "warm_up_days": 7,
            "replications": 2,
            "arrivals": {"per_day": 2},
            "pathways": [
                {
                    "id": "p",
                    "name": "Reablement",
                    "share": 1,
                    "capacity": 3,
                    "length_of_service": {"kind": "exponential", "mean": 1},
                }
            ],
        }
    )
    result = run_pathway(cfg)
    sweep = sweep_capacity(cfg, "p", 0.5)
    charts = pathway_charts(result, sweep)
    assert set(charts) == {"waiting_time", "pathway_measures", "capacity_sweep"}
    assert all(isinstance(b, bytes) and b.startswith(PNG) for b in charts.values())
    assert "<svg" in str(pathway_charts(result, fmt="svg")["waiting_time"])
    html = pathway_section_html(result, {k: f"{k}.png" for k in charts}, sweep)
    assert "Reablement" in html and "Capacity sweep" in html
