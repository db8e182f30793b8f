"""Injecting a known effect into generated feeds (bettercare.data.synth.effects)."""

from __future__ import annotations

import re
from datetime import date

import pyarrow.compute as pc
import pytest
from pydantic import ValidationError

from bettercare.data.synth.effects import (
    EffectSyntaxError,
    InjectedEffect,
    apply_effects,
    check_targets,
    inject,
    parse_effect,
)
from bettercare.data.synth.generator import build_tables
from bettercare.data.synth.presets import preset

START = date(2024, 4, 1)


@pytest.fixture(scope="module")
def generated():
    params = preset("rutland").with_population(3000)
    params = params.model_copy(
        update={"area": params.area.model_copy(update={"residents_per_practice": 500})}
    )
    return build_tables(params, ["2023/24", "2024/25"], 5, lambda _s: None)


def _eligible(t, practices):
    res = t["residents"]
    people = res.filter(
        pc.is_in(res["gp_practice"], value_set=__import__("pyarrow").array(practices))
    )
    s = t["hospital_spells"]
    mask = pc.and_(
        pc.and_(
            pc.equal(s["admission_method"], "non_elective"),
            pc.greater_equal(s["admission_date"], START),
        ),
        pc.is_in(s["nhs_number"], value_set=people["nhs_number"]),
    )
    return s.filter(mask)


def test_a_full_cut_removes_every_eligible_spell_and_its_dependents(generated):
    eligible = _eligible(generated, ["C82001"])
    assert eligible.num_rows > 0
    out, info = inject(
        generated, InjectedEffect(start=START, relative_change=-1.0, practices=["C82001"]), seed=5
    )
    assert info.changed_spells == -eligible.num_rows
    assert sum(info.by_month.values()) == -eligible.num_rows
    assert _eligible(out, ["C82001"]).num_rows == 0
    assert (
        out["hospital_spells"].num_rows == generated["hospital_spells"].num_rows - eligible.num_rows
    )
    removed = set(eligible["spell_id"].to_pylist())
    for feed in ("delayed_transfers", "reablement_episodes"):
        assert not removed & set(out[feed]["spell_id"].to_pylist())
    assert out["residents"] is generated["residents"]  # other feeds untouched


def test_no_change_changes_nothing(generated):
    out, info = inject(
        generated, InjectedEffect(start=START, relative_change=0.0, practices=["C82001"]), seed=5
    )
    assert info.changed_spells == 0
    assert out["hospital_spells"].equals(generated["hospital_spells"])


def test_an_increase_adds_copies_with_new_ids(generated):
    out, info = inject(
        generated, InjectedEffect(start=START, relative_change=1.0, practices=["C82001"]), seed=5
    )
    n = _eligible(generated, ["C82001"]).num_rows
    assert info.changed_spells == n
    ids = out["hospital_spells"]["spell_id"].to_pylist()
    assert len(ids) == len(set(ids)) == generated["hospital_spells"].num_rows + n


def test_same_seed_same_draw_and_a_cohort_target(generated):
    people = generated["residents"]["nhs_number"].to_pylist()[:500]
    effect = InjectedEffect(start=START, relative_change=-0.5, nhs_numbers=people)
    a, ia = inject(generated, effect, seed=9)
    b, ib = inject(generated, effect, seed=9)
    assert ia == ib and a["hospital_spells"].equals(b["hospital_spells"])
    assert ia.changed_spells < 0


def test_the_target_is_practices_or_people_not_both():
    with pytest.raises(ValidationError):
        InjectedEffect(start=START, relative_change=-0.1)
    with pytest.raises(ValidationError):
        InjectedEffect(start=START, relative_change=-0.1, practices=["A"], nhs_numbers=["1"])
    with pytest.raises(ValidationError):
        InjectedEffect(start=START, relative_change=-1.5, practices=["A"])


