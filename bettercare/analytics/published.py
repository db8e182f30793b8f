"""A plan measured on published figures: the same result objects as the store gives.

Owns turning the figures database (:func:`bettercare.data.figures.read_figures`) into
the actuals frame the rest of bettercare consumes: the columns of
:data:`bettercare.analytics.metrics.OUTPUT_COLUMNS` (metric, hwb_code, period,
breakdown, numerator, denominator, value) per grain, plus ``source`` (``"store"`` or
``"published"``), so :func:`bettercare.analytics.performance.plan_vs_actual` (RAG, SPC),
``p4p_earned``, the board pack and the dashboard need no second path. Also owns putting
store and published actuals together (:func:`combine`: each row keeps its source) and
the benchmarks of a board against England, its region and its peers
(:func:`benchmark`, :func:`funnel_for`), which use :mod:`bettercare.analytics.peers`.

Suppressed figures are never measured as numbers: they are left out of the actuals and
named in ``attrs['warnings']``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bettercare.analytics.metrics import OUTPUT_COLUMNS
from bettercare.analytics.peers import (
    AreaFigure,
    Benchmark,
    Funnel,
    FunnelPoint,
    funnel,
    measure_of,
    quartiles,
    rank_among,
    weighted_value,
)
from bettercare.analytics.performance import RagThresholds, plan_vs_actual
from bettercare.data.geography import HwbArea
from bettercare.domain.metrics import CATALOGUE, Unit
from bettercare.domain.periods import period_span
from bettercare.domain.plan import Plan

STORE = "store"
PUBLISHED = "published"
SOURCE = "source"
ENGLAND = "E92000001"
GRAINS = ("month", "quarter", "year")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_QUARTER = re.compile(r"^\d{4}/\d{2} Q[1-4]$")


def grain_of(period: str) -> str:
    """The grain a period label is at: month, quarter, or year (any longer span)."""
    if _MONTH.match(period):
        return "month"
    if _QUARTER.match(period):
        return "quarter"
    return "year"


def value_of(metric: str, numerator: float, denominator: float) -> float | None:
    """A metric's value from its numerator and denominator, in the metric's unit."""
    unit = CATALOGUE[metric].unit
    if unit == Unit.COUNT:
        return numerator
    if not denominator:
        return None
    factor = {Unit.PER_100K: 100_000.0, Unit.PERCENT: 100.0}.get(unit, 1.0)
    return numerator / denominator * factor


def _values(figures: pd.DataFrame) -> pd.Series:
    """Published value, else derived from numerator and denominator (NaN when neither)."""
    out = []
    for m, v, n, d in zip(
        figures.metric, figures.value, figures.numerator, figures.denominator, strict=True
    ):
        if pd.notna(v):
            out.append(float(v))
        elif pd.notna(n) and pd.notna(d):
            derived = value_of(str(m), float(n), float(d))
            out.append(float("nan") if derived is None else derived)
        else:
            out.append(float("nan"))
    return pd.Series(out, index=figures.index, dtype="float64")


def with_source(actuals: pd.DataFrame, source: str) -> pd.DataFrame:
    """``actuals`` with a ``source`` column (kept attrs)."""
    out = actuals.assign(**{SOURCE: source})
    out.attrs = dict(actuals.attrs)
    return out


def published_actuals(
    figures: pd.DataFrame, hwb_codes: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """The HWBs' published figures as actuals per grain (``OUTPUT_COLUMNS`` + ``source``).

    Only catalogue metrics of HWB areas; ``hwb_codes`` restricts to those boards.
    Suppressed figures and figures with no value are left out and listed in
    ``attrs['warnings']`` of every grain's frame.
    """
    hwb = figures[figures.area_type == "hwb"]
    if hwb_codes is not None:
        hwb = hwb[hwb.area_code.isin(list(hwb_codes))]
    hwb = hwb[hwb.metric.isin(list(CATALOGUE))]
    values = _values(hwb)
    gone = hwb[hwb.suppressed.astype(bool) | values.isna()]
    warnings = [
        f"published {m} for {a} in {p} is {'suppressed' if s else 'not given'}: not measured"
        for m, a, p, s in zip(
            gone.metric, gone.area_code, gone.period, gone.suppressed, strict=True
        )
    ]
    kept = hwb.loc[~hwb.index.isin(gone.index)]
    frame = pd.DataFrame(
        {
            "metric": kept.metric.astype(str),
            "hwb_code": kept.area_code.astype(str),
            "period": kept.period.astype(str),
            "breakdown": "all",
            "numerator": kept.numerator.astype("float64"),
            "denominator": kept.denominator.astype("float64"),
            "value": values.loc[kept.index],
            SOURCE: PUBLISHED,
        },
        columns=[*OUTPUT_COLUMNS, SOURCE],
    )
    grains = frame.period.map(grain_of) if not frame.empty else pd.Series(dtype=str)
    out: dict[str, pd.DataFrame] = {}
    for grain in GRAINS:
        part = frame[grains == grain] if not frame.empty else frame
        part = part.reset_index(drop=True)
        part.attrs["warnings"] = list(warnings)
        out[grain] = part
    return out


def combine(
    store: Mapping[str, pd.DataFrame] | None, published: Mapping[str, pd.DataFrame] | None
) -> dict[str, pd.DataFrame]:
    """Store and published actuals together, per grain; each row says its ``source``.

    Where both hold the same metric, HWB and period, the store's (person-level, finer)
    figure is kept and the published one noted in ``attrs['warnings']``.
    """
    out: dict[str, pd.DataFrame] = {}
    for grain in GRAINS:
        parts: list[pd.DataFrame] = []
        warnings: list[str] = []
        s = (store or {}).get(grain)
        p = (published or {}).get(grain)
        if s is not None:
            warnings += [w for w in s.attrs.get("warnings", []) if w not in warnings]
            parts.append(s if SOURCE in s.columns else with_source(s, STORE))
        if p is not None:
            warnings += [w for w in p.attrs.get("warnings", []) if w not in warnings]
            if parts:
                keys = set(zip(parts[0].metric, parts[0].hwb_code, parts[0].period, strict=True))
                dup = [k in keys for k in zip(p.metric, p.hwb_code, p.period, strict=True)]
                if any(dup):
                    warnings.append(
                        f"{sum(dup)} published figure(s) at {grain} grain also measured on the "
                        "store: the store's are shown"
                    )
                p = p[[not d for d in dup]]
            parts.append(p)
        if not parts:
            continue
        frame = pd.concat([x for x in parts if not x.empty] or parts[:1], ignore_index=True)
        frame.attrs["warnings"] = warnings
        out[grain] = frame
    return out


def plan_vs_published(
    actuals: Mapping[str, pd.DataFrame],
    plan: Plan,
    thresholds: RagThresholds | None = None,
    hwb_code: str | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`plan_vs_actual` per grain, each row with the ``source`` of its actual."""
    out: dict[str, pd.DataFrame] = {}
    for grain, act in actuals.items():
        if act.empty:
            continue
        pva = plan_vs_actual(act, plan, thresholds, hwb_code=hwb_code)
        src = act.drop_duplicates(["metric", "hwb_code", "period"]).set_index(
            ["metric", "hwb_code", "period"]
        )
        sources = [
            src[SOURCE].get((m, h, p), STORE) if SOURCE in src.columns else STORE
            for m, h, p in zip(pva.metric, pva.hwb_code, pva.period, strict=True)
        ]
        charts = pva.attrs
        pva = pva.assign(**{SOURCE: sources})
        pva.attrs = charts
        out[grain] = pva
    return out


