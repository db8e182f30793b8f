"""Capacity and demand for intermediate and short-term care, measured from linked data.

The side measured from the linked data, to compare with a plan's monthly figures.

Specification: BCF planning requirements 2023-25 and their addendum for 2024-25
(gov.uk/government/publications/better-care-fund-policy-framework-2023-to-2025/addendum-
to-the-2023-to-2025-better-care-fund-policy-framework-and-planning-requirements): local
areas agree monthly capacity and demand plans for intermediate and short-term care, for
hospital discharge by pathway and for community referrals. The discharge pathways are
those of the hospital discharge and community support guidance (DHSC, 2022):

* pathway 0: home with no new, or only simple, support;
* pathway 1: home with new or extra health and/or social care support;
* pathway 2: rehabilitation or short-term care in a 24-hour bedded setting;
* pathway 3: a care home placement for someone likely to need long-term care.

Mapping from the linked data (adults 18+ on the discharge date, discharged alive from a
spell in ``hospital_spells``, resident in the HWB; social care rows linked to the same
``person_id``, starting from the discharge date to :data:`LINK_DAYS` days after it):

==========  =============================================================================
pathway 3   destination ``care_home`` / ``nursing_home``, or a permanent residential or
            nursing placement starting after discharge
pathway 2   a non-permanent (short-term) residential or nursing placement after discharge
pathway 1   destination ``reablement``, or reablement / home care starting after discharge
pathway 0   destination ``usual_residence`` with none of the above
(none)      ``other_hospital`` (a transfer) and ``other``: not a discharge pathway
==========  =============================================================================

The first matching row wins (3 before 2 before 1 before 0). Community referrals are
social care services of residents starting with no hospital discharge in the
:data:`LINK_DAYS` days before (step-up care): ``reablement at home`` (reablement in the
community) and ``short-term bedded care`` (non-permanent residential / nursing). What
the linked data cannot measure is listed in :data:`NOT_MEASURED` and reported as such
(no figure), never as zero: NHS bedded rehabilitation in community hospitals (part of
pathway 2: the store's ``other_hospital`` does not tell a community bed from an acute
transfer), urgent community response, NHS rehabilitation at home and voluntary sector
support (not in the feeds). Social care rows not linked to a resident are not counted,
so poor linkage lowers pathways 1-3 (see the linkage report).

The Ibis expressions run on DuckDB and Spark like the metrics; :func:`measured_capacity_
demand` binds them to a store and returns one row per HWB, month and service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from bettercare.analytics.engine import Store, open_store, store_tables
from bettercare.analytics.metrics import MetricDataError
from bettercare.analytics.metrics.base import (
    Context,
    age_on,
    in_window,
    period_label,
    with_hwb,
)
from bettercare.domain.periods import period_span
from bettercare.domain.plan import CapacityDemand

#: Days after discharge within which a social care service counts as the discharge's
#: support (assumed: discharge to assess arranges support within a week).
LINK_DAYS = 7

DISCHARGE_PATHWAYS = tuple(f"discharge_pathway_{i}" for i in range(4))
COMMUNITY = "community_referrals"
COMMUNITY_TYPES = ("reablement at home", "short-term bedded care")

#: service -> what part of it the linked data cannot measure (shown, never a zero).
NOT_MEASURED: dict[str, str] = {
    "discharge_pathway_2": (
        "NHS bedded rehabilitation (community hospital beds) not measured: "
        "'other_hospital' does not tell a community bed from an acute transfer"
    ),
    COMMUNITY: (
        "urgent community response, NHS rehabilitation at home and voluntary sector "
        "support are not in the linked data"
    ),
}

COLUMNS = ("hwb_code", "month", "service", "service_type", "measured", "note")


def discharges_by_pathway(ctx: Context) -> ir.Table:
    """Adult discharges per HWB, month of discharge and pathway (``service``, ``n``)."""
    s = ctx.table("hospital_spells")
    s = s.filter(
        in_window(ctx, s.discharge_date),
        s.discharge_destination.notnull(),
        s.discharge_destination != "died",
    )
    s = with_hwb(ctx, s, "birth_month")
    s = s.filter(age_on(s.birth_month, s.discharge_date) >= 18)
    s = s.select("spell_id", "person_id", "hwb_code", "discharge_date", "discharge_destination")
    sc = _linked_services(ctx)
    j = s.left_join(
        sc,
        (s.person_id == sc.sc_person)
        & (sc.sc_start >= s.discharge_date)
        & (sc.sc_start <= s.discharge_date + ibis.interval(days=LINK_DAYS)),
    )
    bed = j.sc_setting.isin(["residential", "nursing"])
    home = j.sc_type.isin(["reablement", "home_care"]) & (j.sc_setting == "community")
    flags = j.group_by("spell_id", "hwb_code", "discharge_date", "discharge_destination").aggregate(
        permanent=(bed & j.sc_permanent).cast("int64").max(),
        short_bed=(bed & ~j.sc_permanent).cast("int64").max(),
        home_support=home.cast("int64").max(),
    )
    dest = flags.discharge_destination
    pathway = ibis.cases(
        (dest.isin(["care_home", "nursing_home"]) | (flags.permanent == 1), DISCHARGE_PATHWAYS[3]),
        (flags.short_bed == 1, DISCHARGE_PATHWAYS[2]),
        ((dest == "reablement") | (flags.home_support == 1), DISCHARGE_PATHWAYS[1]),
        (dest == "usual_residence", DISCHARGE_PATHWAYS[0]),
        else_=ibis.null("string"),
    )
    f = flags.mutate(service=pathway, month=period_label(flags.discharge_date, "month"))
    f = f.filter(f.service.notnull())
    return f.group_by("hwb_code", "month", "service").aggregate(n=f.count())


def community_referrals(ctx: Context) -> ir.Table:
    """Step-up short-term care per HWB, month of start and type (``service_type``, ``n``)."""
    sc = _linked_services(ctx)
    sc = sc.filter(
        in_window(ctx, sc.sc_start),
        ((sc.sc_type == "reablement") & (sc.sc_setting == "community"))
        | (sc.sc_setting.isin(["residential", "nursing"]) & ~sc.sc_permanent),
    )
    sc = sc.mutate(person_id=sc.sc_person)
    sc = with_hwb(ctx, sc)
    d = ctx.table("hospital_spells")
    d = d.filter(d.discharge_date.notnull()).select(d_person=d.person_id, d_date=d.discharge_date)
    j = sc.left_join(
        d,
        (sc.sc_person == d.d_person)
        & (sc.sc_start >= d.d_date)
        & (sc.sc_start <= d.d_date + ibis.interval(days=LINK_DAYS)),
    )
    after_discharge = j.group_by("sc_id", "hwb_code", "sc_start", "sc_type").aggregate(
        linked=j.d_person.notnull().cast("int64").max()
    )
    c = after_discharge.filter(after_discharge.linked == 0)
    c = c.mutate(
        service_type=ibis.ifelse(c.sc_type == "reablement", COMMUNITY_TYPES[0], COMMUNITY_TYPES[1]),
        month=period_label(c.sc_start, "month"),
    )
    return c.group_by("hwb_code", "month", "service_type").aggregate(n=c.count())


def _linked_services(ctx: Context) -> ir.Table:
    sc = ctx.table("social_care_services")
    sc = sc.filter(sc.person_id.notnull())
    return sc.select(
        sc_id=sc.service_id,
        sc_person=sc.person_id,
        sc_start=sc.start_date,
        sc_type=sc.service_type,
        sc_setting=sc.setting,
        sc_permanent=sc.permanent_admission,
    )


def assemble(discharges: pd.DataFrame, community: pd.DataFrame) -> pd.DataFrame:
    """One row per HWB, month and service (and community type) with :data:`COLUMNS`.

    Every service appears in every month an HWB has data for: a measured month without
    such discharges is a real 0; a part that cannot be measured is named in ``note``.
    """
    rows: list[dict[str, object]] = []
    keys = sorted(
        {(h, m) for h, m in zip(discharges.hwb_code, discharges.month, strict=True)}
        | {(h, m) for h, m in zip(community.hwb_code, community.month, strict=True)}
    )
    dis = _counts(discharges, "service")
    com = _counts(community, "service_type")
    for hwb, month in keys:
        for service in DISCHARGE_PATHWAYS:
            rows.append(_row(hwb, month, service, None, dis.get((hwb, month, service), 0), service))
        counts = [com.get((hwb, month, t), 0) for t in COMMUNITY_TYPES]
        rows.append(_row(hwb, month, COMMUNITY, None, sum(counts), COMMUNITY))
        for t, n in zip(COMMUNITY_TYPES, counts, strict=True):
            rows.append(_row(hwb, month, COMMUNITY, t, n, None))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    out["measured"] = out["measured"].astype("float64")
    return out


def _counts(t: pd.DataFrame, what: str) -> dict[tuple[str, str, str], int]:
    cols = [t[c].tolist() for c in ("hwb_code", "month", what, "n")]
    return {(h, m, k): int(n) for h, m, k, n in zip(*cols, strict=True)}


def _row(
    hwb: str, month: str, service: str, service_type: str | None, n: float, note_key: str | None
) -> dict[str, object]:
    note = NOT_MEASURED.get(note_key, "") if note_key else ""
    return {
        "hwb_code": hwb,
        "month": month,
        "service": service,
        "service_type": service_type,
        "measured": float(n),
        "note": note,
    }


def measured_capacity_demand(
    tables: dict[str, ir.Table], start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The measured table (:data:`COLUMNS`) from bound store tables (any Ibis backend)."""
    ctx = Context(tables=tables, grain="month", start=start, end=end)
    discharges = discharges_by_pathway(ctx).execute()
    community = community_referrals(ctx).execute()
    return assemble(discharges, community)


