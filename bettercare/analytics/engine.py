"""Compute every BCF metric per HWB per month / quarter / year on DuckDB or Spark.

The metric definitions (:mod:`bettercare.analytics.metrics`) are Ibis expressions written
once. :func:`compute_metrics` binds them to a backend:

* ``duckdb``: the embedded analytics store itself (read only);
* ``spark``: the store tables exported to Parquet (DuckDB ``COPY``), read by a local
  Spark session through ``ibis.pyspark`` -- the *same* expressions, no second copy of SQL.

The result is one pandas DataFrame with :data:`OUTPUT_COLUMNS`
(metric, hwb_code, period, breakdown, numerator, denominator, value), sorted.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, cast

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from bettercare.analytics.metrics import GRAINS, OUTPUT_COLUMNS, SPECS, MetricDataError
from bettercare.analytics.metrics.base import (
    POPULATION_BASES,
    Context,
    check_grain,
    labels_between,
)
from bettercare.data import duck
from bettercare.data.schema import FEEDS
from bettercare.domain.periods import fy_start_of, period_span
from bettercare.domain.plan import Plan

BACKENDS: tuple[str, ...] = ("duckdb", "spark")
Store = str | Path | duckdb.DuckDBPyConnection


@cache
def spark_session() -> Any:
    """One small local Spark session per process (1 core, no UI, 2 shuffle partitions)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[1]")
        .appName("bettercare-metrics")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


@contextmanager
def open_store(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection to the store; a path must exist (never create an empty store)."""
    if isinstance(store, duckdb.DuckDBPyConnection):
        yield store
        return
    path = Path(store)
    if not path.is_file():
        raise MetricDataError(f"store file not found: {path}")
    try:
        con = duck.connect(path, read_only=True)  # no extension autoload / network
    except duck.DatabaseFileError as exc:
        cause = exc.__cause__  # a duckdb.Error (locked, corrupt) or None (not a DuckDB file)
        message = (
            _open_error(path, cause)
            if isinstance(cause, duckdb.Error)
            else f"store {path} cannot be opened as a DuckDB analytics store: {exc}"
        )
        raise MetricDataError(message) from None
    try:
        yield con
    finally:
        con.close()


def _open_error(path: Path, exc: duckdb.Error) -> str:
    """One line for a store DuckDB cannot open: locked by a writer, or not a store."""
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"store {path} is in use by another process (e.g. an ingest holding the write "
            "lock); run metrics when it has finished"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"store {path} cannot be opened as a DuckDB analytics store: {first}"


def store_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the store's main schema."""
    return _store_tables(con)


def _store_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


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
            if col not in _table_columns(con, table)
        ]
        if missing:
            out[mid] = (
                f"{mid}: not computed: the store has no column {', '.join(missing)} (it was "
                "written before the column joined the feed); re-ingest the feed to add it"
            )
    return out


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def resolve_metrics(metrics: Iterable[str] | None) -> list[str]:
    if metrics is None:
        return list(SPECS)
    ids = list(metrics)
    unknown = [m for m in ids if m not in SPECS]
    if unknown:
        raise MetricDataError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(SPECS)})")
    return ids


def _window(period: str | None) -> tuple[date | None, date | None]:
    if period is None:
        return None, None
    try:
        span = period_span(period)
    except ValueError as exc:
        raise MetricDataError(f"bad period: {exc}") from None
    return span.start, span.end


def _activity_span(con: duckdb.DuckDBPyConnection, tables: set[str]) -> tuple[date, date]:
    """First and last period date across the store's event tables."""
    parts = [
        f"SELECT min({f.period_column}) AS lo, max({f.period_column}) AS hi FROM {f.store_table}"
        for f in FEEDS.values()
        if f.period_column and f.store_table in tables and f.store_table != "scheme_activity"
    ]
    sql = f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(parts)})"
    lo, hi = duck.one(con, sql)
    if lo is None:
        raise MetricDataError(
            "the store holds no dated activity; pass a period to compute snapshot metrics"
        )
    return lo, hi


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


@dataclass(frozen=True)
class Unmeasured:
    """Periods of one metric and HWB the store cannot measure, and what is missing."""

    metric: str
    hwb_code: str
    periods: tuple[str, ...]
    reason: str

    def message(self) -> str:
        """One line for the user: the metric, the periods, the HWB and the reason."""
        return (
            f"{self.metric}: {', '.join(self.periods)} not measured for HWB {self.hwb_code}: "
            f"{self.reason}"
        )


def _population_gaps(
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
        (h, int(y), s, b)
        for h, y, s, b in pop[["hwb_code", "year", "sex", "age_band"]].itertuples(index=False)
    }
    years_by_hwb: dict[str, set[int]] = {}
    for h, y, _, _ in have:
        years_by_hwb.setdefault(h, set()).add(y)
    needed = {(h, _pop_year(p)) for h, p in result[["hwb_code", "period"]].itertuples(index=False)}
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