# -- benchmarks -------------------------------------------------------------------------------


def latest_period(figures: pd.DataFrame, metric: str, grain: str = "year") -> str | None:
    """The latest period of ``metric`` at ``grain`` with any HWB figure."""
    rows = figures[(figures.metric == metric) & (figures.area_type == "hwb")]
    periods = [p for p in set(rows.period) if grain_of(str(p)) == grain]
    return max(periods, key=lambda p: period_span(str(p)).end, default=None)


def _hwb_values(figures: pd.DataFrame, metric: str, period: str) -> pd.DataFrame:
    rows = figures[
        (figures.metric == metric)
        & (figures.period == period)
        & (figures.area_type == "hwb")
        & ~figures.suppressed.astype(bool)
    ]
    rows = rows.assign(_value=_values(rows))
    return rows[rows._value.notna()]


def england_value(figures: pd.DataFrame, metric: str, period: str) -> tuple[float | None, str]:
    """England's value: the published England row, else computed from every HWB."""
    eng = figures[
        (figures.metric == metric) & (figures.period == period) & (figures.area_code == ENGLAND)
    ]
    eng = eng[~eng.suppressed.astype(bool)]
    if not eng.empty:
        v = _values(eng).iloc[0]
        if pd.notna(v):
            return float(v), PUBLISHED
    rows = _hwb_values(figures, metric, period)
    rows = rows[rows.denominator.notna()]
    value = weighted_value(list(rows._value), list(rows.denominator))
    return value, "computed from the HWB figures (denominator-weighted)"


