"""Benchmark the metrics engine: all BCF metrics per HWB per month.

    python benchmarks/metrics.py                          # 100,000 and 1,000,000 residents
    python benchmarks/metrics.py --sizes 100000 --spark-sizes 100000
    python benchmarks/metrics.py --from-parquet DIR       # a synthetic feed directory

For each size (in a fresh child process, so peak memory is its own) it builds a store of
about 10 events per resident, then prints:

* seconds for every metric on DuckDB through bettercare (Ibis definitions), opening the
  store file, computing and checking population coverage -- best of 3 (the first run,
  which also compiles the Ibis expressions to SQL, is shown too);
* seconds for the same numbers from ONE hand-written DuckDB SQL statement (the baseline),
  checked to agree with bettercare row for row -- best of 3, interleaved;
* their ratio (goal: bettercare within 2x of the baseline);
* seconds and input rows/s on Spark local mode (local[1]) -- the same Ibis definitions;
* peak resident memory of the Python process (Spark's JVM is a separate process).

The built-in store is random (DuckDB ``random()`` with a fixed seed). ``--from-parquet``
loads ``DIR/<feed>.parquet`` (bettercare synth output) instead, with
``person_id = md5(nhs_number)`` as a stand-in pseudonym (the real ingest is keyed HMAC).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from bettercare.analytics.engine import activity_span, compute_metrics, store_tables
from bettercare.data.schema import (
    AGE_BANDS,
    FEEDS,
    STORE_TABLES,
    create_store_tables,
    store_columns,
    store_value_sql,
)
from bettercare.domain.periods import period_span

HWBS = ("E10000018", "E06000016")
REPEATS = 3


def _age(birth_month: str, d: str) -> str:
    """Whole years on ``d``, born on the 1st of the month (the store keeps birth_month)."""
    return (
        f"(year({d}) - year({birth_month}) - "
        f"CASE WHEN month({d}) < month({birth_month}) THEN 1 ELSE 0 END)"
    )


def _band(age: str) -> str:
    whens = []
    for b in AGE_BANDS:
        if b == "90+":
            continue
        lo, hi = b.split("-")
        whens.append(f"WHEN {age} BETWEEN {lo} AND {hi} THEN '{b}'")
    return f"CASE {' '.join(whens)} ELSE '90+' END"


def build_random_store(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """About 10 events per resident over 2016/17-2017/18, two HWBs."""
    create_store_tables(con)
    con.execute("SELECT setseed(0.42)")
    day = "(DATE '2016-04-01' + CAST(floor(random() * 730) AS INTEGER))"
    pick = "(1 + CAST(floor(random() * {k}) AS INTEGER))"
    con.execute(f"""
        INSERT INTO residents
        SELECT 'p' || i,
               date_trunc('month', DATE '1915-01-01' + CAST(floor(random() * 36500) AS INTEGER)),
               CASE WHEN random() < 0.5 THEN 'M' ELSE 'F' END, 'E01000001', 'C82001',
               CASE WHEN i % 2 = 0 THEN '{HWBS[0]}' ELSE '{HWBS[1]}' END, 5, 1,
               random() < 0.03, CASE WHEN random() < 0.02 THEN {day} END,
               CASE WHEN random() < 0.5 THEN {day} END
        FROM range({n}) t(i)""")
    person = f"'p' || CAST(floor(random() * {n}) AS BIGINT)"
    con.execute(f"""
        INSERT INTO hospital_spells
        SELECT {person}, 's' || i, 'RWE',
               CASE WHEN random() < 0.45 THEN 'non_elective' ELSE 'elective' END, {day},
               NULL, 'J18.9', random() < 0.06, NULL, NULL
        FROM range({6 * n}) t(i)""")
    con.execute(f"""
        INSERT INTO delayed_transfers
        SELECT {person}, 'd' || i, 's1', 'RWE', date_trunc('month', {day}),
               CAST(floor(random() * 31) AS INTEGER), 'housing',
               (['nhs', 'social_care', 'both'])[{pick.format(k=3)}]
        FROM range({n}) t(i)""")
    con.execute(f"""
        INSERT INTO reablement_episodes
        SELECT {person}, 'r' || i, NULL, d, d,
               (['at_home', 'at_home', 'at_home', 'care_home', 'hospital', 'died',
                 'unknown'])[{pick.format(k=7)}]
        FROM (SELECT i, {day} AS d FROM range({n // 2}) t(i))""")
    con.execute(f"""
        INSERT INTO social_care_services
        SELECT CASE WHEN random() < 0.05 THEN NULL ELSE {person} END, 'c' || i,
               date_trunc('month', DATE '1915-01-01' + CAST(floor(random() * 36500) AS INTEGER)),
               'residential_care', (['community', 'residential', 'nursing'])[{pick.format(k=3)}],
               {day}, NULL, random() < 0.1, 'nhs_number', NULL
        FROM range({n}) t(i)""")
    con.execute(f"""
        INSERT INTO experience_responses
        SELECT {person}, 'e' || i, CASE WHEN random() < 0.7 THEN 'gpps' ELSE 'ascs' END,
               {day}, 'q32', random() < 0.6
        FROM range({3 * n // 2}) t(i)""")
    _population_from_residents(con)


def _population_from_residents(con: duckdb.DuckDBPyConnection) -> None:
    for year in range(2015, 2019):
        mid = f"DATE '{year}-06-30'"
        age = _age("birth_month", mid)
        con.execute(f"""
            INSERT INTO population
            SELECT hwb_code, {year}, sex, {_band(age)} AS band, count(*)
            FROM residents WHERE {age} >= 0 AND sex IN ('M', 'F') GROUP BY ALL""")
        # every band and sex present (a zero row where nobody is that age)
        con.execute(f"""
            INSERT INTO population
            SELECT h.hwb_code, {year}, s.sex, b.band, 0
            FROM (SELECT DISTINCT hwb_code FROM residents) h,
                 (VALUES ('M'), ('F')) s(sex),
                 (SELECT unnest({list(AGE_BANDS)}) AS band) b
            WHERE NOT EXISTS (SELECT 1 FROM population p WHERE p.hwb_code = h.hwb_code
                AND p.year = {year} AND p.sex = s.sex AND p.age_band = b.band)""")


def load_parquet_store(con: duckdb.DuckDBPyConnection, src: Path) -> None:
    """Store tables straight from synth Parquet, person_id = md5(nhs_number)."""
    create_store_tables(con)
    for feed in FEEDS.values():
        if not feed.store_table or not (src / f"{feed.name}.parquet").is_file():
            continue
        file = src / f"{feed.name}.parquet"
        have = {
            r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{file}')").fetchall()
        }
        cols = []
        for c in store_columns(feed):
            if c.name == "person_id":
                cols.append("md5(nhs_number)")
            elif c.name in ("link_method", "match_probability"):
                cols.append("NULL")
            else:
                # the feed column it derives from (date_of_birth -> birth_month), when present
                try:
                    source = feed.column(c.name).name
                except StopIteration:
                    source = None
                cols.append(
                    store_value_sql(feed, c.name, lambda col: col.name)
                    if source in have
                    else "NULL"
                )
        con.execute(
            f"INSERT INTO {feed.store_table} SELECT {', '.join(cols)} "
            f"FROM read_parquet('{src / f'{feed.name}.parquet'}')"
        )


#: The metrics the hand-written baseline computes (the seven 2014-2019 BCF metrics).
BASELINE_METRICS = [
    "non_elective_admissions",
    "delayed_transfers_of_care",
    "permanent_admissions_care_homes_65",
    "reablement_91_days",
    "patient_experience",
    "falls_65",
    "dementia_diagnosis_rate",
]


def baseline_sql(lo: str, hi: str, activity: bool = False) -> str:
    """Every metric per HWB per month in one hand-written DuckDB SQL statement.

    Events are restricted to ``lo`` .. ``hi`` (the period window, or the activity span).
    Periods bettercare deliberately leaves out are left out here too, each rule written
    again independently: count metrics get a 0 row for every month of an HWB's run
    without events; months whose mid-year population lacks a band of the metric's base
    are dropped; hospital admission months before the month of the earliest discharge
    (a spells extract's partial start) are dropped; and, when ``activity`` (the window
    is the activity span, not a named period), dementia register snapshots start at
    that month too.
    """
    dem_from = "spell_edge.first_whole" if activity else "NULL"

    def win(d: str) -> str:
        return f"{d} BETWEEN DATE '{lo}' AND DATE '{hi}'"

    fy = "(CASE WHEN month({d}) >= 4 THEN year({d}) ELSE year({d}) - 1 END)"
    b18 = ", ".join(f"'{b}'" for b in AGE_BANDS[4:])
    b65 = ", ".join(f"'{b}'" for b in AGE_BANDS[14:])
    n_all, n_18, n_65 = 2 * len(AGE_BANDS), 2 * len(AGE_BANDS[4:]), 2 * len(AGE_BANDS[14:])
    return f"""
WITH den AS (
  SELECT hwb_code, year,
         sum(population)::DOUBLE AS d_all,
         sum(population) FILTER (WHERE age_band IN ({b18}))::DOUBLE AS d_18,
         sum(population) FILTER (WHERE age_band IN ({b65}))::DOUBLE AS d_65
  FROM population GROUP BY ALL),
-- a (hwb, mid-year) is usable only with every band and sex of the metric's base
pop_ok AS (
  SELECT hwb_code, year,
         count(DISTINCT sex || age_band) FILTER (WHERE sex IN ('M', 'F')) = {n_all} AS ok_all,
         count(DISTINCT sex || age_band) FILTER (WHERE sex IN ('M', 'F')
                                                 AND age_band IN ({b18})) = {n_18} AS ok_18,
         count(DISTINCT sex || age_band) FILTER (WHERE sex IN ('M', 'F')
                                                 AND age_band IN ({b65})) = {n_65} AS ok_65
  FROM population GROUP BY ALL),
rates(sex, age_band, rate) AS (VALUES
  ('M','65-69',0.012),('F','65-69',0.018),('M','70-74',0.030),('F','70-74',0.025),
  ('M','75-79',0.052),('F','75-79',0.062),('M','80-84',0.106),('F','80-84',0.095),
  ('M','85-89',0.128),('F','85-89',0.181),('M','90+',0.171),('F','90+',0.350)),
expected AS (
  SELECT p.hwb_code, p.year, sum(p.population * r.rate)::DOUBLE AS d
  FROM population p JOIN rates r USING (sex, age_band) GROUP BY ALL),
months AS (
  SELECT strftime(m, '%Y-%m') AS period, last_day(m) AS period_end,
         {fy.format(d="m")} AS py
  FROM generate_series(date_trunc('month', DATE '{lo}'), DATE '{hi}', INTERVAL 1 MONTH)
       t(m)),
-- hospital_spells is an extract of spells active from the month of its earliest
-- discharge: admission months before that are partial (when there are any)
spell_edge AS (
  SELECT CASE WHEN min(admission_date) < date_trunc('month', min(discharge_date))
              THEN strftime(min(discharge_date), '%Y-%m') END AS first_whole
  FROM hospital_spells),
sp AS (
  SELECT r.hwb_code, r.birth_month, s.* FROM hospital_spells s
  JOIN residents r USING (person_id)
  WHERE s.admission_method = 'non_elective' AND {win("s.admission_date")}),
nea AS (
  SELECT 'non_elective_admissions' AS metric, hwb_code,
         strftime(admission_date, '%Y-%m') AS period, 'all' AS breakdown,
         count(*)::DOUBLE AS n
  FROM sp GROUP BY ALL),
falls AS (
  SELECT 'falls_65', hwb_code, strftime(admission_date, '%Y-%m'), 'all', count(*)::DOUBLE
  FROM sp WHERE injury_due_to_fall AND {_age("birth_month", "admission_date")} >= 65
  GROUP BY ALL),
dt AS (
  SELECT r.hwb_code, strftime(d.census_month, '%Y-%m') AS period, d.attribution,
         d.delayed_days
  FROM delayed_transfers d JOIN residents r USING (person_id)
  WHERE {_age("r.birth_month", "d.census_month")} >= 18 AND {win("d.census_month")}),
dtoc AS (
  SELECT 'delayed_transfers_of_care', hwb_code, period, coalesce(attribution, 'all'),
         sum(delayed_days)::DOUBLE
  FROM dt GROUP BY GROUPING SETS ((hwb_code, period), (hwb_code, period, attribution))),
pa AS (
  SELECT 'permanent_admissions_care_homes_65', r.hwb_code, strftime(c.start_date, '%Y-%m'),
         'all', count(DISTINCT c.person_id)::DOUBLE
  FROM social_care_services c JOIN residents r USING (person_id)
  WHERE c.permanent_admission AND c.setting IN ('residential', 'nursing')
    AND {_age("c.birth_month", "c.start_date")} >= 65 AND {win("c.start_date")}
  GROUP BY ALL),
counts AS (
  SELECT * FROM nea UNION ALL SELECT * FROM falls UNION ALL SELECT * FROM dtoc
  UNION ALL SELECT * FROM pa),
-- count metrics: a row (0 when no events) for every month of an HWB's run, in every
-- breakdown the metric reports
run AS (
  SELECT metric, hwb_code, min(period) AS first, max(period) AS last FROM counts GROUP BY ALL),
bds AS (
  SELECT DISTINCT metric, hwb_code, breakdown FROM counts
  UNION
  SELECT run.metric, run.hwb_code, b.breakdown FROM run JOIN (VALUES
    ('non_elective_admissions', 'all'), ('falls_65', 'all'),
    ('permanent_admissions_care_homes_65', 'all'), ('delayed_transfers_of_care', 'all'),
    ('delayed_transfers_of_care', 'nhs'), ('delayed_transfers_of_care', 'social_care'),
    ('delayed_transfers_of_care', 'both')) b(metric, breakdown) USING (metric)),
filled AS (
  SELECT run.metric, run.hwb_code, m.period, m.py, bds.breakdown, coalesce(c.n, 0) AS n
  FROM run JOIN months m ON m.period BETWEEN run.first AND run.last
  JOIN bds ON bds.metric = run.metric AND bds.hwb_code = run.hwb_code
  LEFT JOIN counts c ON c.metric = run.metric AND c.hwb_code = run.hwb_code
    AND c.period = m.period AND c.breakdown = bds.breakdown),
rates_out AS (
  SELECT x.metric, x.hwb_code, x.period, x.breakdown, x.n AS numerator,
         CASE x.metric WHEN 'non_elective_admissions' THEN den.d_all
              WHEN 'delayed_transfers_of_care' THEN den.d_18 ELSE den.d_65 END AS denominator
  FROM filled x
  JOIN pop_ok ok ON ok.hwb_code = x.hwb_code AND ok.year = x.py
  LEFT JOIN den ON den.hwb_code = x.hwb_code AND den.year = x.py
  CROSS JOIN spell_edge
  WHERE CASE x.metric WHEN 'non_elective_admissions' THEN ok.ok_all
             WHEN 'delayed_transfers_of_care' THEN ok.ok_18 ELSE ok.ok_65 END
    AND (x.metric NOT IN ('non_elective_admissions', 'falls_65')
         OR spell_edge.first_whole IS NULL OR x.period >= spell_edge.first_whole)),
reab AS (
  SELECT 'reablement_91_days' AS metric, r.hwb_code,
         strftime(e.discharge_date, '%Y-%m') AS period, 'all' AS breakdown,
         count(*) FILTER (WHERE e.outcome_91_days = 'at_home')::DOUBLE AS numerator,
         count(*)::DOUBLE AS denominator
  FROM reablement_episodes e JOIN residents r USING (person_id)
  WHERE {_age("r.birth_month", "e.discharge_date")} >= 65 AND {win("e.discharge_date")}
  GROUP BY ALL),
pe AS (
  SELECT 'patient_experience', r.hwb_code, strftime(e.response_date, '%Y-%m') AS period,
         coalesce(e.survey, 'all'), count(*) FILTER (WHERE e.positive)::DOUBLE,
         count(*)::DOUBLE
  FROM experience_responses e JOIN residents r USING (person_id)
  WHERE {win("e.response_date")}
  GROUP BY GROUPING SETS ((r.hwb_code, period), (r.hwb_code, period, e.survey))),
dem AS (
  SELECT 'dementia_diagnosis_rate', r.hwb_code, m.period, 'all', count(*)::DOUBLE, e.d
  FROM residents r CROSS JOIN months m
  LEFT JOIN expected e ON e.hwb_code = r.hwb_code AND e.year = m.py
  JOIN pop_ok ok ON ok.hwb_code = r.hwb_code AND ok.year = m.py AND ok.ok_65
  CROSS JOIN spell_edge
  WHERE r.dementia_diagnosis AND {_age("r.birth_month", "m.period_end")} >= 65
    AND (r.date_of_death IS NULL OR r.date_of_death > m.period_end)
    AND (r.dementia_diagnosis_date IS NULL OR r.dementia_diagnosis_date <= m.period_end)
    AND ({dem_from} IS NULL OR m.period >= {dem_from})
  GROUP BY ALL)
SELECT metric, hwb_code, period, breakdown, numerator, denominator,
       numerator / denominator * 100000 AS value FROM rates_out
UNION ALL
SELECT *, numerator / denominator * 100 FROM (
  SELECT * FROM reab UNION ALL SELECT * FROM pe UNION ALL SELECT * FROM dem)
"""


KEYS = ["metric", "hwb_code", "period", "breakdown"]


def disagreement(ours: pd.DataFrame, base: pd.DataFrame, show: int = 5) -> list[str]:
    """Where bettercare and the baseline differ, per metric (empty when they agree).

    Rows only one side has, then numerator, denominator or value differences (relative
    1e-9; both missing counts as equal), with up to ``show`` examples of each.
    """
    m = ours.merge(base, on=KEYS, how="outer", suffixes=("_ours", "_base"), indicator=True)
    lines: list[str] = []
    for metric, g in m.groupby("metric"):
        for side, label in (("left_only", "only bettercare"), ("right_only", "only baseline")):
            rows = g[g._merge == side]
            if len(rows):
                eg = ", ".join(f"{h} {p} {b}" for h, p, b in rows[KEYS[1:]].values[:show])
                lines.append(f"{metric}: {len(rows)} row(s) {label}, e.g. {eg}")
        both = g[g._merge == "both"]
        for col in ("numerator", "denominator", "value"):
            x, y = both[f"{col}_ours"].astype(float), both[f"{col}_base"].astype(float)
            same = np.isclose(x, y, rtol=1e-9, atol=0) | (x.isna() & y.isna())
            bad = both[~same]
            if len(bad):
                eg = ", ".join(
                    f"{h} {p} {b}: {u} vs {v}"
                    for h, p, b, u, v in bad[[*KEYS[1:], f"{col}_ours", f"{col}_base"]].values[
                        :show
                    ]
                )
                lines.append(f"{metric}: {len(bad)} {col} difference(s) (ours vs base), e.g. {eg}")
    return lines


def run_one(size: int, spark: bool, src: str | None, period: str | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.duckdb"
        con = duckdb.connect(str(path))
        t0 = time.perf_counter()
        if src:
            load_parquet_store(con, Path(src))
        else:
            build_random_store(con, size)
        build_s = time.perf_counter() - t0
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in STORE_TABLES}
        if period:
            span = period_span(period)
            lo, hi = span.start, span.end
        else:
            lo, hi = activity_span(con, store_tables(con))
        con.close()

        # best of REPEATS, interleaved (the machine is shared; the minimum is the signal)
        duck_times, base_times = [], []
        sql = baseline_sql(str(lo), str(hi), activity=not period)
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            ours = compute_metrics(path, "month", metrics=BASELINE_METRICS, period=period)
            duck_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with duckdb.connect(str(path), read_only=True) as bcon:
                base = bcon.execute(sql).df()
            base_times.append(time.perf_counter() - t0)
        duck_s, base_s = min(duck_times), min(base_times)
        diff = disagreement(ours, base)
        out = {
            "residents": rows["residents"],
            "rows": rows,
            "events": sum(v for k, v in rows.items() if k not in ("residents", "population")),
            "build_s": build_s,
            "duckdb_s": duck_s,
            "baseline_s": base_s,
            "duckdb_cold_s": duck_times[0],
            "result_rows": len(ours),
            "agree": not diff,
            "diff": diff,
        }
        if spark:
            t0 = time.perf_counter()
            sp = compute_metrics(
                path, "month", backend="spark", metrics=BASELINE_METRICS, period=period
            )
            out["spark_s"] = time.perf_counter() - t0
            out["spark_agree"] = bool(
                len(sp) == len(ours)
                and np.allclose(sp.value.astype(float), ours.value.astype(float), rtol=1e-9)
            )
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def report(r: dict) -> None:
    total_in = sum(r["rows"].values())
    print(
        f"\n== {r['residents']:,} residents, {r['events']:,} events "
        f"({total_in:,} store rows; built in {r['build_s']:.1f} s)"
    )
    print(
        f"  bettercare on DuckDB (Ibis, all 7 metrics, monthly): {r['duckdb_s']:8.2f} s  "
        f"({r['result_rows']:,} result rows; first run incl. Ibis compile "
        f"{r['duckdb_cold_s']:.2f} s)"
    )
    print(
        f"  hand-written single DuckDB SQL baseline:             {r['baseline_s']:8.2f} s  "
        f"(same results: {'yes' if r['agree'] else 'NO'})"
    )
    for line in r["diff"]:
        print(f"    {line}")
    print(
        f"  ratio bettercare / baseline:                          "
        f"{r['duckdb_s'] / r['baseline_s']:8.2f} x  (goal <= 2x)"
    )
    if "spark_s" in r:
        print(
            f"  bettercare on Spark local[1]:                         {r['spark_s']:8.2f} s  "
            f"= {total_in / r['spark_s']:,.0f} input rows/s "
            f"(same results: {'yes' if r['spark_agree'] else 'NO'})"
        )
    print(f"  peak RSS (Python process):                            {r['peak_rss_mb']:8.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--spark-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes to also run on Spark (default: all)",
    )
    ap.add_argument("--from-parquet", default=None, help="synth output directory")
    ap.add_argument(
        "--period",
        default=None,
        help="only this period, e.g. 2016/17 (synth data has a run-in before it)",
    )
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--spark", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(run_one(args.child, args.spark, args.from_parquet, args.period)))
        return
    sizes = [0] if args.from_parquet else args.sizes
    spark_sizes = sizes if args.spark_sizes is None else args.spark_sizes
    failed = False
    for size in sizes:
        cmd = [sys.executable, __file__, "--child", str(size)]
        if args.from_parquet:
            cmd += ["--from-parquet", args.from_parquet]
        if args.period:
            cmd += ["--period", args.period]
        if size in spark_sizes or (args.from_parquet and args.spark_sizes is None):
            cmd.append("--spark")
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            raise SystemExit(res.returncode)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        report(r)
        failed = failed or not r["agree"] or not r.get("spark_agree", True)
    if failed:
        print("bettercare and the baseline disagree (see above)", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    main()
