"""Hospital spells, delayed transfers of care and reablement after discharge.

* Non-elective spells: three sources that together hit the configured rate (seed 002:
  714.78 per 100,000 per month, all ages): general emergencies, falls admissions of
  people 65+ (seed 002: 118.05 per 100,000 65+ per month; ``injury_due_to_fall``, S/T
  injury or W00-W19 primary diagnosis) and terminal admissions of people who die in
  hospital (~45% of deaths).
* Elective spells: ~70% day cases.
* Delayed transfers: delayed spells are chosen among emergency spells of adults (older
  people weighted x6) so delayed days per 100,000 18+ per month match the rate (seed
  002: 351.1); each delay extends the stay and is reported per calendar month.
* Run-in: emergency spells are also drawn for the 60 days before the span; those still
  in hospital on its first day stay in the feed (admission date before the span), so
  delays carry into the first months as they do in a steady state.
* Reablement: a configured share of 65+ discharges go to reablement (ASCOF 2B(2)); the
  91-day outcome is "died" if the person dies within 91 days, else "at_home" with a
  probability set so the at-home share matches (seed 002: 88%), lower for people with
  more LTCs or dementia.
* Discharge Ready Dates (from 2023/24): a delayed transfer's spell is ready on the day
  its delay began; short delays are added so ~87% of adult discharges leave on the ready
  date (:func:`discharge_ready_dates`, assumptions cited there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from bettercare.data.schema import DISCHARGE_DESTINATION, DTOC_REASON
from bettercare.data.synth.world import I18, I65, NO_DEATH, World, day, ymd
from bettercare.domain.metric_sources import COLLECTION_ENDS

# Primary diagnoses (ICD-10) with relative weights (illustrative case mix, not in seeds).
# fmt: off
_NEL_CHILD = (["J06.9", "R50.9", "B34.9", "J21.9", "A09.9", "R10.4", "J45.9", "S06.0"],
              [20, 15, 12, 10, 12, 12, 10, 9])
_NEL_ADULT = (["R07.4", "R10.4", "J18.9", "N39.0", "I21.9", "J44.1", "I50.0", "K80.2",
               "A09.9", "R55X", "I48X", "E11.9", "F10.0", "L03.1", "I63.9", "J22X"],
              [12, 12, 9, 7, 5, 6, 5, 4, 5, 5, 5, 3, 4, 4, 4, 10])
# Falls: injuries (hip fracture S72 most common) or, when coded poorly, the W00-W19 cause.
_FALLS = (["S72.0", "S72.1", "S06.0", "S42.2", "S52.5", "S32.5", "S22.3", "S01.0",
           "T14.0", "W19X", "W10X", "W01X"],
          [22, 8, 10, 8, 10, 8, 8, 10, 6, 6, 2, 2])
_ELECTIVE = (["H25.9", "M17.1", "M16.1", "K80.2", "C50.9", "C18.9", "Z51.1", "K40.9",
              "N40X", "I25.1", "D12.6", "K57.3", "M23.2", "N20.0"],
             [16, 8, 6, 6, 5, 4, 10, 7, 5, 5, 9, 6, 6, 7])
_TERMINAL = (["J18.9", "C34.9", "I50.0", "J44.1", "I63.9", "N17.9", "A41.9", "C18.9"],
             [20, 12, 14, 12, 10, 10, 14, 8])
# fmt: on

# Reasons for delay with (weight, P(nhs), P(social_care)); rest "both". Weights and
# attribution shares approximate the DToC SitRep 2016/17 (not in seeds): ~56% NHS,
# ~37% social care, ~7% both.
_REASONS = {
    "awaiting_assessment": (16, 0.55, 0.35),
    "awaiting_public_funding": (3, 0.1, 0.85),
    "awaiting_further_nhs_care": (20, 0.97, 0.01),
    "awaiting_residential_home": (9, 0.3, 0.6),
    "awaiting_nursing_home": (12, 0.5, 0.4),
    "awaiting_care_package": (20, 0.35, 0.6),
    "awaiting_community_equipment": (3, 0.5, 0.45),
    "patient_family_choice": (12, 0.8, 0.15),
    "disputes": (2, 0.4, 0.3),
    "housing": (3, 0.7, 0.25),
}
ATTRIBUTIONS = ("nhs", "social_care", "both")
DEST = {d: i for i, d in enumerate(DISCHARGE_DESTINATION)}


def _pick(rng: np.random.Generator, table: tuple[list[str], list[int]], n: int) -> np.ndarray:
    codes, w = table
    p = np.asarray(w, dtype=np.float64)
    return np.asarray(codes, dtype=object)[rng.choice(len(codes), size=n, p=p / p.sum())]


def _geometric_days(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Whole days >= 0 with the given mean (geometric)."""
    mean = np.asarray(mean, dtype=np.float64)
    return rng.geometric(1.0 / (1.0 + mean)) - 1


