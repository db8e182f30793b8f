"""Survey responses, opt-outs, population estimates, scheme activity and A&E attendances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from bettercare.data.schema import AE_DEPARTMENT_TYPE, AE_DISPOSAL, AGE_BANDS
from bettercare.data.synth.world import BAND_LOW, EPOCH, I18, World, age_at, day, ymd

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
    """Monthly admissions avoided per scheme of the area's board: Poisson around target / 12."""
    out: dict[str, list[object]] = {
        "hwb_code": [],
        "scheme_reference": [],
        "month": [],
        "admissions_avoided": [],
    }
    for scheme in world.params.schemes:
        counts = rng.poisson(scheme.admissions_avoided_per_year / 12, size=len(month_starts))
        for m, c in zip(month_starts, counts, strict=True):
            out["hwb_code"].append(world.params.area.hwb_code)
            out["scheme_reference"].append(scheme.reference)
            out["month"].append(day(m))
            out["admissions_avoided"].append(int(c))
    return out


# -- A&E attendances (ECDS) ------------------------------------------------------------------

#: A&E attendances not ending in admission, per person-year, by age from this age on
#: (illustrative: about 0.35 a year overall, higher for infants and the oldest)
AE_RATE_BY_AGE = ((0, 0.55), (5, 0.3), (18, 0.3), (65, 0.4), (80, 0.75))
AE_DEPARTMENT_SHARE = (0.6, 0.03, 0.35, 0.02)  # type 1-4 of the attendances not admitted
#: disposal of an attendance not admitted, and the share of each
AE_OTHER_DISPOSAL = ("ambulatory", "discharged", "transferred", "died")
AE_OTHER_DISPOSAL_SHARE = (0.09, 0.869, 0.035, 0.006)
AE_ADMITTED_VIA_ED = 0.75  # share of emergency admissions that arrive through A&E
AE_NOT_RECORDED = 0.02  # share of attendances with no arrival mode / disposal / LSOA


@dataclass
class Attendances:
    """A&E attendances: who, when, where, how they arrived and what happened."""

    person: np.ndarray
    arrival: np.ndarray  # date32 day
    department: np.ndarray  # index into AE_DEPARTMENT_TYPE
    ambulance: np.ndarray  # bool
    disposal: np.ndarray  # index into AE_DISPOSAL
    provider: np.ndarray  # index into area.provider_codes
    age: np.ndarray  # whole years at arrival
    no_mode: np.ndarray  # bool: arrival mode not recorded
    no_disposal: np.ndarray  # bool: disposal not recorded
    no_lsoa: np.ndarray  # bool: LSOA not recorded


def generate_ae_attendances(
    world: World,
    admitted_person: np.ndarray,
    admitted_day: np.ndarray,
    admitted_provider: np.ndarray,
    rng: np.random.Generator,
) -> Attendances:
    """A&E attendances in the span, sorted by arrival date and NHS number.

    Two kinds: an attendance on the day of an emergency admission for
    :data:`AE_ADMITTED_VIA_ED` of the emergency admissions given (type 1 department, same
    provider, disposal ``admitted``), and attendances not admitted, Poisson in each
    person's exposure window at :data:`AE_RATE_BY_AGE` times their frailty. Drawn from
    ``rng`` alone, so a caller passing its own stream leaves every other feed unchanged.
    """
    n_prov = len(world.params.area.provider_codes)
    via_ed = rng.random(len(admitted_person)) < AE_ADMITTED_VIA_ED
    adm_person, adm_day = admitted_person[via_ed], admitted_day[via_ed]
    adm_provider = admitted_provider[via_ed]
    # attendances not admitted: rate by age at the start of the span
    start_age = age_at(world.dob, EPOCH + timedelta(days=int(world.start)))
    rate = np.zeros(world.n)
    for low, r in AE_RATE_BY_AGE:
        rate[start_age >= low] = r
    entry, exit_ = world.entry, world.exit
    years = np.clip(exit_ - entry, 0, None) / 365.25
    counts = rng.poisson(rate * world.frailty * years)
    person = np.repeat(np.arange(world.n), counts)
    span = (exit_ - entry)[person]
    other_day = entry[person] + (rng.random(len(person)) * span).astype(np.int64)
    department = rng.choice(len(AE_DEPARTMENT_TYPE), size=len(person), p=AE_DEPARTMENT_SHARE)
    pick = rng.choice(len(AE_OTHER_DISPOSAL), size=len(person), p=AE_OTHER_DISPOSAL_SHARE)
    disposal = np.array([AE_DISPOSAL.index(d) for d in AE_OTHER_DISPOSAL])[pick]
    provider = rng.integers(0, n_prov, size=len(person))
    persons = np.concatenate([adm_person, person]).astype(np.int64)
    arrival = np.concatenate([adm_day, other_day]).astype(np.int64)
    dept = np.concatenate([np.zeros(len(adm_person), np.int64), department])
    disp = np.concatenate([np.full(len(adm_person), AE_DISPOSAL.index("admitted")), disposal])
    prov = np.concatenate([adm_provider, provider]).astype(np.int64)
    age = _age_on(world.dob[persons], arrival)
    p_amb = np.where(dept == 0, np.where(age >= 65, 0.45, 0.2), 0.02)
    p_amb = np.where(disp == AE_DISPOSAL.index("admitted"), 0.55, p_amb)
    ambulance = rng.random(len(persons)) < p_amb
    missing = rng.random((3, len(persons))) < AE_NOT_RECORDED
    key = np.lexsort((world.nhs_number[persons], arrival))
    return Attendances(
        person=persons[key],
        arrival=arrival[key],
        department=dept[key],
        ambulance=ambulance[key],
        disposal=disp[key],
        provider=prov[key],
        age=age[key],
        no_mode=missing[0][key],
        no_disposal=missing[1][key],
        no_lsoa=missing[2][key],
    )


def _age_on(dob: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whole years from each date of birth to each date (date32 day numbers)."""
    by, bm, bd = ymd(dob)
    wy, wm, wd = ymd(when)
    before = (bm > wm) | ((bm == wm) & (bd > wd))
    return wy - by - before.astype(np.int64)
