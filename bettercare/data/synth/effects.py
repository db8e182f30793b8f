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

On the command line (``bettercare synth --effect``) an effect is written
``START:CHANGE:TARGET`` (:func:`parse_effect`), e.g. ``2024-04-01:-15%:practices=C82001,C82004``
or ``2024-04-01:-0.25:people=enrolled.csv`` (a CSV file with an ``nhs_number`` column);
:func:`apply_effects` applies several (a staggered roll-out: one per start date) and
returns the truth table written to ``_truth/injected_effects.parquet``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bettercare.data import nhs_numbers
from bettercare.errors import BadInput

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
    tables: dict[str, pa.Table], effect: InjectedEffect, seed: int, stream: int = 0
) -> tuple[dict[str, pa.Table], Injected]:
    """``tables`` with ``effect`` applied (a new dict; the input is not changed).

    ``stream``: 0 for the first effect; give later effects of the same run 1, 2, ... so
    their draws are independent of the first's (``PCG64([seed, 26, stream])``).
    """
    key = [seed, STREAM] if stream == 0 else [seed, STREAM, stream]
    rng = np.random.Generator(np.random.PCG64(key))
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


_EFFECT = re.compile(r"^(?P<start>[^:]+):(?P<change>[^:]+):(?P<kind>[a-z_]+)=(?P<target>.+)$")
_CHANGE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)%?$")
#: The syntax of one ``--effect``, for error messages and help.
EFFECT_SYNTAX = "START:CHANGE:practices=CODE[,CODE...] or START:CHANGE:people=FILE.csv"


class EffectSyntaxError(BadInput):
    """An ``--effect`` that cannot be read; the message names the part and the rule."""


def _people_file(path: Path) -> list[str]:
    """Valid NHS numbers from the ``nhs_number`` column of a CSV file."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "nhs_number" not in reader.fieldnames:
                raise EffectSyntaxError(f"{path}: no 'nhs_number' column in the header")
            out = []
            for row_no, row in enumerate(reader, start=2):
                raw = (row.get("nhs_number") or "").strip()
                number = nhs_numbers.normalise(raw)
                if number is None or not nhs_numbers.is_valid(number):
                    raise EffectSyntaxError(
                        f"{path}: row {row_no}: nhs_number '{nhs_numbers.mask(raw)}' is not a "
                        "valid NHS number (10 digits, modulus 11)"
                    )
                out.append(number)
    except OSError as exc:
        raise EffectSyntaxError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise EffectSyntaxError(f"{path} is not UTF-8 text") from None
    if not out:
        raise EffectSyntaxError(f"{path}: no people (no rows under 'nhs_number')")
    return out


def parse_effect(text: str) -> InjectedEffect:
    """An :class:`InjectedEffect` from ``START:CHANGE:TARGET`` (:data:`EFFECT_SYNTAX`).

    ``START`` is a date (YYYY-MM-DD); ``CHANGE`` a relative change, ``-15%`` or ``-0.15``
    (between -100% and +100%, not 0); ``TARGET`` ``practices=`` GP practice codes
    (comma-separated) or ``people=`` a CSV file with an ``nhs_number`` column. Raises
    :class:`EffectSyntaxError` naming the part that is wrong.
    """
    m = _EFFECT.match(text.strip())
    if m is None:
        raise EffectSyntaxError(f"'{text}': expected {EFFECT_SYNTAX}")
    try:
        start = date.fromisoformat(m["start"].strip())
    except ValueError:
        raise EffectSyntaxError(
            f"'{text}': start '{m['start']}' is not a date (YYYY-MM-DD)"
        ) from None
    raw = m["change"].strip()
    if not _CHANGE.match(raw):
        raise EffectSyntaxError(f"'{text}': change '{raw}' is not a number like -15% or -0.15")
    change = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    if not -1 <= change <= 1 or change == 0:
        raise EffectSyntaxError(
            f"'{text}': change {raw} must lie between -100% and +100% and not be 0"
        )
    kind, target = m["kind"], m["target"].strip()
    fields: dict[str, object] = {"start": start, "relative_change": change}
    if kind == "practices":
        codes = [c.strip() for c in target.split(",")]
        if not all(codes):
            raise EffectSyntaxError(f"'{text}': an empty practice code in '{target}'")
        fields["practices"] = codes
    elif kind == "people":
        fields["nhs_numbers"] = _people_file(Path(target))
    else:
        raise EffectSyntaxError(f"'{text}': unknown target '{kind}' (known: practices, people)")
    try:
        return InjectedEffect.model_validate(fields)
    except ValidationError as exc:  # pragma: no cover - the checks above come first
        raise EffectSyntaxError(f"'{text}': {exc.errors()[0]['msg']}") from None


def check_targets(
    tables: dict[str, pa.Table], effect: InjectedEffect, first: date, last: date
) -> None:
    """:class:`EffectSyntaxError` unless ``effect``'s start and target exist in ``tables``.

    ``first``/``last``: the first and last days of the generated years.
    """
    if not first <= effect.start <= last:
        raise EffectSyntaxError(
            f"start {effect.start.isoformat()} is outside the generated years "
            f"({first.isoformat()} to {last.isoformat()})"
        )
    res = tables["residents"]
    if effect.practices:
        known = set(res["gp_practice"].to_pylist())
        unknown = sorted(set(effect.practices) - known)
        if unknown:
            raise EffectSyntaxError(
                f"practices not in the generated population: {', '.join(unknown)} "
                f"(codes run {min(known)} to {max(known)})"
            )
    else:
        known = set(res["nhs_number"].to_pylist())
        unknown = [n for n in effect.nhs_numbers if n not in known]
        if unknown:
            raise EffectSyntaxError(
                f"{len(unknown)} NHS number(s) are not residents of the generated "
                f"population, e.g. {nhs_numbers.mask(unknown[0])}"
            )


def apply_effects(
    tables: dict[str, pa.Table], effects: list[InjectedEffect], seed: int
) -> tuple[dict[str, pa.Table], pa.Table]:
    """``tables`` with every effect applied in turn, and the truth table.

    The truth table has one row per effect and month: ``effect`` (its position, from 0),
    ``start``, ``relative_change``, ``target``, ``month``, ``changed_spells`` (negative =
    removed).
    """
    rows: dict[str, list[object]] = {
        k: [] for k in ("effect", "start", "relative_change", "target", "month", "changed_spells")
    }
    out = tables
    for k, effect in enumerate(effects):
        out, info = inject(out, effect, seed, stream=k)
        target = (
            "practices=" + ",".join(effect.practices)
            if effect.practices
            else f"people={len(effect.nhs_numbers)}"
        )
        for month, n in info.by_month.items():
            for col, value in zip(
                rows,
                (k, effect.start, effect.relative_change, target, month, n),
                strict=True,
            ):
                rows[col].append(value)
    truth = pa.table(
        {
            "effect": pa.array(rows["effect"], pa.int32()),
            "start": pa.array(rows["start"], pa.date32()),
            "relative_change": pa.array(rows["relative_change"], pa.float64()),
            "target": pa.array(rows["target"], pa.string()),
            "month": pa.array(rows["month"], pa.date32()),
            "changed_spells": pa.array(rows["changed_spells"], pa.int64()),
        }
    )
    return out, truth