@dataclass
class Spells:
    """Generated hospital spells, one array element per spell."""

    person: np.ndarray
    elective: np.ndarray  # bool
    admission: np.ndarray  # int64 day
    discharge: np.ndarray  # int64 day; > world.end means still in hospital (NULL)
    diagnosis: np.ndarray  # object (str)
    fall: np.ndarray  # bool
    destination: np.ndarray  # index into DISCHARGE_DESTINATION
    provider: np.ndarray  # index into area.provider_codes
    pre: np.ndarray  # bool: admitted in the run-in before the span
    terminal: np.ndarray  # bool: the admission in which the person dies
    # int64 day the patient was ready to leave (the Discharge Ready Date); equals
    # ``discharge`` until a delay is drawn (DToC delays in generate_delays, shorter
    # delays in discharge_ready_dates)
    ready: np.ndarray
    spell_ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.person)

    def take(self, idx: np.ndarray) -> Spells:
        """The spells at positions ``idx`` (spell ids not carried over)."""
        names = (
            "person",
            "elective",
            "admission",
            "discharge",
            "diagnosis",
            "fall",
            "destination",
            "provider",
            "pre",
            "terminal",
            "ready",
        )
        return Spells(**{n: getattr(self, n)[idx] for n in names})


@dataclass
class Truth:
    """What the generator knows about each person that a metric should recover."""

    # per person, general + falls (not terminal), in the span's first financial year
    annual_non_elective_rate: np.ndarray


def _nel_los_mean(band: np.ndarray) -> np.ndarray:
    # Mean emergency length of stay rises with age (not in seeds; HES 2016/17 shape).
    return np.select([band < I18, band < I65, band < I65 + 3], [1.2, 3.5, 6.5], 9.5)


RUN_IN_DAYS = 60  # emergency spells admitted this long before the span can carry in


def _segment(
    rng: np.random.Generator,
    who: np.ndarray,
    adm: np.ndarray,
    los: np.ndarray,
    diag: np.ndarray,
    *,
    elective: bool = False,
    fall: bool = False,
    pre: bool = False,
    terminal: bool = False,
) -> dict[str, np.ndarray]:
    n = len(who)
    return {
        "person": who,
        "admission": adm.astype(np.int64),
        "discharge": (adm + los).astype(np.int64),
        "diagnosis": diag,
        "elective": np.full(n, elective),
        "fall": np.full(n, fall),
        "pre": np.full(n, pre),
        "terminal": np.full(n, terminal),
    }