def _check_population(pop: pd.DataFrame, result: pd.DataFrame, metric: str) -> None:
    """Raise for the first (hwb, mid-year) the population table cannot give."""
    gaps = _population_gaps(pop, result, metric)
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


def _coverage(con: duckdb.DuckDBPyConnection, tables: set[str], table: str) -> Coverage:
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
        first_adm, first_dis = duck.one(
            con, "SELECT min(admission_date), min(discharge_date) FROM hospital_spells"
        )
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


def _unmeasurable(
    df: pd.DataFrame, metric: str, pop: pd.DataFrame, coverage: Coverage | None
) -> tuple[pd.DataFrame, list[Unmeasured]]:
    """Drop the rows of periods that cannot be measured; say which and why.

    A period cannot be measured when the population table lacks its mid-year estimate
    (or a band of the metric's base), or -- for count metrics, whose value falls with
    missing days -- when it is partial at the edge of the data (:class:`Coverage`).
    Proportions of the events present are kept at the edges.
    """
    why: dict[tuple[str, str], str] = {}
    if coverage is not None and SPECS[metric].zero_fill:
        for hwb, period in set(zip(df.hwb_code, df.period, strict=True)):
            if (edge := coverage.partial(period)) is not None:
                why[(hwb, period)] = f"partial period at the edge of the data: {edge}"
    gaps = _population_gaps(pop, df, metric)
    for hwb, period in set(zip(df.hwb_code, df.period, strict=True)):
        gap = gaps.get((hwb, _pop_year(period)))
        if gap is not None and (hwb, period) not in why:
            why[(hwb, period)] = gap
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


def _fill_zero_periods(
    df: pd.DataFrame, pop: pd.DataFrame, metric: str, grain: str
) -> pd.DataFrame:
    """Rows with numerator 0 for the gaps in a count metric's run (``MetricSpec.zero_fill``).

    Per HWB, every period between its first and last period with events, for every
    breakdown the metric reports; the denominator is the same mid-year population as the
    metric's other rows (NaN when the population table lacks it, which
    :func:`_check_population` then reports). Done once here, after either backend.
    """
    spec = SPECS[metric]
    if not spec.zero_fill or spec.population_base is None:
        return df
    bands = list(POPULATION_BASES[spec.population_base])
    base = pop[pop.age_band.isin(bands)]
    sums = base.groupby(["hwb_code", "year"]).population.sum()
    # a two-column groupby's index entries are (hwb_code, year) pairs; pandas types them Hashable
    den = {
        (h, int(y)): float(n)
        for (h, y), n in cast(Iterable[tuple[tuple[str, int], float]], sums.items())
    }
    rows = []
    for key, g in df.groupby("hwb_code"):
        hwb = str(key)
        spans = [period_span(p) for p in g.period.unique()]
        labels = labels_between(min(x.start for x in spans), max(x.end for x in spans), grain)
        have = set(zip(g.period, g.breakdown, strict=True))
        breakdowns = sorted(set(spec.breakdowns) | set(g.breakdown))
        for label in labels:
            for bd in breakdowns:
                if (label, bd) not in have:
                    d = den.get((hwb, _pop_year(label)), float("nan"))
                    rows.append((metric, hwb, label, bd, 0.0, d, 0.0 if d > 0 else float("nan")))
    if not rows:
        return df
    filled = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    return _normalise(pd.concat([df, filled], ignore_index=True))


def _pop_year(period: str) -> int:
    return fy_start_of(period_span(period).start)


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    df = df[list(OUTPUT_COLUMNS)].copy()
    for c in ("metric", "hwb_code", "period", "breakdown"):
        df[c] = df[c].astype(object)
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    return df


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
    unreadable store, a missing table, bad grain or period, nothing measurable at all,
    or (when metrics are named explicitly) a missing population band/year or a metric
    whose numerator is empty.

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
    explicit = metrics is not None
    ids = resolve_metrics(metrics)
    start, end = _window(period)
    with open_store(store) as con:
        present = _store_tables(con)
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
        coverage: dict[str, Coverage] = {}
        if "dementia_diagnosis_rate" in ids:
            lo, hi = (start, end) if start and end else _activity_span(con, present)
            if not start:  # snapshots from the month the spells extract holds whole
                coverage["hospital_spells"] = _coverage(con, present, "hospital_spells")
                opens = coverage["hospital_spells"].start
                if opens is not None and lo < opens <= hi:
                    lo = opens
            periods = _periods_frame(lo, hi, grain)
        pop = con.execute("SELECT * FROM population").df()
        if backend == "duckdb":
            result = _run_duckdb(con, ids, needed, grain, start, end, periods)
        else:
            with _bind(con, needed, backend) as tables:
                ctx = Context(
                    tables=tables,
                    grain=grain,
                    start=start,
                    end=end,
                    periods=None
                    if periods is None
                    else ibis.memtable(periods, schema=PERIODS_SCHEMA),
                )
                result = _normalise(_union(ctx, ids).execute())
        frames, warnings = [], list(lacking.values())
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
            df = _fill_zero_periods(df, pop, mid, grain)
            if explicit:
                _check_population(pop, df, mid)
            table = SPECS[mid].tables[0]
            if table not in coverage:
                coverage[table] = _coverage(con, present, table)
            df, notes = _unmeasurable(df, mid, pop, coverage[table])
            unmeasured += notes
            warnings += [n.message() for n in notes]
            if not df.empty:
                frames.append(df)
    if not frames and unmeasured:
        more = f" (and {len(unmeasured) - 1} more)" if len(unmeasured) > 1 else ""
        raise MetricDataError(f"nothing could be measured: {unmeasured[0].message()}{more}")
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
    )
    out = _normalise(out).sort_values(["metric", "hwb_code", "period", "breakdown"])
    out = out.reset_index(drop=True)
    out.attrs["warnings"] = warnings
    out.attrs["unmeasured"] = unmeasured
    out.attrs["grain"] = grain
    out.attrs["backend"] = backend
    return out