TABLES = ("hospital_spells", "residents", "social_care_services")


def capacity_demand_from_store(store: Store, period: str | None = None) -> pd.DataFrame:
    """:func:`measured_capacity_demand` on the DuckDB store.

    ``period`` (plan grammar, e.g. ``2025/26``) restricts the months. Raises
    :class:`MetricDataError` for a missing store or a bad period; a store without one of
    :data:`TABLES` gives an empty table and a line in ``attrs['warnings']``.
    """
    start = end = None
    if period is not None:
        try:
            span = period_span(period)
        except ValueError as exc:
            raise MetricDataError(f"bad period: {exc}") from None
        start, end = span.start, span.end
    with open_store(store) as con:
        absent = [t for t in TABLES if t not in store_tables(con)]
        if absent:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
            out.attrs["warnings"] = [
                f"capacity and demand not measured: store has no table(s) {', '.join(absent)}"
            ]
            return out
        db = ibis.duckdb.from_connection(con)
        out = measured_capacity_demand({t: db.table(t) for t in TABLES}, start, end)
        out.attrs["warnings"] = []
        return out


def compare_with_plan(
    measured: pd.DataFrame, planned: Iterable[CapacityDemand], hwb_code: str
) -> pd.DataFrame:
    """Planned monthly demand and capacity next to the demand measured for one HWB.

    ``planned``: the plan's capacity and demand entries (``service`` one of
    :data:`DISCHARGE_PATHWAYS` or :data:`COMMUNITY`, optional ``service_type``, and
    ``demand`` / ``capacity`` by month ``YYYY-MM``). A community entry whose
    ``service_type`` is one of :data:`COMMUNITY_TYPES` is compared with that type, one
    without a type with the measurable community total, and any other type (e.g. urgent
    community response) is not measurable: no measured value, the reason in ``note``.
    A discharge pathway is compared with the pathway whatever its ``service_type``.
    Columns: month, service, service_type, planned_demand, planned_capacity, measured,
    difference (measured - planned demand), difference_pct and note; a month the store
    does not cover has no measured value.
    """
    m = measured[measured.hwb_code == hwb_code]
    cols = [m[c].tolist() for c in ("month", "service", "service_type", "measured", "note")]
    found: dict[tuple[str, str, str | None], tuple[float, str]] = {
        (mo, sv, st if isinstance(st, str) else None): (float(v), str(n))
        for mo, sv, st, v, n in zip(*cols, strict=True)
    }
    rows = []
    for entry in planned:
        service = str(entry.service.value)
        stype = entry.service_type
        typed = stype.lower() if stype and stype.lower() in COMMUNITY_TYPES else None
        unmeasurable = service == COMMUNITY and stype is not None and typed is None
        months = sorted(set(entry.demand) | set(entry.capacity))
        for month in months:
            want = entry.demand.get(month)
            have, note = found.get((month, service, typed), (None, ""))
            if unmeasurable and have is not None:
                have, note = None, f"'{stype}' not measurable: {NOT_MEASURED[COMMUNITY]}"
            diff = float(have - want) if have is not None and want is not None else None
            rows.append(
                {
                    "month": month,
                    "service": service,
                    "service_type": stype,
                    "planned_demand": want,
                    "planned_capacity": entry.capacity.get(month),
                    "measured": have,
                    "difference": diff,
                    "difference_pct": diff / want * 100 if diff is not None and want else None,
                    "note": note if have is not None else note or "month not in the linked data",
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "month",
            "service",
            "service_type",
            "planned_demand",
            "planned_capacity",
            "measured",
            "difference",
            "difference_pct",
            "note",
        ],
    )


__all__ = [
    "COLUMNS",
    "COMMUNITY",
    "COMMUNITY_TYPES",
    "DISCHARGE_PATHWAYS",
    "LINK_DAYS",
    "NOT_MEASURED",
    "TABLES",
    "assemble",
    "capacity_demand_from_store",
    "community_referrals",
    "compare_with_plan",
    "discharges_by_pathway",
    "measured_capacity_demand",
]
