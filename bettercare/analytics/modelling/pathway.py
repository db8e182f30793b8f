"""Discharge pathway simulation (SimPy): delays waiting for reablement, beds and care homes.

Owns the discharge pathway model. People medically ready to leave hospital who need
support ("discharges needing support") arrive as a Poisson process whose daily rate is
``per_day`` x a day-of-week weight x a month weight (each set of weights scaled to average
1). Each person goes to one pathway (home with reablement, an intermediate care bed, a
care home; ``share`` of the arrivals, independently), where ``capacity`` places serve
people first come, first served for a drawn length of service. A person waits in
hospital -- a delayed discharge -- until a place is free **and** it is a working day:
with ``working_days: 5`` assessments and starts happen Monday to Friday only (bank
holidays are not modelled: an assumption), so a place freed on Saturday is filled on
Monday. Days are the unit of time; day 0 is ``start``.

Measured over the days after the warm-up (``warm_up_days``, which lets the queue fill
from empty): each arrival's wait (the simulation runs on without new arrivals until
everyone in the window has started; with first come, first served, later arrivals do
not change an earlier person's wait), delayed days (the sum of the waits), the mean
length of discharge delay, the share delayed, occupancy (time in service within the
window / (capacity x window)) and the waiting-time distribution. Replications use
independent random streams (numpy ``SeedSequence([seed, replication, pathway])``); each
measure is reported as the mean over replications with a 95% confidence interval
(Student t). The same streams are reused at every capacity of a sweep (common random
numbers), so capacities are compared on the same arrivals and lengths of service.

Checked against queueing theory: with constant rates, exponential lengths of service and
7-day working, each pathway is an M/M/c queue (:mod:`.queueing`; tests).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import simpy
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats  # type: ignore[import-untyped]

from bettercare.analytics.modelling.distributions import Distribution, FloatArray
from bettercare.domain.plan import CapacityDemand, CareService

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS: tuple[str, ...] = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
#: Days in an average month, to express totals per month.
DAYS_PER_MONTH = 365.25 / 12
#: Most arrivals one replication may simulate (bounds the work a config can ask for).
MAX_ARRIVALS = 2_000_000
#: Waiting-time percentiles reported.
WAIT_PERCENTILES: tuple[int, ...] = (50, 75, 90, 95, 99)
_EPS = 1e-9

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MonthName = Literal[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
]
Weight = Annotated[float, Field(ge=0, le=1_000_000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _has_mass(weights: dict[str, float], names: tuple[str, ...], what: str) -> None:
    if weights and set(weights) != set(names):
        missing = [n for n in names if n not in weights]
        raise ValueError(
            f"{what} must give a weight for every one of {', '.join(names)} "
            f"(missing: {', '.join(missing)})"
        )
    if weights and sum(weights.values()) <= 0:
        raise ValueError(f"{what} weights are all zero: the distribution has no mass")


class ArrivalPattern(_Model):
    """Discharges needing support per day, with day-of-week and month weights."""

    per_day: float = Field(gt=0, le=10_000, description="Average arrivals per day (all pathways)")
    day_of_week: dict[Weekday, Weight] = Field(
        default_factory=dict,
        description="Relative weight of each weekday (all seven; default: equal)",
    )
    month: dict[MonthName, Weight] = Field(
        default_factory=dict,
        description="Relative weight of each calendar month (all twelve; default: equal)",
    )

    @model_validator(mode="after")
    def _weights(self) -> ArrivalPattern:
        _has_mass({str(k): v for k, v in self.day_of_week.items()}, WEEKDAYS, "day_of_week")
        _has_mass({str(k): v for k, v in self.month.items()}, MONTHS, "month")
        return self

    def daily_rates(self, start: dt.date, days: int) -> FloatArray:
        """The arrival rate on each of ``days`` calendar days from ``start``."""
        dow = np.array([self.day_of_week.get(d, 1.0) for d in WEEKDAYS])  # type: ignore[call-overload]
        mon = np.array([self.month.get(m, 1.0) for m in MONTHS])  # type: ignore[call-overload]
        dow, mon = dow / dow.mean(), mon / mon.mean()
        dates = [start + dt.timedelta(days=i) for i in range(days)]
        w = np.array([dow[d.weekday()] * mon[d.month - 1] for d in dates])
        return np.asarray(self.per_day * w, dtype=np.float64)


class PathwaySpec(_Model):
    """One discharge pathway: its share of arrivals, places, length of service, working days."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    service: CareService | None = Field(
        None, description="The capacity and demand plan's service this pathway is"
    )
    share: float = Field(ge=0, le=1_000_000, description="Relative share of the arrivals")
    capacity: int = Field(ge=1, le=100_000, description="Places (people served at once)")
    length_of_service: Distribution = Field(description="Days in the service (a distribution)")
    working_days: Literal[5, 7] = Field(
        7, description="7: starts any day; 5: assessments and starts Monday to Friday only"
    )

    @field_validator("length_of_service")
    @classmethod
    def _non_negative(cls, d: Any) -> Any:
        if d.minimum < 0:
            raise ValueError(
                f"a length of service cannot be negative, but a {d.kind} distribution can be; "
                "use lognormal, exponential, uniform, triangular, empirical or fixed"
            )
        if d.mean <= 0:
            raise ValueError("a length of service must have a mean above zero days")
        return d