def generate_spells(world: World, rng: np.random.Generator) -> tuple[Spells, Truth]:
    """All spells, including run-in emergency spells admitted before the span (``pre``)."""
    p = world.params
    rates = p.event_rates

    # Terminal admissions: a share of deaths happen in hospital at the end of a spell.
    died = world.death != NO_DEATH
    t_who = np.flatnonzero(died & (rng.random(world.n) < rates.in_hospital_death_share))
    t_los = _geometric_days(rng, np.full(len(t_who), 8.0))
    t_adm = np.maximum(world.death[t_who] - t_los, world.entry[t_who])
    t_los = world.death[t_who] - t_adm

    # Falls admissions, 65+ (per 100,000 aged 65+), calibrated per financial year.
    falls_rates = world.yearly_rates(
        world.multiplier(p.risk.falls), rates.falls_65_per_100k_per_month * 12 / 1e5, 65
    )
    # General emergencies: whatever the falls and terminal admissions leave of the total.
    terminal_by_year = np.bincount(world.year_of(t_adm), minlength=len(world.years))
    nel_rates = world.yearly_rates(
        world.multiplier(p.risk.non_elective),
        rates.non_elective_per_100k_per_month * 12 / 1e5,
        minus=[
            f + t
            for f, t in zip(world.expected_by_year(falls_rates), terminal_by_year, strict=True)
        ],
    )
    el_rates = world.yearly_rates(
        world.multiplier(p.risk.elective), rates.elective_per_100k_per_year / 1e5
    )

    segments = []
    run_in = (
        np.maximum(world.dob, world.start - RUN_IN_DAYS).astype(np.int64),
        np.full(world.n, world.start, dtype=np.int64),
    )
    for pre in (False, True):
        # The run-in (spells admitted before the span) runs at the first year's rates.
        if pre:
            n_who, n_adm = world.draw_events(rng, nel_rates[0], run_in)
            f_who, f_adm = world.draw_events(rng, falls_rates[0], run_in)
        else:
            n_who, n_adm = world.draw_yearly(rng, nel_rates)
            f_who, f_adm = world.draw_yearly(rng, falls_rates)
        band_n = world.band[n_who]
        diag = np.where(
            band_n < I18, _pick(rng, _NEL_CHILD, len(n_who)), _pick(rng, _NEL_ADULT, len(n_who))
        )
        los = _geometric_days(rng, _nel_los_mean(band_n))
        segments.append(_segment(rng, n_who, n_adm, los, diag, pre=pre))
        los = _geometric_days(rng, np.full(len(f_who), 13.0))
        segments.append(
            _segment(rng, f_who, f_adm, los, _pick(rng, _FALLS, len(f_who)), fall=True, pre=pre)
        )
    segments.append(
        _segment(rng, t_who, t_adm, t_los, _pick(rng, _TERMINAL, len(t_who)), terminal=True)
    )
    e_who, e_adm = world.draw_yearly(rng, el_rates)
    band_e = world.band[e_who]
    los = np.where(
        rng.random(len(e_who)) < 0.7, 0, 1 + _geometric_days(rng, np.where(band_e >= I65, 3.5, 2.0))
    )
    segments.append(
        _segment(rng, e_who, e_adm, los, _pick(rng, _ELECTIVE, len(e_who)), elective=True)
    )

    cols = {k: np.concatenate([seg[k] for seg in segments]) for k in segments[0]}
    n = len(cols["person"])
    n_prov = len(p.area.provider_codes)
    # The first provider is the main acute trust (~80% of activity).
    pw = np.array([4.0] + [1.0 / max(n_prov - 1, 1)] * (n_prov - 1))
    spells = Spells(
        **cols,
        destination=np.zeros(n, np.int64),
        provider=rng.choice(n_prov, size=n, p=pw / pw.sum()),
        ready=cols["discharge"].copy(),
    )
    in_hosp_death = _destinations(world, spells, rng)
    spells.ready = spells.discharge.copy()
    # Someone who already dies in another spell needs no separate terminal admission.
    dies_elsewhere = np.zeros(world.n, bool)
    dies_elsewhere[spells.person[in_hosp_death & ~spells.terminal]] = True
    spells = spells.take(np.flatnonzero(~(spells.terminal & dies_elsewhere[spells.person])))
    truth = Truth(annual_non_elective_rate=nel_rates[0] + falls_rates[0])
    return spells, truth


