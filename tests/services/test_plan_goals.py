"""Goal options for a metric's plan form, from a small published-figures set worked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from bettercare.data.figures import load_figures, read_figures_file
from bettercare.data.plan_files import load_plan
from bettercare.domain.plan import GoalBasis, TimeBasis
from bettercare.services.figures import goal_options
from bettercare.services.plan_forms import COLLECTIONS, apply_item, read_form
from bettercare.services.plan_goals import OWN_NOTE, fill_goal

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUTLAND = "E06000017"
METRIC = "permanent_admissions_care_homes_65"  # per 100,000 aged 65+, lower is better
# Four peers (all in the Midlands region, as Rutland) in 2016/17: 10, 20, 30, 40.
PEERS = {"E06000016": 10, "E06000018": 20, "E10000018": 30, "E06000015": 40}
# Rutland: 50, 40, 30 over three years; 2016/17 is 60 of 200,000 = 30 per 100,000.
FIGURES = (
    "metric,area_code,period,numerator,denominator,value\n"
    f"{METRIC},{RUTLAND},2014/15,100,200000,50\n"
    f"{METRIC},{RUTLAND},2015/16,80,200000,40\n"
    f"{METRIC},{RUTLAND},2016/17,60,200000,30\n"
    + "".join(f"{METRIC},{code},2016/17,,,{v}\n" for code, v in PEERS.items())
)


@pytest.fixture(scope="module")
def figures_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("goals")
    csv = tmp / "figures.csv"
    csv.write_text(FIGURES)
    load_figures(read_figures_file(csv), tmp / "f.duckdb", str(csv))
    return tmp / "f.duckdb"


def test_goal_options_match_hand_worked_values(figures_db: Path) -> None:
    choice = goal_options(figures_db, RUTLAND, METRIC, peers=list(PEERS))
    assert not choice.message
    assert (choice.latest, choice.latest_period) == (30, "2016/17")
    assert choice.peers == "the 4 boards of the peer file"
    got = {o.basis: o for o in choice.options}
    assert list(got) == ["trajectory", "peer_median", "peer_best_quartile"]
    # Trajectory: no special cause in 50, 40, 30, so the process mean, 40; moving ranges
    # 10 and 10, limits 40 +/- 2.66 x 10 = 13.4 to 66.6. 40 - 30 = +10 per 100,000 on a
    # population of 200,000 = 20 more placements.
    assert got["trajectory"].value == 40.0
    assert "about 20 more care home placements" in got["trajectory"].meaning
    assert "13.4 per 100,000 to 66.6 per 100,000" in got["trajectory"].meaning
    # Peer median of 10, 20, 30, 40 (linear interpolation): (20 + 30) / 2 = 25; -5 per
    # 100,000 = 10 fewer placements.
    assert got["peer_median"].value == 25.0
    assert "-5.0 per 100,000" in got["peer_median"].meaning
    assert "about 10 fewer care home placements (65+) a year" in got["peer_median"].meaning
    # Lower is better: the best quartile is the lower one, at position 0.75 between 10
    # and 20: 17.5; -12.5 per 100,000 = 25 fewer.
    assert got["peer_best_quartile"].value == 17.5
    assert "lower quartile" in got["peer_best_quartile"].label
    assert "about 25 fewer" in got["peer_best_quartile"].meaning


def test_default_peers_are_the_region(figures_db: Path) -> None:
    # Every board with figures is in the Midlands: the region's peers are the same four.
    choice = goal_options(figures_db, RUTLAND, METRIC)
    assert {o.basis: o.value for o in choice.options}["peer_median"] == 25.0
    assert choice.peers == "the other boards of the Midlands NHS region"


def test_no_figures_says_how_to_load_them(figures_db: Path) -> None:
    none = goal_options(None, RUTLAND, METRIC)
    assert not none.options
    assert "bettercare figures load" in none.message and "serve --figures" in none.message
    other = goal_options(figures_db, RUTLAND, "reablement_91_days")
    assert not other.options and "no yearly figures" in other.message
    assert "ons_code" in goal_options(figures_db, None, METRIC).message


def _metric_form(**values: str) -> dict[str, str]:
    form = {
        "metric": METRIC,
        "planned[0].period": "2014/15",
        "planned[0].value": "45",
        "planned[1].period": "",
        "planned[1].value": "",
        "planned[2].period": "",
        "planned[2].value": "",
    }
    return {**form, **values}


def _save(form: dict[str, str]):
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    coll = COLLECTIONS["metrics"]
    index = [m.metric for m in plan.metrics].index(METRIC)
    item = plan.model_dump(mode="python")["metrics"][index]
    fields = coll.fields(plan, item)
    new, _, _, after = apply_item(plan, coll, index, read_form(fields, form), fields)
    return new.metrics[index], after


def test_a_chosen_option_becomes_the_planned_value_and_its_basis_is_saved(figures_db) -> None:
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    form = _metric_form(**{"goal.basis": "peer_median", "goal.period": "2015/16"})
    form["goal.value"] = "1"  # a value posted by the page is never trusted
    filled = fill_goal(figures_db, plan, form)
    assert filled["planned[1].period"] == "2015/16" and filled["planned[1].value"] == "25.0"
    saved, _ = _save(filled)
    assert [(v.period, v.value) for v in saved.planned] == [("2014/15", 45), ("2015/16", 25)]
    goal = saved.goal
    assert goal is not None and goal.basis is GoalBasis.PEER_MEDIAN
    assert (goal.period, goal.value, goal.figures_period) == ("2015/16", 25.0, "2016/17")
    assert goal.note and goal.note.startswith("Reach the peer median")


def test_an_option_replaces_the_value_of_its_period(figures_db) -> None:
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    form = _metric_form(**{"goal.basis": "peer_best_quartile", "goal.period": "2014/15"})
    saved, _ = _save(fill_goal(figures_db, plan, form))
    assert [(v.period, v.value) for v in saved.planned] == [("2014/15", 17.5)]


def test_own_value_and_no_goal(figures_db) -> None:
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    form = _metric_form(**{"goal.basis": "own", "goal.period": "2014/15"})
    saved, _ = _save(fill_goal(figures_db, plan, form))
    assert saved.goal is not None and saved.goal.basis is GoalBasis.OWN
    assert (saved.goal.value, saved.goal.note) == (45, OWN_NOTE)
    assert [(v.period, v.value) for v in saved.planned] == [("2014/15", 45)]  # unchanged
    saved, after = _save(fill_goal(figures_db, plan, _metric_form(**{"goal.basis": ""})))
    assert saved.goal is None and "goal" not in after


def test_without_figures_a_stated_goal_is_kept_as_posted() -> None:
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    form = _metric_form(
        **{
            "goal.basis": "peer_median",
            "goal.period": "2014/15",
            "goal.value": "45",
            "goal.figures_period": "2013/14",
        }
    )
    saved, _ = _save(fill_goal(None, plan, form))
    assert saved.goal is not None and saved.goal.basis is GoalBasis.PEER_MEDIAN
    assert (saved.goal.value, saved.goal.figures_period) == (45, "2013/14")


def test_a_peer_file_names_the_peers(figures_db: Path, tmp_path: Path) -> None:
    from bettercare.services.figures import peers_from_file

    peers = tmp_path / "peers.csv"
    peers.write_text(f"hwb_code,peer_code\n{RUTLAND},E06000016\n{RUTLAND},E06000018\n")
    assert peers_from_file(peers, RUTLAND) == ["E06000016", "E06000018"]
    assert peers_from_file(peers, "E06000016") is None  # not in the file: the region
    assert peers_from_file(None, RUTLAND) is None
    choice = goal_options(figures_db, RUTLAND, METRIC, peers_from_file(peers, RUTLAND))
    got = {o.basis: o.value for o in choice.options}
    # Two peers, 10 and 20: median 15; lower quartile at position 0.25: 10 + 0.25 x 10.
    assert (got["peer_median"], got["peer_best_quartile"]) == (15.0, 12.5)
    assert choice.peers == "the 2 boards of the peer file"
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    form = _metric_form(**{"goal.basis": "peer_median", "goal.period": "2014/15"})
    assert fill_goal(figures_db, plan, form, peers)["planned[0].value"] == "15.0"


def test_no_yearly_options_for_a_metric_planned_per_month(figures_db) -> None:
    from bettercare.services.plan_goals import per_period

    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    metrics = [
        m.model_copy(update={"time_basis": TimeBasis.MONTH}) if m.metric == METRIC else m
        for m in plan.metrics
    ]
    monthly = plan.model_copy(update={"metrics": metrics})
    assert per_period(plan, METRIC) is None
    assert "per month" in (per_period(monthly, METRIC) or "")
    form = _metric_form(**{"goal.basis": "peer_median", "goal.period": "2014/15"})
    form["goal.value"] = "3"
    filled = fill_goal(figures_db, monthly, form)
    assert filled["planned[0].value"] == "45" and filled["goal.value"] == "3"  # untouched
