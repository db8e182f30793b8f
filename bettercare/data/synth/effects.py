"""Inject a known, dated effect into generated feeds, to validate evaluation methods.

Owns one thing: after :func:`bettercare.data.synth.generator.build_tables` has drawn the
feeds, change the emergency admissions of a target (the residents of some GP practices,
or a cohort of people by NHS number) from a date on by a chosen relative amount, and say
exactly how many admissions were removed or added (the truth an evaluation must
recover). It draws from its own stream, ``PCG64([seed, 26])``, so the feeds it does not
touch stay byte-identical to the generator's.

A reduction removes each of the target's emergency spells admitted on or after the start
with probability ``-relative_change`` (and the delayed transfers and reablement episodes
of removed spells); an increase adds a copy of each such spell with probability
``relative_change`` (new spell ids ``<id>X``), so the expected change is
``relative_change`` times the admissions there would have been.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Child stream of the generator's seed that the injection draws from.
STREAM = 26


class InjectedEffect(BaseModel):
    """A dated relative change in the emergency admissions of some practices or people."""

    model_config = ConfigDict(extra="forbid")

    start: date = Field(description="First admission date the effect applies to")
    relative_change: float = Field(
        ge=-1.0, le=1.0, description="-0.2 = 20% fewer emergency admissions"
    )
    practices: list[str] = Field(default_factory=list, description="GP practice codes")
    nhs_numbers: list[str] = Field(default_factory=list, description="A cohort of people")

    @model_validator(mode="after")
    def _one_target(self) -> InjectedEffect:
        if bool(self.practices) == bool(self.nhs_numbers):
            raise ValueError("give either practices or nhs_numbers as the effect's target")
        return self


@dataclass(frozen=True)
class Injected:
    """What the injection did: spells removed (negative) or added, by month."""

    changed_spells: int
    by_month: dict[date, int]


def _target_people(tables: dict[str, pa.Table], effect: InjectedEffect) -> pa.Array:
    if effect.nhs_numbers:
        return pa.array(effect.nhs_numbers, type=pa.string())
    res = tables["residents"]
    mask = pc.is_in(res["gp_practice"], value_set=pa.array(effect.practices, type=pa.string()))
    return res.filter(mask)["nhs_number"].combine_chunks()


def inject(
    tables: dict[str, pa.Table], effect: InjectedEffect, seed: int
) -> tuple[dict[str, pa.Table], Injected]:
    """``tables`` with ``effect`` applied (a new dict; the input is not changed)."""
    rng = np.random.Generator(np.random.PCG64([seed, STREAM]))
    spells = tables["hospital_spells"]
    people = _target_people(tables, effect)
    eligible = pc.and_(
        pc.and_(
            pc.equal(spells["admission_method"], "non_elective"),
            pc.greater_equal(spells["admission_date"], pa.scalar(effect.start, pa.date32())),
        ),
        pc.is_in(spells["nhs_number"], value_set=people),
    )
    elig = np.asarray(eligible.to_numpy(zero_copy_only=False), dtype=bool)
    draw = rng.random(len(elig)) < abs(effect.relative_change)
    chosen = elig & draw
    months: list[date] = spells.filter(pa.array(chosen))["admission_date"].to_pylist()
    sign = -1 if effect.relative_change < 0 else 1
    by_month: dict[date, int] = {}
    for d in months:
        m = date(d.year, d.month, 1)
        by_month[m] = by_month.get(m, 0) + sign
    out = dict(tables)
    if sign < 0:
        keep = pa.array(~chosen)
        removed_ids = spells.filter(pa.array(chosen))["spell_id"].combine_chunks()
        out["hospital_spells"] = spells.filter(keep)
        for feed in ("delayed_transfers", "reablement_episodes"):
            if feed in out:
                t = out[feed]
                out[feed] = t.filter(pc.invert(pc.is_in(t["spell_id"], value_set=removed_ids)))
    else:
        copies = spells.filter(pa.array(chosen))
        ids = pc.binary_join_element_wise(copies["spell_id"], pa.scalar("X"), "")
        i = copies.schema.get_field_index("spell_id")
        copies = copies.set_column(i, copies.schema.field(i), ids)
        out["hospital_spells"] = pa.concat_tables([spells, copies])
    return out, Injected(int(chosen.sum()) * sign, dict(sorted(by_month.items())))