def _destinations(world: World, sp: Spells, rng: np.random.Generator) -> np.ndarray:
    """Discharge destination; death in hospital when the stay reaches the date of death."""
    death = world.death[sp.person]
    in_hosp_death = sp.discharge >= death
    sp.discharge = np.minimum(sp.discharge, death)
    old = world.band[sp.person] >= I65
    u = rng.random(len(sp))
    reable = world.params.event_rates.reablement_share_of_65_discharges
    dest = np.full(len(sp), DEST["usual_residence"])
    # Emergency 65+: reablement (configured share), care/nursing homes, transfers.
    cuts_old = np.cumsum([reable, 0.012, 0.010, 0.03, 0.01])
    names_old = ["reablement", "care_home", "nursing_home", "other_hospital", "other"]
    cuts_young = np.cumsum([0.02, 0.02])
    names_young = ["other_hospital", "other"]
    for cuts, names, mask in ((cuts_old, names_old, old), (cuts_young, names_young, ~old)):
        idx = np.searchsorted(cuts, u, side="right")
        for i, name in enumerate(names):
            dest[mask & (idx == i)] = DEST[name]
    dest[sp.elective & (dest != DEST["reablement"])] = DEST["usual_residence"]
    dest[in_hosp_death] = DEST["died"]
    sp.destination = dest
    return in_hosp_death


def finalise(world: World, sp: Spells, delays: Delays) -> tuple[Spells, Delays]:
    """Drop run-in spells, order and number the rest, and re-point the delays.

    Spells that ended before the span are dropped; the rest are ordered by admission date
    and NHS number and numbered ``SP000000001``...; delay rows follow the new order.
    """
    keep = ~sp.pre | (sp.discharge >= world.start)
    kept = np.flatnonzero(keep)
    order = kept[np.lexsort((world.nhs_number[sp.person[kept]], sp.admission[kept]))]
    new_index = np.full(len(sp), -1, dtype=np.int64)
    new_index[order] = np.arange(len(order))
    out = sp.take(order)
    out.spell_ids = np.char.mod("SP%09d", np.arange(1, len(out) + 1))
    moved = Delays(
        new_index[delays.spell], delays.month, delays.days, delays.reason, delays.attribution
    )
    if (moved.spell < 0).any():
        raise AssertionError("a delay row points at a dropped spell")
    return out, moved


@dataclass
class Delays:
    """Delayed transfer of care rows: one per delayed spell per census month."""

    spell: np.ndarray  # spell index per row
    month: np.ndarray  # date32 of first day of the census month
    days: np.ndarray
    reason: np.ndarray  # index into DTOC_REASON
    attribution: np.ndarray  # index into ATTRIBUTIONS


def generate_delays(world: World, sp: Spells, rng: np.random.Generator) -> Delays:
    """Delayed spells, extending their stay; one row per delayed spell per calendar month.

    Each eligible emergency spell of an adult is delayed with a probability (x6 for 65+)
    set so each financial year's spells give that year's configured delayed days; run-in
    spells are delayed like the first year's, so delays carried into the first months
    balance those truncated at the end, as in a steady state.
    """
    rates = world.params.event_rates
    band = world.band[sp.person]
    alive_after = world.death[sp.person] > sp.discharge + 120
    cand = np.flatnonzero(
        ~sp.elective
        & (band >= I18)
        & alive_after
        & (sp.destination != DEST["died"])
        & (sp.discharge <= world.end)
        & (sp.discharge - sp.admission >= 1)
    )
    # Delayed days per financial year of the delay's start (the run-in as the first year).
    total_days = [
        rates.dtoc_days_per_100k_18_per_month * 12 / 1e5 * pop * world.secondary_use_factor
        for pop in world.mid_year_population(18)
    ]
    mean = rates.dtoc_mean_days_per_delay
    w = np.where(band[cand] >= I65, 6.0, 1.0)
    year = np.where(sp.pre[cand], -1, world.year_of(sp.discharge[cand]))
    weight_by_year = np.bincount(year[year >= 0], weights=w[year >= 0], minlength=len(total_days))
    scale = np.array(total_days) / mean / np.maximum(weight_by_year, 1e-9)
    chosen = cand[rng.random(len(cand)) < np.minimum(w * scale[np.maximum(year, 0)], 1.0)]
    n_delay = len(chosen)
    length = np.minimum(1 + _geometric_days(rng, np.full(n_delay, mean - 1)), 120)

    weights: dict[str, float] = {r: _REASONS[r][0] for r in DTOC_REASON}
    if rates.dtoc_reason_weights is not None:
        weights = {r: rates.dtoc_reason_weights.get(r, 0.0) for r in DTOC_REASON}
    pw = np.array([weights[r] for r in DTOC_REASON], dtype=np.float64)
    reason = rng.choice(len(DTOC_REASON), size=n_delay, p=pw / pw.sum())
    p_nhs = np.array([_REASONS[r][1] for r in DTOC_REASON])[reason]
    p_sc = np.array([_REASONS[r][2] for r in DTOC_REASON])[reason]
    u = rng.random(n_delay)
    attribution = np.where(u < p_nhs, 0, np.where(u < p_nhs + p_sc, 1, 2))

    # The delay starts on the day the patient was medically fit (the old discharge date).
    d_start = sp.discharge[chosen]
    d_end = d_start + length  # exclusive: new discharge date
    sp.discharge[chosen] = d_end
    sp.ready[chosen] = d_start  # the Discharge Ready Date of a delayed spell
    for r_name, dest in (
        ("awaiting_residential_home", "care_home"),
        ("awaiting_nursing_home", "nursing_home"),
        ("awaiting_further_nhs_care", "other_hospital"),
    ):
        hit = reason == DTOC_REASON.index(r_name)
        keep = sp.destination[chosen] == DEST["reablement"]
        sp.destination[chosen[hit & ~keep]] = DEST[dest]

    # Split the delayed days inside the span by calendar month.
    first = np.maximum(d_start, world.start)
    last = np.minimum(d_end, world.end + 1) - 1
    y0, m0, _ = ymd(first)
    y1, m1, _ = ymd(last)
    n_rows = np.where(last >= first, (y1 * 12 + m1) - (y0 * 12 + m0) + 1, 0)
    row_of = np.repeat(np.arange(n_delay), n_rows)
    offset = np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    mi = (y0 * 12 + m0 - 1)[row_of] + offset
    month_start = _month_day(mi)
    month_end = _month_day(mi + 1)  # exclusive
    days = np.minimum(last[row_of] + 1, month_end) - np.maximum(first[row_of], month_start)
    return Delays(chosen[row_of], month_start, days, reason[row_of], attribution[row_of])