class PathwayConfig(_Model):
    """A discharge pathway simulation (JSON Schema: ``PathwayConfig.model_json_schema()``)."""

    name: str | None = None
    hwb_code: str | None = Field(None, pattern=r"^E\d{8}$", description="HWB, for --store")
    start: dt.date = Field(dt.date(2025, 4, 1), description="Day 0 of the simulation")
    days: int = Field(365, ge=1, le=3650, description="Days simulated, warm-up included")
    warm_up_days: int = Field(28, ge=0, description="Days not measured while queues fill")
    replications: int = Field(10, ge=2, le=1000)
    seed: int = Field(2025, ge=0)
    target_delay_days: float | None = Field(
        None, ge=0, le=365, description="Mean discharge delay a capacity sweep must meet"
    )
    arrivals: ArrivalPattern
    pathways: list[PathwaySpec] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> PathwayConfig:
        if self.warm_up_days >= self.days:
            raise ValueError(f"warm_up_days ({self.warm_up_days}) must be below days ({self.days})")
        ids = [p.id for p in self.pathways]
        if len(set(ids)) != len(ids):
            raise ValueError(f"pathway ids must be unique: {', '.join(ids)}")
        if sum(p.share for p in self.pathways) <= 0:
            raise ValueError("pathways: every share is zero: no discharge goes to any pathway")
        if self.arrivals.per_day * self.days > MAX_ARRIVALS:
            raise ValueError(
                f"arrivals.per_day x days = {self.arrivals.per_day * self.days:,.0f} "
                f"arrivals, more than the {MAX_ARRIVALS:,} one replication may simulate"
            )
        return self

    def pathway(self, pathway_id: str) -> PathwaySpec:
        """The pathway with id ``pathway_id`` (KeyError if none)."""
        for p in self.pathways:
            if p.id == pathway_id:
                return p
        raise KeyError(pathway_id)

    def share_of(self, spec: PathwaySpec) -> float:
        """The fraction of arrivals that go to ``spec``."""
        return spec.share / sum(p.share for p in self.pathways)


