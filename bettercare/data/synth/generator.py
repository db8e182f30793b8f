"""Generate every feed in :data:`bettercare.data.schema.FEEDS` as Parquet.

Output layout (a contract; keep it)::

    OUT_DIR/<feed>.parquet                      one per feed, exact schema.py columns/types
    OUT_DIR/_truth/social_care_person.parquet   service_id, nhs_number (the true person)
    OUT_DIR/_truth/residents_risk.parquet       nhs_number, annual_non_elective_rate, ...
    OUT_DIR/_truth/injected_effects.parquet     with --effect: spells changed by effect, month
    OUT_DIR/manifest.json                       params, seed, years, row counts, version

Every event date falls inside the financial years, except ``hospital_spells`` admitted
up to 60 days before the first year that are still in hospital on its first day (and
their delayed days from that day on), as in an extract of spells active in the period.

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, so
the same seed, params and years give byte-identical files; feeds added later draw from
their own child streams (``PCG64([seed, k])``: discharge ready dates k=1, A&E attendances
k=2), so adding them left every earlier feed unchanged. Output is written to a
temporary sibling directory and renamed into place, so a failed run leaves nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bettercare.data.atomic import staging_directory, swap_into_place
from bettercare.data.schema import (
    AE_DEPARTMENT_TYPE,
    AE_DISPOSAL,
    DISCHARGE_DESTINATION,
    DTOC_REASON,
    FEEDS,
)
from bettercare.data.synth import hospital, names, national, other_feeds, social_care
from bettercare.data.synth.effects import InjectedEffect, apply_effects, check_targets
from bettercare.data.synth.params import SynthParams
from bettercare.data.synth.world import NO_DEATH, World, build_world
from bettercare.domain.periods import fy_span, fy_start_year, parse_financial_year

GENERATOR_VERSION = "2"
FORMATS = ("internal", "national")  # file layouts ``generate`` writes
STEPS = (
    "residents",
    "hospital_spells",
    "delayed_transfers",
    "reablement_episodes",
    "social_care_services",
    "experience_responses",
    "opt_outs",
    "population",
    "scheme_activity",
    "ae_attendances",
    "write",
)

_ARROW = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}
Progress = Callable[[str], None]


@dataclass
class Result:
    """Where the generator wrote the feeds and how many rows each has."""

    out_dir: Path
    row_counts: dict[str, int] = field(default_factory=dict)


def check_years(years: list[str]) -> list[str]:
    """Financial years (``2016-17`` or ``2016/17``), as ``2016/17``, sorted, consecutive.

    ``ValueError`` otherwise.
    """
    if not years:
        raise ValueError("give at least one financial year, e.g. --years 2016-17")
    ys = sorted({parse_financial_year(y) for y in years})
    starts = [fy_start_year(y) for y in ys]
    if starts != list(range(starts[0], starts[0] + len(starts))):
        raise ValueError(f"financial years must be consecutive, got {', '.join(ys)}")
    return ys


def feed_table(name: str, columns: Mapping[str, object]) -> pa.Table:
    """An Arrow table with exactly the feed's columns, order and types (schema.py)."""
    spec = FEEDS[name]
    if set(columns) != set(spec.column_names):
        raise ValueError(f"{name}: columns {sorted(columns)} != {sorted(spec.column_names)}")
    arrays, fields = [], []
    for col in spec.columns:
        typ = _ARROW[col.type]
        value = columns[col.name]
        arr = value if isinstance(value, pa.Array) else pa.array(value, type=typ)
        if arr.type != typ:
            arr = arr.cast(typ)
        if col.required and arr.null_count:
            raise ValueError(f"{name}.{col.name}: required column has {arr.null_count} nulls")
        arrays.append(arr)
        fields.append(pa.field(col.name, typ, nullable=not col.required))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(days, dtype=np.int64)
    if null is not None:
        values = np.where(null, 0, values)
    return pa.array(values.astype(np.int32), type=pa.date32(), mask=null)


def _strings(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), mask=null)


