"""The public entry point: every BCF metric per HWB per month / quarter / year.

Owns :func:`compute_metrics`: checking the request (grain, backend, metrics, period,
the tables the metrics need), running the metric definitions on the chosen backend
(:mod:`.backends`, :mod:`.sql_cache`), then per metric the zero-fill (:mod:`.zero_fill`)
and the measurability checks (:mod:`.coverage`), and assembling the one sorted result.
It does not own any metric's definition (:mod:`bettercare.analytics.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb
import ibis
import pandas as pd

from bettercare.analytics.engine.backends import (
    BACKENDS,
    Store,
    bind,
    open_store,
    require_spark,
    store_tables,
    table_columns,
)
from bettercare.analytics.engine.coverage import (
    Coverage,
    Unmeasured,
    activity_span,
    check_population,
    coverage,
    uncollected,
    unmeasurable,
)
from bettercare.analytics.engine.frames import empty, normalise
from bettercare.analytics.engine.sql_cache import PERIODS_SCHEMA, Query, run_duckdb, union
from bettercare.analytics.engine.zero_fill import fill_zero_periods
from bettercare.analytics.metrics import SPECS, MetricDataError
from bettercare.analytics.metrics.base import Context, check_grain, labels_between
from bettercare.domain.periods import fy_start_of, period_span


def resolve_metrics(metrics: Iterable[str] | None) -> list[str]:
    """The metric ids asked for (all when None); an unknown id is a :class:`MetricDataError`."""
    if metrics is None:
        return list(SPECS)
    ids = list(metrics)
    unknown = [m for m in ids if m not in SPECS]
    if unknown:
        raise MetricDataError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(SPECS)})")
    return ids


def _lacking_columns(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, str]:
    """Metric -> why it cannot be computed: the store lacks a column it needs.

    ``MetricSpec.columns``: e.g. a store written before ``discharge_ready_date``.
    """
    out: dict[str, str] = {}
    for mid in ids:
        missing = [
            f"{table}.{col}"
            for table, cols in SPECS[mid].columns.items()
            for col in cols
            if col not in table_columns(con, table)
        ]
        if missing:
            out[mid] = (
                f"{mid}: not computed: the store has no column {', '.join(missing)} (it was "
                "written before the column joined the feed); re-ingest the feed to add it"
            )
    return out


def _window(period: str | None) -> tuple[date | None, date | None]:
    if period is None:
        return None, None
    try:
        span = period_span(period)
    except ValueError as exc:
        raise MetricDataError(f"bad period: {exc}") from None
    return span.start, span.end


def _periods_frame(start: date, end: date, grain: str) -> pd.DataFrame:
    labels = labels_between(start, end, grain)
    spans = [period_span(lab) for lab in labels]
    return pd.DataFrame(
        {
            "period": labels,
            "period_start": [s.start for s in spans],
            "period_end": [s.end for s in spans],
            "pop_year": [fy_start_of(s.start) for s in spans],
        }
    )


def compute_metrics(
    store: Store,
    grain: str = "month",
    backend: str = "duckdb",
    metrics: Iterable[str] | None = None,
    period: str | None = None,
) -> pd.DataFrame:
    """Every requested metric per HWB per period of ``grain`` (``month|quarter|year``).

    ``period`` (plan grammar, e.g. ``2016/17``) restricts the events to that window.
    Raises :class:`MetricDataError` with a plain message for a missing, locked or
    unreadable store, a missing table, bad grain or period, the Spark backend without
    pyspark installed, nothing measurable at all, or (when metrics are named explicitly)
    a missing population band/year or a metric whose numerator is empty.

    With ``metrics=None`` an empty metric is skipped, and periods that cannot be
    measured (no population estimate for their mid-year, or partial at the edge of the
    data: :class:`Coverage`) are dropped; both are reported in
    ``result.attrs['warnings']`` (one line each, naming metric, periods, HWB and what is
    missing) and the periods in ``result.attrs['unmeasured']`` (:class:`Unmeasured`).
    """
    try:
        check_grain(grain)
    except ValueError as exc:
        raise MetricDataError(str(exc)) from None
    if backend not in BACKENDS:
        raise MetricDataError(f"backend '{backend}' is not one of {', '.join(BACKENDS)}")
    if backend == "spark":
        require_spark()
    explicit = metrics is not None
    ids = resolve_metrics(metrics)
    start, end = _window(period)
    with open_store(store) as con:
        present = store_tables(con)
        needed = sorted({t for m in ids for t in SPECS[m].tables})
        absent = [t for t in needed if t not in present]
        if absent:
            users = [m for m in ids if set(SPECS[m].tables) & set(absent)]
            raise MetricDataError(
                f"store has no table(s) {', '.join(absent)} (needed by {', '.join(users)}); "
                "build the store with `bettercare ingest` or create_store_tables"
            )
        lacking = _lacking_columns(con, ids)
        if lacking and explicit:
            raise MetricDataError(next(iter(lacking.values())))
        ids = [m for m in ids if m not in lacking]
        periods = None
        covered: dict[str, Coverage] = {}
        if "dementia_diagnosis_rate" in ids:
            lo, hi = (start, end) if start and end else activity_span(con, present)
            if not start:  # snapshots from the month the spells extract holds whole
                covered["hospital_spells"] = coverage(con, present, "hospital_spells")
                opens = covered["hospital_spells"].start
                if opens is not None and lo < opens <= hi:
                    lo = opens
            periods = _periods_frame(lo, hi, grain)
        pop = con.execute("SELECT * FROM population").df()
        if backend == "duckdb":
            query = Query(tuple(ids), tuple(needed), grain, start, end)
            result = run_duckdb(con, query, periods)
        else:
            with bind(con, needed, backend) as tables:
                ctx = Context(
                    tables=tables,
                    grain=grain,
                    start=start,
                    end=end,
                    periods=None
                    if periods is None
                    else ibis.memtable(periods, schema=PERIODS_SCHEMA),
                )
                result = normalise(union(ctx, ids).execute())
        frames: list[pd.DataFrame] = []
        warnings = list(lacking.values())
        unmeasured: list[Unmeasured] = []
        for mid in ids:
            df = result[result.metric == mid]
            if df.empty:
                msg = f"{mid}: empty numerator - no qualifying rows in {SPECS[mid].tables[0]}" + (
                    f" for {period}" if period else ""
                )
                if explicit:
                    raise MetricDataError(msg)
                warnings.append(msg)
                continue
            df = fill_zero_periods(df, pop, mid, grain)
            if explicit:
                check_population(pop, df, mid)
            table = SPECS[mid].tables[0]
            if table not in covered:
                covered[table] = coverage(con, present, table)
            df, notes = unmeasurable(df, mid, pop, covered[table])
            df, ended = uncollected(df, mid)
            unmeasured += notes + ended
            warnings += [n.message() for n in notes + ended]
            if not df.empty:
                frames.append(df)
    if not frames and unmeasured:
        more = f" (and {len(unmeasured) - 1} more)" if len(unmeasured) > 1 else ""
        raise MetricDataError(f"nothing could be measured: {unmeasured[0].message()}{more}")
    out = normalise(pd.concat(frames, ignore_index=True)) if frames else empty()
    out = out.sort_values(["metric", "hwb_code", "period", "breakdown"]).reset_index(drop=True)
    out.attrs["warnings"] = warnings
    out.attrs["unmeasured"] = unmeasured
    out.attrs["grain"] = grain
    out.attrs["backend"] = backend
    return out
