"""Injecting a known effect into generated feeds (bettercare.data.synth.effects)."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
import pytest
from pydantic import ValidationError

from bettercare.data.synth.effects import InjectedEffect, inject
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
