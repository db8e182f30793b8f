"""Survey responses, opt-outs, mid-year population estimates and BCF scheme activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from bettercare.data.schema import AGE_BANDS
from bettercare.data.synth.world import BAND_LOW, I18, World, age_at, day

SURVEY_QUESTION = "support_to_manage_ltc"  # GPPS: enough support to manage your LTC(s)


@dataclass
class Responses:
    """GP Patient Survey answers: who answered, when, and whether positively."""

    person: np.ndarray
    date: np.ndarray
    positive: np.ndarray


def generate_experience(world: World, fy_starts: list[int], rng: np.random.Generator) -> Responses:
    """GP Patient Survey answers (fieldwork January-March) from adults with an LTC.

    P(positive) is logistic: lower in more deprived areas and with more LTCs, intercept
    solved so the mean equals the configured share (seed 002: 63.6%).
    """
    rates = world.params.event_rates
    persons, dates = [], []
    for y in fy_starts:
        jan, mar = day(date(y + 1, 1, 1)), day(date(y + 1, 3, 31))
        alive = (world.dob <= jan) & (world.death > mar) & (world.ltc >= 1)
        alive &= age_at(world.dob, date(y + 1, 1, 1)) >= BAND_LOW[I18]
        who = np.flatnonzero(alive & (rng.random(world.n) < rates.survey_response_share_per_year))
        persons.append(who)
        dates.append(jan + rng.integers(0, mar - jan + 1, size=len(who)))
    who = np.concatenate(persons) if persons else np.zeros(0, np.int64)
    when = np.concatenate(dates) if dates else np.zeros(0, np.int64)
    x = 0.08 * (world.imd[who] - 5.5) - 0.12 * (world.ltc[who] - 2)
    target = rates.survey_positive_share
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        mean = (1 / (1 + np.exp(-(mid + x)))).mean() if len(x) else target
        lo, hi = (mid, hi) if mean < target else (lo, mid)
    p = 1 / (1 + np.exp(-((lo + hi) / 2 + x)))
    positive = rng.random(len(who)) < p
    key = np.lexsort((world.nhs_number[who], when))
    return Responses(who[key], when[key], positive[key])


def generate_opt_outs(world: World, rng: np.random.Generator) -> np.ndarray:
    """Indices of residents on the national data opt-out list, in NHS number order."""
    chosen = np.flatnonzero(rng.random(world.n) < world.params.opt_out_share)
    return chosen[np.argsort(world.nhs_number[chosen])]


def population_estimates(world: World, mid_years: list[int]) -> dict[str, list[object]]:
    """Residents alive on 30 June of each year, by sex and age band (all cells, zeros too)."""
    out: dict[str, list[object]] = {
        "hwb_code": [],
        "year": [],
        "sex": [],
        "age_band": [],
        "population": [],
    }
    for y in mid_years:
        d = date(y, 6, 30)
        alive = (world.dob <= day(d)) & (world.death > day(d))
        band = np.searchsorted(BAND_LOW, age_at(world.dob[alive], d), side="right") - 1
        counts = np.bincount(world.sex[alive] * len(AGE_BANDS) + band, minlength=2 * len(AGE_BANDS))
        for s, sex in enumerate(("M", "F")):
            for b, label in enumerate(AGE_BANDS):
                out["hwb_code"].append(world.params.area.hwb_code)
                out["year"].append(y)
                out["sex"].append(sex)
                out["age_band"].append(label)
                out["population"].append(int(counts[s * len(AGE_BANDS) + b]))
    return out


def scheme_activity(
    world: World, month_starts: list[date], rng: np.random.Generator
) -> dict[str, list[object]]:
    """Monthly admissions avoided per scheme: Poisson around target / 12."""
    out: dict[str, list[object]] = {"scheme_reference": [], "month": [], "admissions_avoided": []}
    for scheme in world.params.schemes:
        counts = rng.poisson(scheme.admissions_avoided_per_year / 12, size=len(month_starts))
        for m, c in zip(month_starts, counts, strict=True):
            out["scheme_reference"].append(scheme.reference)
            out["month"].append(day(m))
            out["admissions_avoided"].append(int(c))
    return out