def store_hwb_codes(store: Store) -> list[str]:
    """The HWB codes the store holds residents or population estimates for."""
    with open_store(store) as con:
        tables = _store_tables(con)
        parts = [f"SELECT hwb_code FROM {t}" for t in ("residents", "population") if t in tables]
        if not parts:
            return []
        union = " UNION ALL ".join(parts)
        sql = f"SELECT DISTINCT hwb_code FROM ({union}) WHERE hwb_code IS NOT NULL"
        return sorted(r[0] for r in con.execute(sql).fetchall())


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


PERIODS_SCHEMA = {
    "period": "string",
    "period_start": "date",
    "period_end": "date",
    "pop_year": "int64",
}
PERIODS_VIEW = "_bettercare_periods"
_SQL_CACHE: dict[tuple[object, ...], str] = {}


def _union(ctx: Context, ids: list[str]) -> ibis.Table:
    """Every metric as one statement: the backend plans and parallelises them together."""
    exprs = [SPECS[mid].build(ctx).select(*OUTPUT_COLUMNS) for mid in ids]
    return ibis.union(*exprs) if len(exprs) > 1 else exprs[0]


def _run_duckdb(
    con: duckdb.DuckDBPyConnection,
    ids: list[str],
    needed: list[str],
    grain: str,
    start: date | None,
    end: date | None,
    periods: pd.DataFrame | None,
) -> pd.DataFrame:
    """Run the Ibis definitions on DuckDB; the compiled SQL is cached per query shape.

    Compiling seven Ibis expressions costs ~0.2 s of Python, more than computing them
    on a small store; the SQL depends only on (metrics, grain, window), the store tables
    being fixed by the schema contract, so it is compiled once per process. The period
    list (snapshot metrics) is a view registered for the call.
    """
    if periods is not None:
        arrow = pa.Table.from_pandas(periods, preserve_index=False).cast(
            pa.schema(
                [
                    ("period", pa.string()),
                    ("period_start", pa.date32()),
                    ("period_end", pa.date32()),
                    ("pop_year", pa.int64()),
                ]
            )
        )
        con.register(PERIODS_VIEW, arrow)
    try:
        key = (tuple(ids), grain, start, end)
        sql = _SQL_CACHE.get(key)
        if sql is None:
            db = ibis.duckdb.from_connection(con)
            tables = {t: db.table(t) for t in needed}
            ctx = Context(
                tables=tables,
                grain=grain,
                start=start,
                end=end,
                periods=db.table(PERIODS_VIEW) if periods is not None else None,
            )
            sql = _SQL_CACHE[key] = ibis.to_sql(_union(ctx, ids), dialect="duckdb")
        return _normalise(con.execute(sql).df())
    finally:
        if periods is not None:
            con.unregister(PERIODS_VIEW)


@contextmanager
def _bind(
    con: duckdb.DuckDBPyConnection, tables: list[str], backend: str
) -> Iterator[dict[str, ibis.Table]]:
    """Ibis tables for ``tables`` on the chosen backend."""
    if backend == "duckdb":
        db = ibis.duckdb.from_connection(con)
        yield {t: db.table(t) for t in tables}
        return
    with tempfile.TemporaryDirectory(prefix="bettercare-spark-") as tmp:
        sp = ibis.pyspark.connect(spark_session())
        tag = uuid.uuid4().hex[:8]
        bound = {}
        for t in tables:
            path = Path(tmp) / f"{t}.parquet"
            con.execute(f"COPY {t} TO '{path}' (FORMAT parquet)")
            bound[t] = sp.read_parquet(str(path), table_name=f"bc_{t}_{tag}")
        yield bound


__all__ = [
    "BACKENDS",
    "GRAINS",
    "Coverage",
    "MetricDataError",
    "Unmeasured",
    "compute_metrics",
    "open_store",
    "resolve_hwb",
    "spark_session",
    "store_hwb_codes",
    "store_tables",
]