@dataclass(frozen=True)
class Estimate:
    """A measure's mean over replications with its 95% confidence interval."""

    mean: float
    low: float
    high: float
    values: tuple[float, ...] = ()

    @classmethod
    def of(cls, values: list[float]) -> Estimate:
        """Mean and Student-t 95% interval of the replications' values."""
        v = np.asarray(values, dtype=np.float64)
        m = float(v.mean())
        if len(v) < 2:
            return cls(m, math.nan, math.nan, tuple(values))
        half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
        return cls(m, m - half, m + half, tuple(float(x) for x in v))

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies within the interval."""
        return self.low <= x <= self.high


@dataclass(frozen=True)
class Replication:
    """One replication of one pathway: each measured arrival's wait and the measures."""

    waits: FloatArray
    delayed_days: float
    occupancy: float
    events: int

    @property
    def mean_wait(self) -> float:
        """Mean discharge delay over every measured arrival (days)."""
        return float(self.waits.mean()) if len(self.waits) else 0.0

    @property
    def share_delayed(self) -> float:
        """Share of measured arrivals that waited at all."""
        return float(np.mean(self.waits > _EPS)) if len(self.waits) else 0.0

    @property
    def mean_delay_if_delayed(self) -> float:
        """Mean delay of those delayed (0 when nobody was)."""
        d = self.waits[self.waits > _EPS]
        return float(d.mean()) if len(d) else 0.0


