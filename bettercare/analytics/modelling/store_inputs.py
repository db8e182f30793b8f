"""The models' inputs estimated from the analytics store (the linked data).

Owns reading the store for :mod:`.impact` (each scheme's admissions avoided to date, via
:mod:`bettercare.analytics.scheme_impact`) and for :mod:`.pathway`: the arrival pattern of
discharges needing support and each pathway's share, from the discharges by pathway that
:mod:`bettercare.analytics.capacity_demand` measures (pathways 1-3; pathway 0 needs no
new support), and the delayed days the ``delayed_transfers`` feed records, to set beside
the simulated ones. Estimates (assumptions, stated in the notes):

* ``per_day`` = supported discharges in the months measured / days in those months;
* month weights = mean supported discharges per day in each calendar month; a calendar
  month not in the data gets the average weight;
* day-of-week weights = the HWB's residents' discharges alive by weekday of discharge
  (the store's pathway attribution is monthly, so supported discharges are assumed to
  follow the weekly pattern of all discharges); equal weights when there are none.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field

import pandas as pd

from bettercare.analytics.capacity_demand import capacity_demand_from_store
from bettercare.analytics.engine import (
    Store,
    open_store,
    resolve_hwb,
    store_hwb_codes,
    store_tables,
)
from bettercare.analytics.modelling.errors import ModellingInputError
from bettercare.analytics.modelling.impact import fit_to_observed
from bettercare.analytics.modelling.pathway import MONTHS, WEEKDAYS, ArrivalPattern, PathwayConfig
from bettercare.analytics.scheme_impact import load_scheme_activity, scheme_impact
from bettercare.domain.plan import Plan

SUPPORTED = ("discharge_pathway_1", "discharge_pathway_2", "discharge_pathway_3")


@dataclass
class StoreArrivals:
    """Arrivals and pathway shares estimated from the store, and what it records of delays."""

    hwb_code: str
    arrivals: ArrivalPattern
    shares: dict[str, float]
    months: list[str]
    #: delayed days the delayed_transfers feed records per census month (the HWB's residents)
    observed_delayed_days: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _hwb(store: Store, wanted: str | None) -> str:
    codes = store_hwb_codes(store)
    if wanted is not None:
        if wanted not in codes:
            raise ModellingInputError(
                f"hwb_code: {wanted} is not in the store (it holds {', '.join(codes) or 'none'})"
            )
        return wanted
    if len(codes) != 1:
        raise ModellingInputError(
            f"hwb_code: the store holds {len(codes)} HWBs ({', '.join(codes)}); "
            "name one in the config's hwb_code"
        )
    return codes[0]


def arrivals_from_store(store: Store, config: PathwayConfig) -> StoreArrivals:
    """The arrival pattern and pathway shares of ``config``'s HWB measured in the store."""
    hwb = _hwb(store, config.hwb_code)
    measured = capacity_demand_from_store(store)
    notes = list(measured.attrs.get("warnings", []))
    m = measured[(measured.hwb_code == hwb) & measured.service.isin(SUPPORTED)]
    m = m[m.service_type.isna()]
    by_month = m.groupby("month").measured.sum()
    total = float(by_month.sum())
    if total <= 0:
        raise ModellingInputError(
            f"the store has no discharges on pathways 1-3 for HWB {hwb}: no arrivals to estimate"
        )
    months = sorted(by_month.index)
    days_in = {mo: calendar.monthrange(int(mo[:4]), int(mo[5:]))[1] for mo in months}
    per_day = total / sum(days_in.values())
    rate = {mo: float(by_month[mo]) / days_in[mo] for mo in months}
    cal: dict[int, list[float]] = {}
    for mo, r in rate.items():
        cal.setdefault(int(mo[5:]), []).append(r)
    avg = per_day
    month_w = {
        MONTHS[k - 1]: (sum(cal[k]) / len(cal[k]) if k in cal else avg) for k in range(1, 13)
    }
    absent = [MONTHS[k - 1] for k in range(1, 13) if k not in cal]
    if absent:
        notes.append(f"no data for month(s) {', '.join(absent)}: given the average weight")
    shares: dict[str, float] = {}
    for spec in config.pathways:
        if spec.service is None or spec.service.value not in SUPPORTED:
            notes.append(
                f"pathway {spec.id}: no store service to estimate from; share as configured"
            )
            continue
        shares[spec.id] = float(m[m.service == spec.service.value].measured.sum()) / total
    dow = _weekday_weights(store, hwb)
    arrivals = ArrivalPattern.model_validate(
        {
            "per_day": per_day * sum(shares.values()) if shares else per_day,
            "day_of_week": dow or {},
            "month": month_w,
        }
    )
    return StoreArrivals(
        hwb_code=hwb,
        arrivals=arrivals,
        shares=shares,
        months=months,
        observed_delayed_days=_delayed_days(store, hwb),
        notes=notes,
    )


