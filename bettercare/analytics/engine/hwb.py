"""Which Health and Wellbeing Board's data a plan is measured on.

Owns listing the HWBs a store holds (:func:`store_hwb_codes`) and choosing the one a plan
is rated against (:func:`resolve_hwb`). It computes no metric.
"""

from __future__ import annotations

from collections.abc import Iterable

from bettercare.analytics.engine.backends import Store, open_store, store_tables
from bettercare.analytics.metrics import MetricDataError
from bettercare.domain.plan import Plan


def store_hwb_codes(store: Store) -> list[str]:
    """The HWB codes the store holds residents or population estimates for."""
    with open_store(store) as con:
        tables = store_tables(con)
        parts = [f"SELECT hwb_code FROM {t}" for t in ("residents", "population") if t in tables]
        if not parts:
            return []
        union = " UNION ALL ".join(parts)
        sql = f"SELECT DISTINCT hwb_code FROM ({union}) WHERE hwb_code IS NOT NULL"
        return sorted(str(r[0]) for r in con.execute(sql).fetchall())


def resolve_hwb(plan: Plan, store_codes: Iterable[str], requested: str | None = None) -> str:
    """The HWB whose data is measured against ``plan`` (BCF plans are per HWB).

    ``requested`` (the user's explicit choice) wins but must be in the store. Otherwise
    the plan's ``hwb.ons_code`` must be in the store -- a plan for one board is never
    rated on another board's data -- or, for a plan without a code, the store must hold
    exactly one HWB. Raises :class:`MetricDataError` (one line naming both sides).
    """
    codes = sorted(set(store_codes))
    held = ", ".join(codes) or "no HWB"
    name = plan.hwb.name
    if requested is not None:
        if requested not in codes:
            raise MetricDataError(f"HWB {requested} is not in the store (the store holds {held})")
        return requested
    code = plan.hwb.ons_code
    if code is None:
        if len(codes) == 1:
            return codes[0]
        raise MetricDataError(
            f"plan for {name} states no hwb.ons_code and the store holds {held}; "
            "name the HWB to measure with --hwb CODE"
        )
    if code not in codes:
        raise MetricDataError(
            f"plan is for HWB {code} ({name}) but the store holds {held}; "
            "use a store of that board's data, or name the HWB to measure with --hwb CODE"
        )
    return code
