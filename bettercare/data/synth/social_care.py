"""Council adult social care services, with the identifier noise that makes linkage hard.

Rows: permanent residential/nursing admissions of people 65+ (seed 002: 630.2 per
100,000 65+ per year; at most one per person), the social care side of every
reablement episode, and other service episodes (home care, equipment, day care, direct
payments, carer support, respite) at a configured rate per 1,000 adults.

Noise is applied to each council *client record*, so all of a record's rows carry the
same identifiers, as in a case management system: NHS number missing (e.g. 15%) or
mistyped (e.g. 2%, mostly failing modulus 11), a typo or an OCR-like misreading in a
name, a name variant (Bill for William, Muhammad for Mohammed), another recorded given
name, given and family names swapped, names in capitals, an error in the date of birth
(day/month swapped, off by a day, year mis-keyed) or none recorded, a different (old or
new) postcode, no postcode or one that is not UK-shaped; some people have a second
(duplicate) client record with its own errors. Rates and sources:
:class:`bettercare.data.synth.params.Noise`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from bettercare.data.synth import names, nhs
from bettercare.data.synth.hospital import DEST, Reablement, Spells
from bettercare.data.synth.world import I65, NO_DEATH, World, ymd

T = TypeVar("T")

SERVICE_OLD = {  # 65+, not in seeds: approximates SALT 2016/17 service mix
    "home_care": 35,
    "equipment": 25,
    "day_care": 7,
    "direct_payment": 6,
    "carer_support": 7,
    "residential_care": 8,
    "nursing_care": 2,
    "other": 10,
}
SERVICE_YOUNG = {
    "home_care": 20,
    "equipment": 15,
    "day_care": 15,
    "direct_payment": 25,
    "carer_support": 10,
    "residential_care": 5,
    "other": 10,
}
# Mean duration in days (0 = one-off).
DURATION = {
    "home_care": 120,
    "equipment": 0,
    "day_care": 180,
    "direct_payment": 365,
    "carer_support": 30,
    "residential_care": 14,
    "nursing_care": 21,
    "other": 60,
    "reablement": 35,
}


@dataclass
class Services:
    """Council service episodes, one row per service (person = index into the world)."""

    person: np.ndarray
    service_type: np.ndarray  # object str
    start: np.ndarray
    end: np.ndarray  # NO_DEATH-like sentinel (> world.end) means NULL
    permanent: np.ndarray


def _setting(service_type: np.ndarray) -> np.ndarray:
    nursing = np.where(service_type == "nursing_care", "nursing", "community")
    return np.where(service_type == "residential_care", "residential", nursing).astype(object)


@dataclass
class Admissions:
    """Permanent residential/nursing admissions of people 65+ (one per person at most)."""

    person: np.ndarray
    start: np.ndarray
    service_type: np.ndarray  # "residential_care" | "nursing_care"
    rate: np.ndarray  # per person annual hazard in the span's first year (truth)


def permanent_admissions(world: World, sp: Spells, rng: np.random.Generator) -> Admissions:
    """Draw permanent admissions; a configured share come straight from hospital.

    At most one per person; ``k`` is solved so the expected count hits the rate (seed 002:
    630.2 per 100,000 65+ per year). For ``permanent_from_hospital_share`` of admissions
    (people with an emergency stay in the span, discharged alive and not to reablement)
    the admission date becomes that spell's discharge date and the spell's destination
    ``care_home`` or ``nursing_home`` (edits ``sp`` in place).
    """
    p = world.params
    mult = world.multiplier(p.risk.permanent_admission)
    rate = p.event_rates.permanent_admissions_65_per_100k_per_year / 1e5
    # Year by year: people admitted in an earlier year cannot be admitted again.
    free = np.ones(world.n, dtype=bool)
    who_parts, start_parts, ks = [], [], []
    for i, pop in enumerate(world.mid_year_population(65)):
        lo, hi = world.year_window(i)
        span = np.clip(hi - lo, 0, None)
        x = np.where(free, mult * span / 365.25, 0.0)
        k = _solve_k(x, rate * pop * world.secondary_use_factor)
        ks.append(k)
        who = np.flatnonzero(rng.random(world.n) < 1 - np.exp(-k * x))
        free[who] = False
        who_parts.append(who)
        start_parts.append(lo[who] + np.floor(rng.random(len(who)) * span[who]).astype(np.int64))
    a_who = np.concatenate(who_parts).astype(np.int64)
    a_start = np.concatenate(start_parts).astype(np.int64)
    a_type = np.where(rng.random(len(a_who)) < 0.6, "residential_care", "nursing_care")

    # From hospital: the latest eligible emergency discharge on or before the drawn date,
    # else the first after it, in the same financial year; chosen for enough people to
    # give the configured share.
    ok = np.flatnonzero(
        ~sp.elective
        & (sp.discharge >= world.start)
        & (sp.discharge <= world.end)
        & ~np.isin(sp.destination, [DEST["died"], DEST["reablement"]])
    )
    # Search within the person's same financial year, so no admission changes year.
    n_years = len(world.years)
    group_ok = sp.person[ok] * n_years + world.year_of(sp.discharge[ok])
    group_a = a_who * n_years + world.year_of(a_start)
    key = group_ok * 1_000_000 + sp.discharge[ok]
    order = np.argsort(key, kind="stable")
    key, ok, group_ok = key[order], ok[order], group_ok[order]
    spell = np.full(len(a_who), -1, dtype=np.int64)
    if len(ok):
        pos = np.searchsorted(key, group_a * 1_000_000 + a_start, side="right") - 1
        before = (pos >= 0) & (group_ok[np.clip(pos, 0, None)] == group_a)
        after_pos = np.clip(pos + 1, 0, len(ok) - 1)
        after = ~before & (group_ok[after_pos] == group_a)
        spell = np.where(before, ok[np.clip(pos, 0, None)], np.where(after, ok[after_pos], -1))
    has = spell >= 0
    share = p.event_rates.permanent_from_hospital_share
    q = min(1.0, share * len(a_who) / has.sum()) if has.any() else 0.0
    found = has & (rng.random(len(a_who)) < q)
    a_start[found] = sp.discharge[spell[found]]
    sp.destination[spell[found]] = np.where(
        a_type[found] == "residential_care", DEST["care_home"], DEST["nursing_home"]
    )
    return Admissions(a_who, a_start, a_type.astype(object), ks[0] * mult)


def _solve_k(x: np.ndarray, target: float) -> float:
    """``k`` with sum(1 - exp(-k x)) = ``target`` (at most one admission per person)."""
    lo, hi = 0.0, 1.0
    while (1 - np.exp(-hi * x)).sum() < target and hi < 1e6:
        hi *= 2
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (1 - np.exp(-mid * x)).sum() < target else (lo, mid)
    return (lo + hi) / 2


def generate_services(
    world: World, sp: Spells, reab: Reablement, adm: Admissions, rng: np.random.Generator
) -> Services:
    """Service rows, sorted by start date then NHS number."""
    p = world.params
    a_who, a_start, a_type = adm.person, adm.start, adm.service_type
    a_end = world.death[a_who]  # until death (NULL if alive at the end)

    # Reablement episodes also appear in the council system.
    r_who = sp.person[reab.spell]
    r_start = reab.start
    r_end = r_start + 1 + rng.geometric(1 / DURATION["reablement"], size=len(r_who))
    r_end = np.minimum(r_end, world.death[r_who])

    # Other episodes for adults.
    sc_rates = world.yearly_rates(
        world.multiplier(p.risk.social_care),
        p.event_rates.social_care_episodes_per_1000_18_per_year / 1000,
        18,
    )
    o_who, o_start = world.draw_yearly(rng, sc_rates)
    old = world.band[o_who] >= I65
    o_type = np.empty(len(o_who), dtype=object)
    for mix, mask in ((SERVICE_OLD, old), (SERVICE_YOUNG, ~old)):
        keys = list(mix)
        w = np.array([mix[k_] for k_ in keys], dtype=np.float64)
        o_type[mask] = np.asarray(keys, dtype=object)[
            rng.choice(len(keys), size=int(mask.sum()), p=w / w.sum())
        ]
    dur_mean = np.array([DURATION[t] for t in o_type], dtype=np.float64)
    o_dur = np.where(dur_mean > 0, rng.geometric(1 / np.maximum(dur_mean, 1)), 0)
    o_end = np.minimum(o_start + o_dur, world.death[o_who])

    person = np.concatenate([a_who, r_who, o_who])
    stype = np.concatenate([a_type, np.full(len(r_who), "reablement", object), o_type])
    start = np.concatenate([a_start, r_start, o_start]).astype(np.int64)
    end = np.concatenate([a_end, r_end, o_end]).astype(np.int64)
    permanent = np.concatenate([np.ones(len(a_who), bool), np.zeros(len(r_who) + len(o_who), bool)])
    keep = start <= world.end
    person, stype, start, end, permanent = (a[keep] for a in (person, stype, start, end, permanent))
    key = np.lexsort((world.nhs_number[person], start))
    return Services(person[key], stype[key], start[key], end[key], permanent[key])


@dataclass
class ClientIdentifiers:
    """Identifiers as the council holds them, one row per service (None = missing)."""

    nhs_number: list[str | None]
    given_name: list[str]
    family_name: list[str]
    date_of_birth: np.ndarray  # int64 days
    postcode: list[str | None]
    date_of_birth_missing: np.ndarray | None = None  # bool per row; None = none missing


_ALPHA = "abcdefghijklmnopqrstuvwxyz"


def _typo(rng: np.random.Generator, name: str) -> str:
    """One keying error: drop, double, swap adjacent or replace a letter."""
    if len(name) < 3:
        return name + name[-1]
    i = int(rng.integers(1, len(name) - 1))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2:
        return (
            name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
            if name[i] != name[i - 1]
            else name[:i] + name[i + 1 :]
        )
    ch = _ALPHA[int(rng.integers(0, 26))]
    if ch == name[i].lower():
        ch = "e" if ch != "e" else "a"
    return name[:i] + ch + name[i + 1 :]


def _dob_error(rng: np.random.Generator, dob: int) -> int:
    """Day/month swapped, off by one day, or year mis-keyed (e.g. 1945 -> 1954 / 1946)."""
    y, m, d = (int(a[0]) for a in ymd(np.array([dob])))
    kind = int(rng.integers(0, 3))
    if kind == 0 and d <= 12 and d != m:
        y2, m2, d2 = y, d, m
    elif kind == 1 or (kind == 0):
        return dob + (1 if rng.random() < 0.5 else -1)
    else:
        tens, units = (y // 10) % 10, y % 10
        y2 = y - 10 * tens - units + 10 * units + tens if tens != units else y + 1
        m2, d2 = m, min(d, 28)
    return int(
        (np.datetime64(f"{y2:04d}-{m2:02d}-{d2:02d}") - np.datetime64("1970-01-01")).astype(
            np.int64
        )
    )


# OCR-like misreadings of handwriting or a scanned form (either direction).
_OCR = (("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("e", "c"), ("u", "v"), ("h", "b"))
# Postcodes that are not UK-shaped: no fixed abode, an Eircode, a French code, free text.
_NOT_UK = ("NFA", "D02 X285", "75008", "UNKNOWN")


def _ocr(rng: np.random.Generator, name: str) -> str:
    """One OCR-like misreading (case kept), or a keying typo if no pattern occurs."""
    found = [(a, b) for a, b in _OCR if a in name.lower()]
    if not found:
        return _typo(rng, name)
    a, b = found[int(rng.integers(0, len(found)))]
    i = name.lower().index(a)
    if name.isupper():
        b = b.upper()
    elif name[i].isupper():
        b = b[0].upper() + b[1:]
    return name[:i] + b + name[i + len(a) :]


def client_identifiers(world: World, svc: Services, rng: np.random.Generator) -> ClientIdentifiers:
    """Noisy identifiers per client record, broadcast to that record's service rows.

    The error model is :class:`bettercare.data.synth.params.Noise`. A kind whose share
    is 0 draws no random numbers, so the default data are those of earlier versions.
    """
    noise = world.params.noise
    version = np.zeros(len(svc.person), dtype=np.int64)
    if noise.duplicate_client > 0:  # a second client record for some people
        duplicated = rng.random(world.n) < noise.duplicate_client
        version = (duplicated[svc.person] & (rng.random(len(svc.person)) < 0.5)).astype(np.int64)
    units, row_client = np.unique(svc.person * 2 + version, return_inverse=True)
    clients = units // 2
    nc = len(clients)
    u_nhs = rng.random(nc)
    missing = u_nhs < noise.missing_nhs_number
    mistyped = ~missing & (u_nhs < noise.missing_nhs_number + noise.mistyped_nhs_number)
    numbers = world.nhs_number[clients].copy()
    numbers[mistyped] = nhs.mistype(rng, numbers[mistyped])
    nhs_str: list[str | None] = [
        None if m else str(v) for v, m in zip(numbers, missing, strict=True)
    ]

    sex = world.sex[clients]
    given_idx = world.given[clients]
    given = [
        names.MALE[g] if s == 0 else names.FEMALE[g] for g, s in zip(given_idx, sex, strict=True)
    ]
    family = [names.FAMILY[f] for f in world.family[clients]]
    typo = rng.random(nc) < noise.name_typo
    which = rng.random(nc) < 0.5
    for i in np.flatnonzero(typo):
        if which[i]:
            given[i] = _typo(rng, given[i])
        else:
            family[i] = _typo(rng, family[i])

    for i in np.flatnonzero(rng.random(nc) < noise.name_variant):
        given[i] = names.VARIANTS.get(given[i], given[i])
        family[i] = names.VARIANTS.get(family[i], family[i])
    for i in np.flatnonzero(rng.random(nc) < noise.upper_case_names):
        given[i], family[i] = given[i].upper(), family[i].upper()

    dob = world.dob[clients].astype(np.int64)
    for i in np.flatnonzero(rng.random(nc) < noise.dob_error):
        dob[i] = _dob_error(rng, int(dob[i]))

    pc_idx = world.postcode[clients].copy()
    moved = rng.random(nc) < noise.postcode_change
    pool = len(world.postcode_pool)
    pc_idx[moved] = (pc_idx[moved] + rng.integers(1, pool, size=int(moved.sum()))) % max(pool, 1)
    no_pc = rng.random(nc) < noise.postcode_missing
    postcode: list[str | None] = [
        None if n_ else world.postcode_pool[i] for i, n_ in zip(pc_idx, no_pc, strict=True)
    ]

    if noise.ocr_error > 0:
        which = rng.random(nc) < 0.5
        for i in np.flatnonzero(rng.random(nc) < noise.ocr_error):
            if which[i]:
                given[i] = _ocr(rng, given[i])
            else:
                family[i] = _ocr(rng, family[i])
    if noise.given_name_different > 0:
        for i in np.flatnonzero(rng.random(nc) < noise.given_name_different):
            recorded = names.MALE if sex[i] == 0 else names.FEMALE
            other = recorded[int(rng.integers(0, len(recorded)))]
            if other == given[i]:
                other = recorded[(recorded.index(other) + 1) % len(recorded)]
            given[i] = other
    if noise.name_swap > 0:
        for i in np.flatnonzero(rng.random(nc) < noise.name_swap):
            given[i], family[i] = family[i], given[i]
    dob_missing = None
    if noise.dob_missing > 0:
        dob_missing = rng.random(nc) < noise.dob_missing
    if noise.postcode_not_uk > 0:
        for i in np.flatnonzero(rng.random(nc) < noise.postcode_not_uk):
            postcode[i] = _NOT_UK[int(rng.integers(0, len(_NOT_UK)))]

    def rows(values: list[T]) -> list[T]:
        return [values[i] for i in row_client]

    return ClientIdentifiers(
        rows(nhs_str),
        rows(given),
        rows(family),
        dob[row_client],
        rows(postcode),
        None if dob_missing is None else dob_missing[row_client],
    )


__all__ = [
    "NO_DEATH",
    "Admissions",
    "ClientIdentifiers",
    "Services",
    "client_identifiers",
    "generate_services",
    "permanent_admissions",
]