def _weekday_weights(store: Store, hwb: str) -> dict[str, float] | None:
    """Discharges alive of the HWB's residents by weekday (None: no such table or rows)."""
    sql = (
        "SELECT isodow(s.discharge_date) AS d, count(*) AS n FROM hospital_spells s "
        "JOIN residents r ON r.person_id = s.person_id WHERE r.hwb_code = ? "
        "AND s.discharge_date IS NOT NULL AND s.discharge_destination IS NOT NULL "
        "AND s.discharge_destination <> 'died' GROUP BY 1"
    )
    with open_store(store) as con:
        if not {"hospital_spells", "residents"} <= set(store_tables(con)):
            return None
        rows = dict(con.execute(sql, [hwb]).fetchall())
    if not rows:
        return None
    return {WEEKDAYS[d - 1]: float(rows.get(d, 0)) for d in range(1, 8)}


def _delayed_days(store: Store, hwb: str) -> dict[str, float]:
    """Delayed days the ``delayed_transfers`` feed records per month for the HWB's residents."""
    sql = (
        "SELECT strftime(d.census_month, '%Y-%m') AS m, sum(d.delayed_days) "
        "FROM delayed_transfers d JOIN residents r ON r.person_id = d.person_id "
        "WHERE r.hwb_code = ? GROUP BY 1 ORDER BY 1"
    )
    with open_store(store) as con:
        if not {"delayed_transfers", "residents"} <= set(store_tables(con)):
            return {}
        return {str(m): float(n) for m, n in con.execute(sql, [hwb]).fetchall()}


def config_from_store(config: PathwayConfig, found: StoreArrivals) -> PathwayConfig:
    """``config`` with the store's arrival pattern and pathway shares."""
    pathways = [
        p.model_copy(update={"share": found.shares.get(p.id, p.share)}) for p in config.pathways
    ]
    data = config.model_dump()
    data["arrivals"] = found.arrivals.model_dump()
    data["pathways"] = [p.model_dump() for p in pathways]
    try:
        return PathwayConfig.model_validate(data)
    except ValueError as exc:
        raise ModellingInputError(f"store estimates give an invalid config: {exc}") from None


def fitted_from_store(
    store: Store, plan: Plan, financial_year: str, hwb_code: str | None = None
) -> tuple[dict[str, tuple[object, str]], list[str]]:
    """Scheme effects fitted to the store's ``scheme_activity`` for the year (see impact).

    Only the plan's board's activity (``hwb_code``, else the plan's HWB as
    :func:`~bettercare.analytics.engine.resolve_hwb` finds it in the store).
    """
    with open_store(store) as con:
        if "scheme_activity" not in store_tables(con):
            return {}, ["store has no scheme_activity table: the plan's distributions are used"]
    code = resolve_hwb(plan, store_hwb_codes(store), hwb_code)
    with open_store(store) as con:
        activity = load_scheme_activity(con, code)
    frame: pd.DataFrame = scheme_impact(activity, plan, "month")
    if frame.empty or financial_year not in set(frame.financial_year):
        return {}, [
            f"store has no scheme activity in {financial_year}: the plan's distributions are used"
        ]
    fitted, notes = fit_to_observed(frame, financial_year)
    return dict(fitted), notes


__all__ = [
    "SUPPORTED",
    "StoreArrivals",
    "arrivals_from_store",
    "config_from_store",
    "fitted_from_store",
]
