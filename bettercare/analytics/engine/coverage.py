"""Which periods the store can measure: population estimates and the edges of the data.

Owns the checks that drop (or, for named metrics, refuse) periods that cannot be
measured -- no mid-year population estimate or a missing age band of the metric's base
(:func:`population_gaps`), or a count metric's period cut short at the edge of what was
loaded (:class:`Coverage`) -- and reports them as :class:`Unmeasured`. It also finds the
span of dated activity in the store (:func:`activity_span`). It does not compute metrics
or fill zero periods (:mod:`.zero_fill`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from bettercare.analytics.engine.frames import pop_year
from bettercare.analytics.metrics import SPECS, MetricDataError
from bettercare.analytics.metrics.base import POPULATION_BASES
from bettercare.data.schema import FEEDS
from bettercare.domain.metric_sources import not_collected
from bettercare.domain.periods import period_span


@dataclass(frozen=True)
class Unmeasured:
    """Periods of one metric and HWB the store cannot measure, and what is missing."""

    metric: str
    hwb_code: str
    periods: tuple[str, ...]
    reason: str

    def message(self) -> str:
        """One line naming metric, periods, HWB and what is missing."""
        return (
            f"{self.metric}: {', '.join(self.periods)} not measured for HWB {self.hwb_code}: "
            f"{self.reason}"
        )


def population_gaps(
    pop: pd.DataFrame, result: pd.DataFrame, metric: str
) -> dict[tuple[str, int], str]:
    """(hwb, mid-year) the metric needs but the population table cannot give -> why.

    Every (hwb, mid-year) of the result must have every band and sex of the metric's
    population base (module doc of :mod:`bettercare.analytics.metrics.base`).
    """
    spec = SPECS[metric]
    if spec.population_base is None or result.empty:
        return {}
    bands = POPULATION_BASES[spec.population_base]
    have = {
        (str(h), int(y), str(s), str(b))
        for h, y, s, b in pop[["hwb_code", "year", "sex", "age_band"]].itertuples(index=False)
    }
    years_by_hwb: dict[str, set[int]] = {}
    for h, y, _, _ in have:
        years_by_hwb.setdefault(h, set()).add(y)
    needed = {
        (str(h), pop_year(str(p)))
        for h, p in result[["hwb_code", "period"]].itertuples(index=False)
    }
    gaps: dict[tuple[str, int], str] = {}
    for hwb, year in sorted(needed):
        if year not in years_by_hwb.get(hwb, set()):
            present = ", ".join(str(y) for y in sorted(years_by_hwb.get(hwb, set()))) or "none"
            gaps[(hwb, year)] = (
                f"population table has no mid-{year} estimate for HWB {hwb} "
                f"(years present: {present}); load the ONS mid-year estimates for {year}"
            )
            continue
        missing = [f"{b} ({s})" for b in bands for s in ("M", "F") if (hwb, year, s, b) not in have]
        if missing:
            gaps[(hwb, year)] = (
                f"population table for HWB {hwb}, mid-{year}, is missing age "
                f"band(s) {', '.join(missing)} needed for the {spec.population_base} "
                "denominator"
            )
    return gaps


def check_population(pop: pd.DataFrame, result: pd.DataFrame, metric: str) -> None:
    """Raise for the first (hwb, mid-year) the population table cannot give."""
    gaps = population_gaps(pop, result, metric)
    if gaps:
        raise MetricDataError(f"{metric}: {next(iter(gaps.values()))}")


@dataclass(frozen=True)
class Coverage:
    """The dates a store table's extract covers whole (either end may be unknown).

    Inferred from the store (the feeds declare no extract period yet):

    * ``start``: ``hospital_spells`` is an extract of spells *active* in a window, so
      spells admitted before the window appear only if still in hospital when it opens.
      The window opens on the first day of the month of the earliest discharge; admission
      months before it are partial.
    * ``start``/``end`` also from ``ingest_log``: the first and last month any loaded file
      of the feed covered. A quarter or year reaching outside them is partial.

    A month cut short inside the last loaded month (an extract taken mid-month) cannot be
    told from a quiet month and is not detected.
    """

    table: str
    start: date | None = None  # first day covered whole
    end: date | None = None  # last day covered whole
    start_reason: str = ""
    end_reason: str = ""

    def partial(self, period: str) -> str | None:
        """Why ``period`` is not covered whole, or None when it is."""
        span = period_span(period)
        if self.start is not None and span.start < self.start:
            return self.start_reason
        if self.end is not None and span.end > self.end:
            return self.end_reason
        return None


def activity_span(con: duckdb.DuckDBPyConnection, tables: set[str]) -> tuple[date, date]:
    """First and last period date across the store's event tables."""
    parts = [
        f"SELECT min({f.period_column}) AS lo, max({f.period_column}) AS hi FROM {f.store_table}"
        for f in FEEDS.values()
        if f.period_column and f.store_table in tables and f.store_table != "scheme_activity"
    ]
    sql = f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(parts)})"
    row = con.execute(sql).fetchone()
    if row is None or row[0] is None:
        raise MetricDataError(
            "the store holds no dated activity; pass a period to compute snapshot metrics"
        )
    return row[0], row[1]