# --- the --effect syntax and several effects in one run ---------------------------------


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("2024-04-01:-15%:practices=C82001", -0.15),
        ("2024-04-01:+0.1:practices=C82001,C82002", 0.10),
        ("2024-04-01:-100%:practices=C82001", -1.0),
        (" 2024-04-01:.5:practices=C82001 ", 0.5),
    ],
)
def test_parse_effect(text, change):
    e = parse_effect(text)
    assert e.start == START and e.relative_change == pytest.approx(change)
    assert e.practices[0] == "C82001" and not e.nhs_numbers


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-04-01", "expected START:CHANGE"),
        ("2024-02-30:-5%:practices=C82001", "is not a date"),
        ("2024-04-01:-5 %:practices=C82001", "is not a number"),
        ("2024-04-01:-150%:practices=C82001", "between -100% and +100%"),
        ("2024-04-01:0%:practices=C82001", "not be 0"),
        ("2024-04-01:-5%:practices=C82001,", "empty practice code"),
        ("2024-04-01:-5%:wards=E05000001", "unknown target 'wards'"),
    ],
)
def test_parse_effect_refuses(text, message):
    with pytest.raises(EffectSyntaxError, match=re.escape(message)):
        parse_effect(text)


def test_people_file(tmp_path):
    good = tmp_path / "people.csv"
    good.write_text("nhs_number,note\n999 725 8401,x\n9997258401,y\n", "utf-8")
    e = parse_effect(f"2024-04-01:-25%:people={good}")
    assert e.nhs_numbers == ["9997258401", "9997258401"]
    bad = tmp_path / "bad.csv"
    bad.write_text("nhs_number\n9997258401\n9997258402\n", "utf-8")  # check digit wrong
    with pytest.raises(EffectSyntaxError, match=r"row 3: nhs_number .* modulus 11"):
        parse_effect(f"2024-04-01:-25%:people={bad}")
    no_column = tmp_path / "nocol.csv"
    no_column.write_text("person\n9997258401\n", "utf-8")
    with pytest.raises(EffectSyntaxError, match="no 'nhs_number' column"):
        parse_effect(f"2024-04-01:-25%:people={no_column}")


def test_check_targets(generated):
    first, last = date(2023, 4, 1), date(2025, 3, 31)
    ok = InjectedEffect(start=START, relative_change=-0.1, practices=["C82001"])
    check_targets(generated, ok, first, last)
    with pytest.raises(EffectSyntaxError, match="outside the generated years"):
        check_targets(generated, ok.model_copy(update={"start": date(2025, 4, 1)}), first, last)
    with pytest.raises(EffectSyntaxError, match="not in the generated population: Z99999"):
        check_targets(generated, ok.model_copy(update={"practices": ["Z99999"]}), first, last)
    stranger = InjectedEffect(start=START, relative_change=-0.1, nhs_numbers=["9997258401"])
    with pytest.raises(EffectSyntaxError, match="1 NHS number"):
        check_targets(generated, stranger, first, last)


def test_apply_effects_truth_adds_up(generated):
    effects = [
        InjectedEffect(start=date(2023, 10, 1), relative_change=-0.5, practices=["C82001"]),
        InjectedEffect(start=START, relative_change=0.5, practices=["C82002"]),
    ]
    out, truth = apply_effects(generated, effects, seed=5)
    before = generated["hospital_spells"].num_rows
    assert out["hospital_spells"].num_rows - before == sum(truth["changed_spells"].to_pylist())
    by_effect = {}
    for row in truth.to_pylist():
        by_effect.setdefault(row["effect"], []).append(row["changed_spells"])
        assert row["month"] >= row["start"]
    assert all(v < 0 for v in by_effect[0]) and all(v > 0 for v in by_effect[1])
    # the first effect draws from the same stream as inject() alone
    _, info = inject(generated, effects[0], seed=5)
    assert sum(by_effect[0]) == info.changed_spells