def benchmark(
    figures: pd.DataFrame,
    metric: str,
    period: str,
    hwb_code: str,
    peers: Sequence[str],
    areas: Mapping[str, HwbArea],
) -> Benchmark:
    """The board's value beside England, its NHS region and its peers (quartiles, rank)."""
    definition = CATALOGUE[metric]
    rows = _hwb_values(figures, metric, period)
    by_code: dict[str, Any] = dict(zip(rows.area_code, rows._value, strict=True))
    den: dict[str, Any] = dict(zip(rows.area_code, rows.denominator, strict=True))
    value = by_code.get(hwb_code)
    england, basis = england_value(figures, metric, period)
    area = areas.get(hwb_code)
    region_name = area.nhs_region if area else ""
    in_region = [c for c, a in areas.items() if a.nhs_region == region_name and c in by_code]
    in_region = [c for c in in_region if pd.notna(den.get(c))]
    region = weighted_value([by_code[c] for c in in_region], [den[c] for c in in_region])
    peer_values = [float(by_code[c]) for c in peers if c in by_code and c != hwb_code]
    qs = quartiles(peer_values)
    higher = definition.direction.value == "higher_is_better"
    rank = (
        rank_among(float(value), peer_values, definition.direction) if value is not None else None
    )
    return Benchmark(
        metric=metric,
        period=period,
        hwb_code=hwb_code,
        value=None if value is None else float(value),
        england=england,
        england_basis=basis,
        region=region,
        region_name=region_name,
        peer_median=qs[1] if qs else None,
        peer_lower_quartile=qs[0] if qs else None,
        peer_upper_quartile=qs[2] if qs else None,
        peer_best_quartile=(qs[2] if higher else qs[0]) if qs else None,
        peers=len(peer_values),
        rank=rank,
        of=len(peer_values) + (1 if value is not None else 0),
    )


def funnel_for(
    figures: pd.DataFrame,
    metric: str,
    period: str,
    codes: Iterable[str] | None = None,
    *,
    exact: bool = False,
) -> Funnel:
    """The funnel of ``metric`` in ``period`` over HWBs (all, or ``codes``), target England."""
    rows = _hwb_values(figures, metric, period)
    rows = rows[rows.numerator.notna() & rows.denominator.notna()]
    if codes is not None:
        rows = rows[rows.area_code.isin(list(codes))]
    units = [
        AreaFigure(str(c), float(n), float(d), float(v))
        for c, n, d, v in zip(
            rows.area_code, rows.numerator, rows.denominator, rows._value, strict=True
        )
    ]
    target, _ = england_value(figures, metric, period)
    return funnel(metric, period, units, target=target, exact=exact)


@dataclass(frozen=True)
class Comparison:
    """One metric of a board among its peers: the benchmark and the funnel it sits on."""

    benchmark: Benchmark
    funnel: Funnel | None
    point: FunnelPoint | None
    note: str = ""


def compare_board(
    figures: pd.DataFrame,
    hwb_code: str,
    peers: Sequence[str],
    areas: Mapping[str, HwbArea],
    metrics: Iterable[str] | None = None,
    period: str | None = None,
    *,
    exact: bool = False,
) -> list[Comparison]:
    """Every metric (or ``metrics``) of ``hwb_code`` in its latest year (or ``period``).

    ``exact``: interpolated exact binomial / Poisson funnel limits (no overdispersion
    adjustment) instead of the normal approximation.
    """
    held = sorted(set(figures[figures.area_type == "hwb"].metric) & set(CATALOGUE))
    wanted = [m for m in (metrics if metrics is not None else held) if m in held]
    out = []
    for metric in wanted:
        when = period or latest_period(figures, metric)
        if when is None:
            continue
        bench = benchmark(figures, metric, when, hwb_code, peers, areas)
        fun: Funnel | None = None
        note = ""
        if measure_of(metric) is not None:
            try:
                fun = funnel_for(figures, metric, when, exact=exact)
            except ValueError as exc:
                note = str(exc)
        else:
            note = "no funnel: the metric is neither a percentage nor a rate per 100,000"
        out.append(Comparison(bench, fun, fun.point(hwb_code) if fun else None, note))
    return out


@dataclass(frozen=True)
class MeasuredStatus:
    """A metric's latest judged period against plan (for a return's metric section)."""

    metric: str
    period: str
    actual: float
    planned: float
    rag: str
    source: str

    @property
    def narrative(self) -> str:
        """One line a return can carry: what was measured, against what, from where."""
        return (
            f"{self.source} figures, {self.period}: {self.actual:,.1f} against "
            f"{self.planned:,.1f} planned ({self.rag})"
        )


def measured_statuses(
    pva: Mapping[str, pd.DataFrame], until: dt.date | None = None
) -> dict[str, MeasuredStatus]:
    """Per metric, the latest period judged against plan (ending by ``until``).

    The finest grain judged wins (month, then quarter, then year), as on the board pack.
    """
    out: dict[str, MeasuredStatus] = {}
    for grain in GRAINS:
        frame = pva.get(grain)
        if frame is None or frame.empty:
            continue
        judged = frame[frame.rag.notna()]
        if until is not None:
            ended = [period_span(str(p)).end <= until for p in judged.period]
            judged = judged[pd.Series(ended, index=judged.index, dtype=bool)]  # [] keeps rows
        for metric, rows in judged.groupby("metric", sort=True):
            if str(metric) in out:
                continue
            rows = rows.assign(_end=[period_span(str(p)).end for p in rows.period])
            last = rows.sort_values("_end").iloc[-1]
            out[str(metric)] = MeasuredStatus(
                str(metric),
                str(last.period),
                float(last.actual),
                float(last.planned),
                str(last.rag),
                str(last.get(SOURCE, STORE)),
            )
    return out
