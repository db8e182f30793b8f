"""The synthetic residents and the log-linear risk model every feed draws events from.

Risk model (documented contract for analysts; see also ``_truth/residents_risk``)::

    rate_i(event) = k_event x age_rel[band_i] x m_i / mean_{j in band_i}(m_j)
    m_i = ltc_rr ** LTC_i x imd_rr ** (10 - IMD_i) x dementia_rr ** dementia_i x frailty_i

``age_rel`` sets each age band's mean rate (relative), LTC count, IMD decile (1 = most
deprived), true dementia and a Gamma(shape, 1/shape) frailty redistribute it within the
band, and ``k_event`` scales the total so the expected count equals the configured rate times the
metric's own denominator: residents in the age group alive on 30 June, as in the ONS
mid-year estimates the BCF metrics divide by (e.g. seed 002's 714.78 non-elective
admissions per 100,000 per month). Events are Poisson in each person's exposure window
(from the start of the span or birth to the end of the span or death), so the dead
generate no events.

``k_event`` is solved **per financial year** (:meth:`World.yearly_rates`): age, LTC count
and dementia are fixed at the start of the span (spans are 1-3 years), so without it the
later years would drift below the rate as deaths deplete the frailest and people ageing
into 65+ keep their younger band's rate. Expected counts are also divided by
``1 - opt_out_share``: opted-out people's records never reach the analytics tables while
the ONS denominator counts everyone, so this is what makes the *measured* rate match the
seed figure (see ``benchmarks/calibration.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from bettercare.data.schema import AGE_BANDS
from bettercare.data.synth import names, nhs
from bettercare.data.synth.params import EventRisk, SynthParams
from bettercare.domain.periods import fy_start_of

EPOCH = date(1970, 1, 1)
BAND_LOW = np.array([int(b.split("-")[0].rstrip("+")) for b in AGE_BANDS])
BAND_HIGH = np.append(BAND_LOW[1:], 101)  # 90+ handled separately
I65 = AGE_BANDS.index("65-69")
I18 = AGE_BANDS.index("18-19")
NO_DEATH = np.iinfo(np.int32).max
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
POSTCODES_PER_LSOA = 12


def day(d: date) -> int:
    """Days since 1970-01-01 (the date32 encoding)."""
    return (d - EPOCH).days


def band_index(age_years: np.ndarray) -> np.ndarray:
    """Index into :data:`AGE_BANDS` of each age in whole years."""
    return np.searchsorted(BAND_LOW, age_years, side="right") - 1


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day-of-month arrays for date32 day numbers."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    dom = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, dom


def age_at(dob: np.ndarray, when: date) -> np.ndarray:
    """Whole years of age on ``when`` for date32 day numbers ``dob``."""
    year, month, dom = ymd(dob)
    before = (month > when.month) | ((month == when.month) & (dom > when.day))
    return when.year - year - before.astype(np.int64)


@dataclass
class World:
    """Person-level arrays (one element per resident) plus the span being simulated."""

    params: SynthParams
    start: int  # first day of the span (date32)
    end: int  # last day of the span, inclusive
    nhs_number: np.ndarray  # int64
    sex: np.ndarray  # 0 = M, 1 = F
    dob: np.ndarray  # int32 days
    band: np.ndarray  # age band at the start of the span (births: 0-4)
    lsoa: np.ndarray  # index into lsoa_codes
    imd: np.ndarray  # decile 1..10
    ltc: np.ndarray
    dementia: np.ndarray  # true dementia (diagnosed or not)
    dementia_dx: np.ndarray  # on the dementia register by the end of the span
    frailty: np.ndarray
    death: np.ndarray  # date32 day or NO_DEATH
    given: np.ndarray  # index into names.MALE / names.FEMALE by sex
    family: np.ndarray  # index into names.FAMILY
    postcode: np.ndarray  # index into postcode_pool
    practice: np.ndarray  # index into practice_codes
    lsoa_codes: list[str]
    postcode_pool: list[str]
    practice_codes: list[str]
    dementia_dx_date: np.ndarray | None = None  # date32 day of diagnosis or NO_DEATH
    _cache: dict[object, Any] = field(default_factory=dict)  # memoised derived values

    @property
    def n(self) -> int:
        """Number of people in the world."""
        return len(self.nhs_number)

    @property
    def entry(self) -> np.ndarray:
        """First day of each person's exposure window (birth or the span's start)."""
        return np.maximum(self.dob, self.start)

    @property
    def exit(self) -> np.ndarray:
        """Exclusive end of each person's exposure window."""
        return np.minimum(self.death, self.end + 1)

    def multiplier(self, risk: EventRisk) -> np.ndarray:
        """Relative annual rate per person (mean ``age_relative`` in each band; 0 if ineligible)."""
        age_rel = np.array([risk.age_relative.get(b, 0.0) for b in AGE_BANDS])
        m = (
            risk.ltc_rr ** self.ltc.astype(np.float64)
            * risk.imd_rr ** (10 - self.imd).astype(np.float64)
            * np.where(self.dementia, risk.dementia_rr, 1.0)
            * self.frailty
        )
        counts = np.bincount(self.band, minlength=len(AGE_BANDS))
        sums = np.bincount(self.band, weights=m, minlength=len(AGE_BANDS))
        band_mean = np.divide(sums, counts, out=np.ones_like(sums), where=counts > 0)
        return age_rel[self.band] * m / band_mean[self.band]

    @property
    def years(self) -> list[tuple[int, int, date]]:
        """Each financial year of the span: (first day, last day + 1, its 30 June)."""
        if "years" not in self._cache:
            out, lo = [], self.start
            while lo <= self.end:
                fy = fy_start_of(EPOCH + timedelta(days=int(lo)))
                hi = min(day(date(fy + 1, 4, 1)), self.end + 1)
                out.append((lo, hi, date(fy, 6, 30)))
                lo = hi
            self._cache["years"] = out
        return self._cache["years"]

    def year_window(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Each person's exposure window within financial year ``i`` of the span."""
        lo, hi, _ = self.years[i]
        return np.maximum(self.entry, lo), np.minimum(self.exit, hi)

    def year_exposure(self, i: int) -> np.ndarray:
        """Each person's years of exposure within financial year ``i`` of the span."""
        lo, hi = self.year_window(i)
        return np.clip(hi - lo, 0, None) / 365.25

    def mid_year_population(self, min_age: int = 0) -> list[int]:
        """A BCF metric denominator per financial year.

        Residents aged ``min_age``+ alive on its 30 June (the ONS mid-year convention).
        """
        key = ("mid_year", min_age)
        if key not in self._cache:
            counts = []
            for _, _, mid in self.years:
                alive = (self.dob <= day(mid)) & (self.death > day(mid))
                counts.append(int((age_at(self.dob[alive], mid) >= min_age).sum()))
            self._cache[key] = counts
        return self._cache[key]

    @property
    def secondary_use_factor(self) -> float:
        """1 / (1 - opt-out share): events to generate per event that will be measured."""
        return 1.0 / (1.0 - self.params.opt_out_share)

    def yearly_rates(
        self,
        mult: np.ndarray,
        rate: float,
        min_age: int = 0,
        minus: list[float] | None = None,
    ) -> list[np.ndarray]:
        """Annual rates ``k_y * mult`` per financial year ``y`` of the span.

        ``k_y`` makes the expected events in year ``y`` equal ``rate`` (per person-year)
        times the year's mid-year population aged ``min_age``+, times
        :attr:`secondary_use_factor`, less ``minus[y]`` (events another source supplies).
        """
        out = []
        for i, target in enumerate(self.mid_year_population(min_age)):
            want = rate * target * self.secondary_use_factor - (minus[i] if minus else 0.0)
            raw = (mult * self.year_exposure(i)).sum()
            out.append((max(want, 0.0) / raw if raw > 0 else 0.0) * mult)
        return out

    def expected_by_year(self, rates: list[np.ndarray]) -> list[float]:
        """Expected event counts per financial year for :meth:`yearly_rates` output."""
        return [float((r * self.year_exposure(i)).sum()) for i, r in enumerate(rates)]

    def draw_yearly(
        self, rng: np.random.Generator, rates: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`draw_events` in each financial year with that year's rates."""
        parts = [self.draw_events(rng, r, self.year_window(i)) for i, r in enumerate(rates)]
        return (
            np.concatenate([p[0] for p in parts]).astype(np.int64),
            np.concatenate([p[1] for p in parts]).astype(np.int64),
        )

    def year_of(self, days: np.ndarray) -> np.ndarray:
        """Index of the span's financial year holding each date32 day (clipped to the span)."""
        starts = np.array([lo for lo, _, _ in self.years])
        return np.clip(np.searchsorted(starts, days, side="right") - 1, 0, len(starts) - 1)

    def draw_events(
        self,
        rng: np.random.Generator,
        annual_rate: np.ndarray,
        window: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Poisson events in each person's window (default: exposure), by person.

        Returns (person index, date32 day).
        """
        lo, hi = window if window is not None else (self.entry, self.exit)
        days = np.clip(hi - lo, 0, None)
        counts = rng.poisson(annual_rate * days / 365.25)
        who = np.repeat(np.arange(self.n), counts)
        when = lo[who] + np.floor(rng.random(len(who)) * days[who]).astype(np.int64)
        return who, when.astype(np.int64)


def build_world(params: SynthParams, start: date, end: date, rng: np.random.Generator) -> World:
    """Residents at ``start`` plus births during the span, with deaths drawn for the span."""
    area, demo = params.area, params.demography
    s, e = day(start), day(end)
    years = (e - s + 1) / 365.25
    n0 = area.population
    n_births = int(rng.poisson(demo.births_per_1000_per_year / 1000 * n0 * years))
    n = n0 + n_births

    # Age band and sex from the age/sex structure.
    w = np.array([list(demo.age_sex.male.values()), list(demo.age_sex.female.values())])
    cell = rng.choice(w.size, size=n0, p=(w / w.sum()).ravel())
    sex0, band0 = cell // len(AGE_BANDS), cell % len(AGE_BANDS)
    low, high = BAND_LOW[band0], BAND_HIGH[band0]
    age = low + rng.random(n0) * (high - low)
    old = band0 == len(AGE_BANDS) - 1
    age[old] = 90 + np.minimum(rng.exponential(4.0, old.sum()), 14.9)
    dob0 = s - np.floor(age * 365.25).astype(np.int64) - 1
    dob_b = s + np.floor(rng.random(n_births) * (e - s + 1)).astype(np.int64)
    sex = np.concatenate([sex0, (rng.random(n_births) < 0.487).astype(np.int64)])
    dob = np.concatenate([dob0, dob_b]).astype(np.int32)
    band = np.concatenate([band0, np.zeros(n_births, dtype=np.int64)])

    # Geography: LSOAs with an IMD decile each, postcodes within LSOAs, GP practices.
    n_lsoa = max(1, -(-n0 // area.residents_per_lsoa))
    shares = np.array(area.imd_decile_shares, dtype=np.float64)
    lsoa_imd = 1 + rng.choice(10, size=n_lsoa, p=shares / shares.sum())
    if area.lsoa_start + n_lsoa > 1_000_000:
        raise ValueError("area.lsoa_start + number of LSOAs exceeds E01999999: lower lsoa_start")
    lsoa_codes = [f"E01{area.lsoa_start + i:06d}" for i in range(n_lsoa)]
    district = rng.integers(0, len(area.postcode_districts), size=n_lsoa)
    sector = rng.integers(0, 10, size=n_lsoa)
    units = rng.choice(_UNIT_LETTERS, size=(n_lsoa, POSTCODES_PER_LSOA, 2))
    postcode_pool = [
        f"{area.postcode_districts[district[i]]} {sector[i]}{u[0]}{u[1]}"
        for i in range(n_lsoa)
        for u in units[i]
    ]
    n_prac = max(1, -(-n0 // area.residents_per_practice))
    if n_prac > 999:
        raise ValueError("more than 999 GP practices: raise area.residents_per_practice")
    practice_codes = [f"{area.gp_practice_prefix}{i + 1:03d}" for i in range(n_prac)]
    lsoa = rng.integers(0, n_lsoa, size=n)
    imd = lsoa_imd[lsoa]
    postcode = lsoa * POSTCODES_PER_LSOA + rng.integers(0, POSTCODES_PER_LSOA, size=n)
    near = (lsoa * n_prac) // n_lsoa
    practice = np.where(rng.random(n) < 0.8, near, rng.integers(0, n_prac, size=n))

    # Health: LTC count (Poisson by age, more in deprived areas), dementia, frailty.
    ltc_mean = np.array([demo.ltc_mean_by_age[b] for b in AGE_BANDS])
    lam = ltc_mean[band] * demo.ltc_imd_rr ** ((10 - imd) - 4.5)
    ltc = np.minimum(rng.poisson(lam), 20)
    prev = np.array([demo.dementia_prevalence_by_age.get(b, 0.0) for b in AGE_BANDS])
    dementia = rng.random(n) < prev[band]
    dementia_dx = dementia & (rng.random(n) < demo.dementia_diagnosis_rate)
    shape = params.risk.frailty_shape
    frailty = rng.gamma(shape, 1.0 / shape, size=n)

    world = World(
        params=params,
        start=s,
        end=e,
        nhs_number=nhs.generate(rng, n),
        sex=sex,
        dob=dob,
        band=band,
        lsoa=lsoa,
        imd=imd,
        ltc=ltc,
        dementia=dementia,
        dementia_dx=dementia_dx,
        frailty=frailty,
        death=np.full(n, NO_DEATH, dtype=np.int64),
        given=np.where(sex == 0, names.draw(rng, names.MALE, n), names.draw(rng, names.FEMALE, n)),
        family=names.draw(rng, names.FAMILY, n),
        postcode=postcode,
        practice=practice,
        lsoa_codes=lsoa_codes,
        postcode_pool=postcode_pool,
        practice_codes=practice_codes,
    )
    world.death = _draw_deaths(world, rng)
    _dementia_register(world, rng)
    return world


def _dementia_register(world: World, rng: np.random.Generator) -> None:
    """Dementia diagnosis dates: the register people are on at each year end.

    People diagnosed at the start were diagnosed in the 4 years before it. Each financial
    year, deaths leave the register; new diagnoses -- first among undiagnosed people with
    dementia, then new (incident) cases weighted by age-specific prevalence -- bring it
    back at the year end to the configured diagnosis rate of the prevalence expected in
    the mid-year 65+ population (the metric's denominator), so the dementia diagnosis
    rate metric does not drift down with deaths.
    Incident cases count as having dementia for the whole span in the hospital and care
    event risks drawn after this (not in mortality, which is drawn before).
    """
    demo = world.params.demography
    prev = np.array([demo.dementia_prevalence_by_age.get(b, 0.0) for b in AGE_BANDS])
    dx_date = np.full(world.n, NO_DEATH, dtype=np.int64)
    before = np.floor(rng.random(world.n) * 4 * 365.25).astype(np.int64)
    dx_date[world.dementia_dx] = world.start - 1 - before[world.dementia_dx]
    for lo, hi, mid in world.years:
        # expected prevalence as the metric estimates it: the mid-year 65+ population
        mid_age = age_at(world.dob, mid)
        at_mid = (world.dob <= day(mid)) & (world.death > day(mid)) & (mid_age >= 65)
        expected = prev[band_index(mid_age[at_mid])].sum()
        age = age_at(world.dob, EPOCH + timedelta(days=int(hi - 1)))
        living_65 = (world.death >= hi) & (world.dob < hi) & (age >= 65)
        wanted = demo.dementia_diagnosis_rate * expected * world.secondary_use_factor
        on_register = int((living_65 & (dx_date < hi)).sum())
        new = round(float(wanted)) - on_register
        if new <= 0:
            continue
        free = living_65 & (dx_date == NO_DEATH)
        pool = np.flatnonzero(free & world.dementia)
        chosen = rng.choice(pool, size=min(new, len(pool)), replace=False)
        if new > len(pool):
            others = np.flatnonzero(free & ~world.dementia)
            w = prev[band_index(age[others])]
            k = min(new - len(pool), int((w > 0).sum()))
            incident = rng.choice(others, size=k, replace=False, p=w / w.sum()) if k else others[:0]
            world.dementia[incident] = True
            chosen = np.concatenate([chosen, incident])
        # diagnosed on a day of the year when the person is 65 or over
        turned_65 = world.dob[chosen].astype(np.int64) + int(65 * 365.25)
        first = np.maximum(lo, np.minimum(turned_65, hi - 1))
        dx_date[chosen] = first + np.floor(rng.random(len(chosen)) * (hi - first)).astype(np.int64)
    world.dementia_dx = dx_date != NO_DEATH
    world.dementia_dx_date = dx_date


def _draw_deaths(world: World, rng: np.random.Generator) -> np.ndarray:
    """Exponential time to death from band mortality x (LTC, IMD, dementia, sex) ratios."""
    demo, risk = world.params.demography, world.params.risk
    base = np.array([demo.mortality_per_1000_by_age[b] for b in AGE_BANDS]) / 1000
    m = (
        risk.mortality_ltc_rr ** world.ltc.astype(np.float64)
        * risk.mortality_imd_rr ** (10 - world.imd).astype(np.float64)
        * np.where(world.dementia, risk.mortality_dementia_rr, 1.0)
        * np.where(world.sex == 0, demo.male_mortality_rr, 1.0)
    )
    counts = np.bincount(world.band, minlength=len(AGE_BANDS))
    sums = np.bincount(world.band, weights=m, minlength=len(AGE_BANDS))
    band_mean = np.divide(sums, counts, out=np.ones_like(sums), where=counts > 0)
    hazard = base[world.band] * m / band_mean[world.band]  # per year
    t_days = rng.exponential(1.0, world.n) / np.maximum(hazard, 1e-12) * 365.25
    death = world.entry + np.floor(t_days).astype(np.int64)
    return np.where(death <= world.end, death, NO_DEATH)