class _CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (for the benchmark)."""

    def __init__(self) -> None:
        super().__init__()
        self.events = 0

    def step(self) -> None:
        self.events += 1
        super().step()


def _working(start_weekday: int, working_days: int) -> Any:
    def next_start(t: float) -> float:
        """The earliest time at or after ``t`` a start can happen."""
        day = math.floor(t + _EPS)
        if working_days == 7 or (start_weekday + day) % 7 < 5:
            return t
        while (start_weekday + day) % 7 >= 5:
            day += 1
        return float(day)

    return next_start


def simulate(
    config: PathwayConfig,
    spec: PathwaySpec,
    replication: int,
    pathway_index: int,
    capacity: int | None = None,
) -> Replication:
    """One replication of one pathway (``capacity`` overrides the spec's, for sweeps)."""
    places = capacity if capacity is not None else spec.capacity
    rng = np.random.default_rng([config.seed, replication, pathway_index])
    rates = config.arrivals.daily_rates(config.start, config.days) * config.share_of(spec)
    counts = rng.poisson(rates)
    days = np.repeat(np.arange(config.days), counts)
    arrivals = np.sort(days + rng.random(len(days)))
    los = spec.length_of_service.sample(rng, len(arrivals))
    next_start = _working(config.start.weekday(), spec.working_days)
    warm, end = float(config.warm_up_days), float(config.days)
    env = _CountingEnvironment()
    slots = simpy.Resource(env, capacity=places)
    waits = np.full(len(arrivals), np.nan)
    busy = [0.0]

    def person(i: int) -> Generator[simpy.Event, Any, None]:
        with slots.request() as req:
            yield req
            begin = next_start(env.now)
            if begin > env.now:
                yield env.timeout(begin - env.now)
            waits[i] = env.now - arrivals[i]
            s, f = env.now, env.now + los[i]
            busy[0] += max(0.0, min(f, end) - max(s, warm))
            yield env.timeout(los[i])

    def source() -> Generator[simpy.Event, Any, None]:
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            env.process(person(i))

    env.process(source())
    env.run()
    measured = waits[arrivals >= warm]
    return Replication(
        waits=measured,
        delayed_days=float(measured.sum()),
        occupancy=busy[0] / (places * (end - warm)),
        events=env.events,
    )


@dataclass
class PathwaySummary:
    """One pathway's measures over the replications (means with 95% intervals)."""

    id: str
    name: str
    service: str | None
    capacity: int
    working_days: int
    arrivals_per_day: float
    mean_length_of_service: float
    window_days: int
    mean_wait: Estimate
    mean_delay_if_delayed: Estimate
    share_delayed: Estimate
    delayed_days: Estimate
    occupancy: Estimate
    discharges: Estimate
    #: every measured arrival's wait, all replications pooled
    waits: FloatArray
    events: int

    @property
    def offered_load(self) -> float:
        """Average places in use if nobody waited: arrivals per day x mean length of service."""
        return self.arrivals_per_day * self.mean_length_of_service

    @property
    def delayed_days_per_month(self) -> Estimate:
        """Delayed days per average month of the measured window."""
        k = DAYS_PER_MONTH / self.window_days
        return Estimate(
            self.delayed_days.mean * k,
            self.delayed_days.low * k,
            self.delayed_days.high * k,
            tuple(v * k for v in self.delayed_days.values),
        )

    def wait_percentiles(self) -> dict[int, float]:
        """Percentiles of the pooled waiting-time distribution (days)."""
        if not len(self.waits):
            return {p: 0.0 for p in WAIT_PERCENTILES}
        qs = np.percentile(self.waits, WAIT_PERCENTILES)
        return {p: float(q) for p, q in zip(WAIT_PERCENTILES, qs, strict=True)}


@dataclass
class PathwayResult:
    """The simulation's result: each pathway's measures, the total delayed days, notes."""

    config: PathwayConfig
    pathways: list[PathwaySummary]
    total_delayed_days: Estimate
    events: int
    notes: list[str] = field(default_factory=list)

    def pathway(self, pathway_id: str) -> PathwaySummary:
        """The summary of pathway ``pathway_id``."""
        return next(p for p in self.pathways if p.id == pathway_id)


def summarise(
    config: PathwayConfig, spec: PathwaySpec, reps: list[Replication], capacity: int
) -> PathwaySummary:
    """Combine one pathway's replications into means with confidence intervals."""
    rates = config.arrivals.daily_rates(config.start, config.days) * config.share_of(spec)
    return PathwaySummary(
        id=spec.id,
        name=spec.name,
        service=spec.service.value if spec.service else None,
        capacity=capacity,
        working_days=spec.working_days,
        arrivals_per_day=float(rates.mean()),
        mean_length_of_service=float(spec.length_of_service.mean),
        window_days=config.days - config.warm_up_days,
        mean_wait=Estimate.of([r.mean_wait for r in reps]),
        mean_delay_if_delayed=Estimate.of([r.mean_delay_if_delayed for r in reps]),
        share_delayed=Estimate.of([r.share_delayed for r in reps]),
        delayed_days=Estimate.of([r.delayed_days for r in reps]),
        occupancy=Estimate.of([r.occupancy for r in reps]),
        discharges=Estimate.of([float(len(r.waits)) for r in reps]),
        waits=np.concatenate([r.waits for r in reps]),
        events=sum(r.events for r in reps),
    )


def _notes(config: PathwayConfig) -> list[str]:
    notes = []
    for spec in config.pathways:
        load = config.arrivals.per_day * config.share_of(spec) * float(spec.length_of_service.mean)
        if load >= spec.capacity:
            notes.append(
                f"pathway {spec.id}: demand needs {load:,.1f} places on average but has "
                f"{spec.capacity}: the queue grows without limit and delays depend on the "
                "length of the run"
            )
    return notes


def run_pathway(config: PathwayConfig) -> PathwayResult:
    """Simulate every pathway ``config.replications`` times (see the module docstring)."""
    summaries, per_rep_total = [], np.zeros(config.replications)
    for i, spec in enumerate(config.pathways):
        reps = [simulate(config, spec, r, i) for r in range(config.replications)]
        per_rep_total += [r.delayed_days for r in reps]
        summaries.append(summarise(config, spec, reps, spec.capacity))
    return PathwayResult(
        config=config,
        pathways=summaries,
        total_delayed_days=Estimate.of(per_rep_total.tolist()),
        events=sum(s.events for s in summaries),
        notes=_notes(config),
    )


@dataclass
class SweepResult:
    """A capacity sweep of one pathway: the measures at each capacity tried."""

    pathway_id: str
    target_delay_days: float
    rows: list[PathwaySummary]
    #: the smallest capacity whose mean discharge delay meets the target (None: none tried)
    smallest_capacity: int | None
    note: str = ""


def sweep_capacity(
    config: PathwayConfig,
    pathway_id: str,
    target_delay_days: float,
    max_capacity: int | None = None,
) -> SweepResult:
    """The smallest capacity of a pathway whose mean discharge delay is at most the target.

    Capacities are tried upwards from the smallest that can keep up with average demand
    (offered load rounded down, plus one) to ``max_capacity`` (default: three times the
    offered load plus 10); the criterion is the mean over replications (its 95% interval
    is reported beside it). Raises KeyError for an unknown pathway.
    """
    index = next((i for i, p in enumerate(config.pathways) if p.id == pathway_id), None)
    if index is None:
        raise KeyError(pathway_id)
    spec = config.pathways[index]
    load = config.arrivals.per_day * config.share_of(spec) * float(spec.length_of_service.mean)
    lowest = max(1, math.floor(load) + 1)
    highest = max_capacity if max_capacity is not None else math.ceil(3 * load) + 10
    rows = []
    for c in range(lowest, max(lowest, highest) + 1):
        reps = [simulate(config, spec, r, index, capacity=c) for r in range(config.replications)]
        row = summarise(config, spec, reps, c)
        rows.append(row)
        if row.mean_wait.mean <= target_delay_days:
            return SweepResult(pathway_id, target_delay_days, rows, c)
    note = (
        f"no capacity from {lowest} to {highest} meets a mean delay of {target_delay_days:g} day(s)"
    )
    if spec.working_days == 5:
        note += " (with 5-day working, arrivals at weekends wait whatever the capacity)"
    return SweepResult(pathway_id, target_delay_days, rows, None, note)


def capacity_demand_entries(
    config: PathwayConfig, result: PathwayResult, sweep: SweepResult | None = None
) -> list[CapacityDemand]:
    """Monthly demand and capacity (people) per pathway, for the capacity and demand plan.

    Demand: expected arrivals in each calendar month of the run (the arrival pattern x
    the pathway's share). Capacity: people the places can take in the month (places x
    days in the month / mean length of service), with the places the sweep found for its
    pathway, else the configured places. Pathways without a ``service`` are left out.
    """
    rates = config.arrivals.daily_rates(config.start, config.days)
    months: dict[str, list[int]] = {}
    for i in range(config.days):
        d = config.start + dt.timedelta(days=i)
        months.setdefault(f"{d.year:04d}-{d.month:02d}", []).append(i)
    entries = []
    for spec, summary in zip(config.pathways, result.pathways, strict=True):
        if spec.service is None:
            continue
        places = spec.capacity
        note = f"{places} places as configured"
        if sweep is not None and sweep.pathway_id == spec.id and sweep.smallest_capacity:
            places = sweep.smallest_capacity
            note = (
                f"{places} places: the fewest with a mean discharge delay of at most "
                f"{sweep.target_delay_days:g} day(s) (simulation)"
            )
        share = config.share_of(spec)
        demand: dict[str, int | None] = {
            m: round(float(rates[ix].sum()) * share) for m, ix in months.items()
        }
        capacity: dict[str, int | None] = {
            m: math.floor(places * len(ix) / summary.mean_length_of_service)
            for m, ix in months.items()
        }
        entries.append(
            CapacityDemand(
                service=spec.service,
                service_type=spec.name,
                demand=demand,
                capacity=capacity,
                note=note,
            )
        )
    return entries


__all__ = [
    "MONTHS",
    "WAIT_PERCENTILES",
    "WEEKDAYS",
    "ArrivalPattern",
    "Estimate",
    "PathwayConfig",
    "PathwayResult",
    "PathwaySpec",
    "PathwaySummary",
    "Replication",
    "SweepResult",
    "capacity_demand_entries",
    "run_pathway",
    "simulate",
    "summarise",
    "sweep_capacity",
]