def _nhs(world: World, idx: np.ndarray | None = None) -> pa.Array:
    numbers = world.nhs_number if idx is None else world.nhs_number[idx]
    return pa.array(numbers, type=pa.int64()).cast(pa.string())


def _names(world: World) -> tuple[pa.Array, pa.Array]:
    male, female = pa.array(names.MALE), pa.array(names.FEMALE)
    given_m = male.take(pa.array(np.where(world.sex == 0, world.given, 0)))
    given_f = female.take(pa.array(np.where(world.sex == 1, world.given, 0)))
    given = pc.if_else(pa.array(world.sex == 0), given_m, given_f)
    family = pa.array(names.FAMILY).take(pa.array(world.family))
    return given, family


def generate(
    params: SynthParams,
    years: list[str],
    seed: int,
    out_dir: Path,
    progress: Progress | None = None,
    fmt: str = "internal",
    effects: Sequence[InjectedEffect] = (),
) -> Result:
    """Generate all feeds for ``years`` into ``out_dir`` (replaced atomically).

    ``fmt``: ``"internal"`` (every feed as ``<feed>.parquet``) or ``"national"`` (the feeds
    that have a national dataset in its layout, :mod:`bettercare.data.synth.national`).
    ``effects``: known effects injected into the emergency admissions
    (:mod:`bettercare.data.synth.effects`), their truth in
    ``_truth/injected_effects.parquet``; :class:`~.effects.EffectSyntaxError` (nothing
    written) when one starts outside the years or names practices or people not generated.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    years = check_years(years)
    step = progress or (lambda _name: None)
    out_dir = Path(out_dir)
    tables = build_tables(params, years, seed, step)
    if effects:
        first, last = fy_span(years[0]).start, fy_span(years[-1]).end
        for effect in effects:
            check_targets(tables, effect, first, last)
        tables, truth = apply_effects(tables, list(effects), seed)
        tables["_truth/injected_effects"] = truth
    step("write")
    tmp = staging_directory(out_dir)
    try:
        (tmp / "_truth").mkdir(parents=True)
        counts: dict[str, int] = {}
        for name, table in tables.items():
            if fmt == "national" and name in national.NATIONAL_OF:
                national.write_national(name, table, tmp, tables)
            else:
                pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
            if name in FEEDS:
                counts[name] = table.num_rows
        manifest = {
            "generator": "bettercare.data.synth",
            "generator_version": GENERATOR_VERSION,
            "hwb": params.area.name,
            "hwb_code": params.area.hwb_code,
            "seed": seed,
            "years": years,
            "format": fmt,
            "row_counts": counts,
            "truth_files": sorted(n + ".parquet" for n in tables if n.startswith("_truth/")),
            "params": params.model_dump(mode="json"),
            "injected_effects": [
                {
                    "start": e.start.isoformat(),
                    "relative_change": e.relative_change,
                    "practices": e.practices,
                    "people": len(e.nhs_numbers),
                }
                for e in effects
            ],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Result(out_dir, counts)


def build_tables(
    params: SynthParams, years: list[str], seed: int, step: Progress
) -> dict[str, pa.Table]:
    """All feed and truth tables in memory (``_truth/...`` keys for truth files)."""
    years = check_years(years)
    start, end = fy_span(years[0]).start, fy_span(years[-1]).end
    rng = np.random.Generator(np.random.PCG64(seed))
    t: dict[str, pa.Table] = {}

    step("residents")
    world = build_world(params, start, end, rng)
    assert world.dementia_dx_date is not None  # build_world draws every diagnosis date
    given, family = _names(world)
    dead = world.death == NO_DEATH
    t["residents"] = feed_table(
        "residents",
        {
            "nhs_number": _nhs(world),
            "given_name": given,
            "family_name": family,
            "date_of_birth": _dates(world.dob),
            "sex": _strings(np.where(world.sex == 0, "M", "F")),
            "postcode": pa.array(world.postcode_pool).take(pa.array(world.postcode)),
            "lsoa": pa.array(world.lsoa_codes).take(pa.array(world.lsoa)),
            "gp_practice": pa.array(world.practice_codes).take(pa.array(world.practice)),
            "hwb_code": pa.array([params.area.hwb_code] * world.n, type=pa.string()),
            "imd_decile": world.imd.astype(np.int32),
            "ltc_count": world.ltc.astype(np.int32),
            "dementia_diagnosis": world.dementia_dx,
            "date_of_death": _dates(world.death, dead),
            "dementia_diagnosis_date": _dates(world.dementia_dx_date, ~world.dementia_dx),
        },
    )

    step("hospital_spells")
    spells, truth = hospital.generate_spells(world, rng)
    delays = hospital.generate_delays(world, spells, rng)  # extends delayed spells' stays
    spells, delays = hospital.finalise(world, spells, delays)
    assert spells.spell_ids is not None  # finalise numbers every spell
    # Permanent care home admissions soon after an emergency stay are discharges to a home.
    admissions = social_care.permanent_admissions(world, spells, rng)
    still_in = spells.discharge > world.end
    # Ready dates draw from their own stream so every other feed stays as it was.
    ready, no_ready = hospital.discharge_ready_dates(
        world, spells, np.random.Generator(np.random.PCG64([seed, 1]))
    )
    t["hospital_spells"] = feed_table(
        "hospital_spells",
        {
            "spell_id": _strings(spells.spell_ids),
            "nhs_number": _nhs(world, spells.person),
            "provider_code": pa.array(params.area.provider_codes).take(pa.array(spells.provider)),
            "admission_method": _strings(np.where(spells.elective, "elective", "non_elective")),
            "admission_date": _dates(spells.admission),
            "discharge_date": _dates(spells.discharge, still_in),
            "primary_diagnosis": _strings(spells.diagnosis),
            "injury_due_to_fall": spells.fall,
            "discharge_destination": _strings(
                np.asarray(DISCHARGE_DESTINATION, dtype=object)[spells.destination], still_in
            ),
            "discharge_ready_date": _dates(ready, no_ready),
        },
    )

    step("delayed_transfers")
    delays = hospital.sitrep_rows(delays)  # no SitRep rows after February 2020
    n_delay = len(delays.spell)
    t["delayed_transfers"] = feed_table(
        "delayed_transfers",
        {
            "delay_id": _strings(np.char.mod("DT%09d", np.arange(1, n_delay + 1))),
            "nhs_number": _nhs(world, spells.person[delays.spell]),
            "spell_id": _strings(spells.spell_ids[delays.spell]),
            "provider_code": pa.array(params.area.provider_codes).take(
                pa.array(spells.provider[delays.spell])
            ),
            "census_month": _dates(delays.month),
            "delayed_days": delays.days.astype(np.int32),
            "reason": _strings(np.asarray(DTOC_REASON, dtype=object)[delays.reason]),
            "attribution": _strings(
                np.asarray(hospital.ATTRIBUTIONS, dtype=object)[delays.attribution]
            ),
        },
    )

    step("reablement_episodes")
    reab = hospital.generate_reablement(world, spells, rng)
    n_reab = len(reab.spell)
    t["reablement_episodes"] = feed_table(
        "reablement_episodes",
        {
            "episode_id": _strings(np.char.mod("RE%09d", np.arange(1, n_reab + 1))),
            "nhs_number": _nhs(world, spells.person[reab.spell]),
            "spell_id": _strings(spells.spell_ids[reab.spell]),
            "discharge_date": _dates(spells.discharge[reab.spell]),
            "start_date": _dates(reab.start),
            "outcome_91_days": _strings(reab.outcome),
        },
    )

    step("social_care_services")
    svc = social_care.generate_services(world, spells, reab, admissions, rng)
    ids = social_care.client_identifiers(world, svc, rng)
    n_svc = len(svc.person)
    service_ids = np.char.mod("SC%09d", np.arange(1, n_svc + 1))
    t["social_care_services"] = feed_table(
        "social_care_services",
        {
            "service_id": _strings(service_ids),
            "nhs_number": pa.array(ids.nhs_number, type=pa.string()),
            "given_name": pa.array(ids.given_name, type=pa.string()),
            "family_name": pa.array(ids.family_name, type=pa.string()),
            "date_of_birth": _dates(ids.date_of_birth, ids.date_of_birth_missing),
            "postcode": pa.array(ids.postcode, type=pa.string()),
            "service_type": _strings(svc.service_type),
            "setting": _strings(social_care._setting(svc.service_type)),
            "start_date": _dates(svc.start),
            "end_date": _dates(svc.end, svc.end > world.end),
            "permanent_admission": svc.permanent,
        },
    )
    t["_truth/social_care_person"] = pa.table(
        {
            "service_id": _strings(service_ids),
            "nhs_number": _nhs(world, svc.person),
        }
    )

    step("experience_responses")
    fy_starts = [fy_start_year(y) for y in years]
    resp = other_feeds.generate_experience(world, fy_starts, rng)
    n_resp = len(resp.person)
    t["experience_responses"] = feed_table(
        "experience_responses",
        {
            "response_id": _strings(np.char.mod("XR%09d", np.arange(1, n_resp + 1))),
            "nhs_number": _nhs(world, resp.person),
            "survey": pa.array(["gpps"] * n_resp, type=pa.string()),
            "response_date": _dates(resp.date),
            "question": pa.array([other_feeds.SURVEY_QUESTION] * n_resp, type=pa.string()),
            "positive": resp.positive,
        },
    )

    step("opt_outs")
    t["opt_outs"] = feed_table(
        "opt_outs", {"nhs_number": _nhs(world, other_feeds.generate_opt_outs(world, rng))}
    )

    step("population")
    t["population"] = feed_table("population", other_feeds.population_estimates(world, fy_starts))

    step("scheme_activity")
    months = [date(y + (m >= 13), (m - 1) % 12 + 1, 1) for y in fy_starts for m in range(4, 16)]
    t["scheme_activity"] = feed_table(
        "scheme_activity", other_feeds.scheme_activity(world, months, rng)
    )

    step("ae_attendances")
    # A&E attendances draw from their own stream so every other feed stays as it was.
    emergency = ~spells.elective & (spells.admission >= world.start)
    ae = other_feeds.generate_ae_attendances(
        world,
        spells.person[emergency],
        spells.admission[emergency],
        spells.provider[emergency],
        np.random.Generator(np.random.PCG64([seed, 2])),
    )
    n_ae = len(ae.person)
    t["ae_attendances"] = feed_table(
        "ae_attendances",
        {
            "attendance_id": _strings(np.char.mod("AE%09d", np.arange(1, n_ae + 1))),
            "nhs_number": _nhs(world, ae.person),
            "provider_code": pa.array(params.area.provider_codes).take(pa.array(ae.provider)),
            "arrival_date": _dates(ae.arrival),
            "department_type": _strings(
                np.asarray(AE_DEPARTMENT_TYPE, dtype=object)[ae.department]
            ),
            "arrival_mode": _strings(np.where(ae.ambulance, "ambulance", "other"), ae.no_mode),
            "disposal": _strings(
                np.asarray(AE_DISPOSAL, dtype=object)[ae.disposal], ae.no_disposal
            ),
            "age": ae.age.astype(np.int32),
            "lsoa": _strings(
                np.asarray(world.lsoa_codes, dtype=object)[world.lsoa[ae.person]], ae.no_lsoa
            ),
            "gp_practice": _strings(
                np.asarray(world.practice_codes, dtype=object)[world.practice[ae.person]]
            ),
        },
    )

    rate = truth.annual_non_elective_rate
    t["_truth/residents_risk"] = pa.table(
        {
            "nhs_number": _nhs(world),
            "annual_non_elective_rate": pa.array(rate, type=pa.float64()),
            "p_non_elective_12m": pa.array(1 - np.exp(-rate), type=pa.float64()),
            "frailty": pa.array(world.frailty, type=pa.float64()),
            "dementia": pa.array(world.dementia, type=pa.bool_()),
        }
    )
    return t