def sitrep_rows(delays: Delays) -> Delays:
    """The delays the DToC SitRep would have reported: census months to February 2020.

    The collection was paused in March 2020 and not restarted
    (:mod:`bettercare.domain.metric_sources`): delays still lengthen stays after then
    (the Discharge Ready Date measures them), but no SitRep row exists for them.
    """
    keep = delays.month <= day(COLLECTION_ENDS["delayed_transfers_of_care"])
    return Delays(
        delays.spell[keep],
        delays.month[keep],
        delays.days[keep],
        delays.reason[keep],
        delays.attribution[keep],
    )


def _month_day(month_index: np.ndarray) -> np.ndarray:
    """date32 day of the first of the month for ``year * 12 + month - 1``."""
    years = (month_index // 12 - 1970).astype("datetime64[Y]")
    months = years.astype("datetime64[M]") + (month_index % 12).astype("timedelta64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


@dataclass
class Reablement:
    """Reablement episodes after 65+ discharges, with their 91-day outcome."""

    spell: np.ndarray
    start: np.ndarray
    outcome: np.ndarray  # str objects


def generate_reablement(world: World, sp: Spells, rng: np.random.Generator) -> Reablement:
    """One episode per 65+ discharge to reablement, with its 91-day outcome."""
    target = world.params.event_rates.reablement_at_home_91_days
    idx = np.flatnonzero(
        (sp.destination == DEST["reablement"])
        & (sp.discharge <= world.end)
        & (sp.discharge >= world.start)
    )
    who = sp.person[idx]
    start = sp.discharge[idx] + rng.choice(4, size=len(idx), p=[0.6, 0.25, 0.1, 0.05])
    start = np.minimum(start, world.death[who])
    died = world.death[who] <= sp.discharge[idx] + 91
    alive = max(1 - died.mean(), 1e-9) if len(idx) else 1.0
    p_not_home = np.clip(1 - target / alive, 0.0, 1.0)
    m = 1.15 ** world.ltc[who] * np.where(world.dementia[who], 1.8, 1.0)
    q = np.clip(p_not_home * m / (m.mean() if len(m) else 1.0), 0, 0.95)
    u = rng.random(len(idx))
    other = rng.choice(
        np.array(["hospital", "care_home", "unknown"], dtype=object),
        size=len(idx),
        p=[0.45, 0.4, 0.15],
    )
    outcome = np.where(died, "died", np.where(u < q, other, "at_home")).astype(object)
    return Reablement(idx, start, outcome)


# -- Discharge Ready Dates -------------------------------------------------------------
#: First discharge date with a Discharge Ready Date. NHS England asked acute trusts to
#: record it from 2023 ("New Discharge Ready Date", PRN00603_i; the UEC recovery plan of
#: January 2023 committed to the metric). Assumed: recorded for discharges from
#: 1 April 2023; earlier spells have none, as in real data before the collection.
DRD_RECORDED_FROM = date(2023, 4, 1)
#: Share of adult acute discharges made on the Discharge Ready Date. Assumed: the
#: NHS England "Discharge Delays (Acute)" monthly publication (from 2024) reports most
#: adults leaving on their ready date; its exact national figure could not be confirmed
#: from our reference corpus, so ~87% is an assumption of its order of magnitude.
ON_READY_DATE_SHARE = 0.87
#: Mean days of the short delays drawn on top of the DToC-style long delays (1 +
#: geometric, never before admission). Assumed; with the long delays the delayed
#: patients wait ~4 days on average (measured: 4.2 days, 87.7% on the ready date, for
#: ``synth -n 20000 --years 2024/25 --years 2025/26``).
SHORT_DELAY_MEAN_DAYS = 4.0
#: Relative chance of a short delay by discharge destination (assumed): discharges
#: needing new support (reablement, a care home, another hospital) wait more often.
_DELAY_WEIGHT_BY_DESTINATION = {
    "usual_residence": 1.0,
    "reablement": 4.0,
    "care_home": 4.0,
    "nursing_home": 4.0,
    "other_hospital": 2.0,
    "other": 1.0,
}


def discharge_ready_dates(
    world: World, sp: Spells, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Discharge Ready Date (date32 day) per spell and a mask of spells without one.

    Recorded for adults (18+) discharged alive inside the span on or after
    :data:`DRD_RECORDED_FROM`. A spell with a delayed transfer (``generate_delays``) is
    ready on the day its delay began. Among the others, short delays (1 +
    geometric days, mean :data:`SHORT_DELAY_MEAN_DAYS`, never before admission) are drawn
    so that overall :data:`ON_READY_DATE_SHARE` of recorded discharges leave on their
    ready date, more often for people 65+ (x2.5) and for destinations needing new
    support; elective spells rarely wait (x0.2). The stay itself is unchanged: a short
    delay moves the ready date earlier, so every other feed is as before.
    """
    band = world.band[sp.person]
    recorded = (
        (band >= I18)
        & (sp.destination != DEST["died"])
        & (sp.discharge <= world.end)
        & (sp.discharge >= day(DRD_RECORDED_FROM))
    )
    ready = np.where(recorded, np.minimum(sp.ready, sp.discharge), sp.discharge)
    long_delayed = recorded & (ready < sp.discharge)
    cand = np.flatnonzero(recorded & ~long_delayed & (sp.discharge > sp.admission))
    n_recorded = int(recorded.sum())
    want = max((1.0 - ON_READY_DATE_SHARE) * n_recorded - int(long_delayed.sum()), 0.0)
    if len(cand) and want > 0:
        names = np.asarray(DISCHARGE_DESTINATION, dtype=object)[sp.destination[cand]]
        w = np.array([_DELAY_WEIGHT_BY_DESTINATION.get(d, 1.0) for d in names])
        w *= np.where(band[cand] >= I65, 2.5, 1.0) * np.where(sp.elective[cand], 0.2, 1.0)
        p = np.minimum(w * want / w.sum(), 1.0)
        hit = cand[rng.random(len(cand)) < p]
        days = 1 + _geometric_days(rng, np.full(len(hit), SHORT_DELAY_MEAN_DAYS - 1))
        ready[hit] = np.maximum(sp.discharge[hit] - days, sp.admission[hit])
    return ready, ~recorded