def _loaded_months(
    con: duckdb.DuckDBPyConnection, tables: set[str], feed: str
) -> tuple[date, date] | None:
    """First day of the first and last day of the last month ``ingest_log`` loaded."""
    if "ingest_log" not in tables:
        return None
    try:
        rows = con.execute("SELECT periods FROM ingest_log WHERE feed = ?", [feed]).fetchall()
    except duckdb.Error:  # an older or foreign log layout: no coverage information
        return None
    months = sorted({m.strip() for (text,) in rows if text for m in text.split(",") if m.strip()})
    try:
        spans = [period_span(m) for m in months]
    except ValueError:
        return None
    return (spans[0].start, spans[-1].end) if spans else None


def coverage(con: duckdb.DuckDBPyConnection, tables: set[str], table: str) -> Coverage:
    """What of ``table``'s period dates the store holds whole (see :class:`Coverage`)."""
    feed = next((k for k, f in FEEDS.items() if f.store_table == table), None)
    if feed is None or table not in tables:
        return Coverage(table)
    cov = Coverage(table)
    loaded = _loaded_months(con, tables, feed)
    if loaded is not None:
        lo, hi = loaded
        note = f"{table} was loaded for {lo:%Y-%m} to {hi:%Y-%m} only"
        cov = Coverage(table, lo, hi, note, note)
    if table == "hospital_spells":
        row = con.execute(
            "SELECT min(admission_date), min(discharge_date) FROM hospital_spells"
        ).fetchone()
        first_adm, first_dis = row if row is not None else (None, None)
        if first_dis is not None and first_adm is not None:
            opens = date(first_dis.year, first_dis.month, 1)
            if first_adm < opens and (cov.start is None or opens > cov.start):
                cov = Coverage(
                    table,
                    opens,
                    cov.end,
                    (
                        f"hospital_spells holds the spells active from {opens:%Y-%m-%d}, "
                        "the month of its earliest discharge; admissions before then are "
                        "only the spells still in hospital on that day"
                    ),
                    cov.end_reason,
                )
    return cov


def unmeasurable(
    df: pd.DataFrame, metric: str, pop: pd.DataFrame, cover: Coverage | None
) -> tuple[pd.DataFrame, list[Unmeasured]]:
    """Drop the rows of periods that cannot be measured; say which and why.

    A period cannot be measured when the population table lacks its mid-year estimate
    (or a band of the metric's base), or -- for count metrics, whose value falls with
    missing days -- when it is partial at the edge of the data (:class:`Coverage`).
    Proportions of the events present are kept at the edges.
    """
    why: dict[tuple[str, str], str] = {}
    if cover is not None and SPECS[metric].zero_fill:
        for hwb, period in set(zip(df.hwb_code, df.period, strict=True)):
            if (edge := cover.partial(period)) is not None:
                why[(hwb, period)] = f"partial period at the edge of the data: {edge}"
    gaps = population_gaps(pop, df, metric)
    for hwb, period in set(zip(df.hwb_code, df.period, strict=True)):
        gap = gaps.get((hwb, pop_year(period)))
        if gap is not None and (hwb, period) not in why:
            why[(hwb, period)] = gap
    return _dropped(df, metric, why)


def uncollected(df: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, list[Unmeasured]]:
    """Drop the periods after the metric's national collection ended; say which.

    A store may hold rows (or zero-filled periods) past the end of a collection, e.g.
    delayed transfers after February 2020 (:mod:`bettercare.domain.metric_sources`):
    those periods are reported as not collected, never computed.
    """
    why: dict[tuple[str, str], str] = {}
    for hwb, period in set(zip(df.hwb_code, df.period, strict=True)):
        span = period_span(period)
        if (reason := not_collected(metric, span.start, span.end)) is not None:
            why[(hwb, period)] = reason
    return _dropped(df, metric, why)


def _dropped(
    df: pd.DataFrame, metric: str, why: dict[tuple[str, str], str]
) -> tuple[pd.DataFrame, list[Unmeasured]]:
    """``df`` without the (hwb, period) rows in ``why``; one note per HWB and reason."""
    if not why:
        return df, []
    drop = [(h, p) in why for h, p in zip(df.hwb_code, df.period, strict=True)]
    grouped: dict[tuple[str, str], list[str]] = {}
    for (hwb, period), reason in why.items():
        grouped.setdefault((hwb, reason), []).append(period)
    notes = [
        Unmeasured(metric, hwb, tuple(sorted(periods, key=lambda p: period_span(p).start)), reason)
        for (hwb, reason), periods in sorted(grouped.items())
    ]
    return df[[not d for d in drop]], notes
