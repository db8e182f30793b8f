"""``ingest(..., backend="spark")``: the national run on Spark, into a Parquet store.

The same steps as the DuckDB ingest (:mod:`bettercare.data.ingest`) from the same
definitions, evaluated by Spark: the feed files are read by Spark (CSV or Parquet, any
path Spark's file system reaches: local, HDFS, S3, DBFS), or, for a national dataset's
layout (:mod:`bettercare.data.national`), converted on the driver by the DuckDB ingest's
readers (:func:`.files.read_national_file`); the header checked by
:func:`~bettercare.data.feed_files.check_header`; identifiers by value refused by the
DuckDB ingest's two scans run on Spark (:mod:`.scan`); the staging casts and row rules
are :mod:`bettercare.data.ingest.rules`' SQL transpiled (:mod:`.sql`), the pseudonym is
HMAC-SHA256 in Spark SQL (:mod:`.pseudonym`, equal to the DuckDB store's), opted-out
people are removed, social care is linked on the pseudonym and else by Splink's
SparkAPI with the DuckDB linkage's model (:mod:`.linkage`) against this run's residents
or the restricted identity file's people, and events outside a person's life are
quarantined (:func:`bettercare.data.ingest.plausibility.outside_life_sql`).

The store is a directory of Parquet tables (``<store>/<table>/``, an open table format
any engine reads): the feeds' store tables plus ``quarantine``, ``ingest_log``,
``opt_out_register``, ``linkage_report`` and ``store_meta`` (the key check value).
It is written whole into ``<store>.partial-<run>`` and renamed into place only when
every feed is done: a failed run leaves the previous store as it was.

Differences from the DuckDB ingest, by design: each run writes the whole store afresh
(a national extract is loaded whole; the months-replacing, nothing-lost and
key-in-store checks of an incremental load do not apply, nor ``--replace``), so the
identifier scan knows this run's people and the identity file's, not an earlier
store's; national files and the identity file must be local to the driver; clerical
review decisions are the DuckDB ingest's only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from bettercare.data import identities, linkage, pseudonymise
from bettercare.data.feed_files import ROW, FileRejected, Issue, refuse_truncated
from bettercare.data.ingest.plausibility import birth_condition_of, outside_life_sql
from bettercare.data.ingest.results import FeedResult, IngestResult, Progress, UsageError
from bettercare.data.ingest.rules import NHS, NHS_OK, row_issues_sql, staging_sql, t
from bettercare.data.ingest.run import FEED_ORDER
from bettercare.data.national import national_stem
from bettercare.data.national.convert import national_column_sql
from bettercare.data.schema import FEEDS, FeedSpec, feed_with, store_columns, store_value_sql
from bettercare.data.spark_ingest import files
from bettercare.data.spark_ingest.linkage import probabilistic_link
from bettercare.data.spark_ingest.pseudonym import pseudonym_sql
from bettercare.data.spark_ingest.scan import SparkScan, refuse_identifiers
from bettercare.data.spark_ingest.session import spark_session
from bettercare.data.spark_ingest.sql import run, to_spark

_SPARK_TYPE = {
    "VARCHAR": "STRING",
    "DATE": "DATE",
    "INTEGER": "INT",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
}
ISSUE_SCHEMA = (
    "file STRING, row BIGINT, column STRING, rule STRING, severity STRING, message STRING, "
    "value STRING"
)
IDENTITY_SCHEMA = (
    "person_id STRING, given_name STRING, family_name STRING, date_of_birth DATE, postcode STRING"
)
AUX_SCHEMAS = {
    "ingest_log": "run_id STRING, feed STRING, file STRING, sha256 STRING, periods STRING, "
    "rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_opted_out BIGINT, "
    "loaded_at TIMESTAMP",
    "quarantine": "run_id STRING, feed STRING, file STRING, sha256 STRING, row BIGINT, "
    "column STRING, rule STRING, severity STRING, message STRING, value STRING",
    "opt_out_register": "person_id STRING",
    "store_meta": "name STRING, value STRING",
    "linkage_report": "run_id STRING, metric STRING, value DOUBLE",
}


def store_schema(feed: FeedSpec) -> str:
    """The Spark schema of the feed's store table (the DuckDB store's columns and types)."""
    return ", ".join(f"{c.name} {_SPARK_TYPE[c.type]}" for c in store_columns(feed))


class _Run:
    """One Spark ingest run: its tables so far, findings and results."""

    def __init__(
        self,
        spark: Any,
        key: bytes,
        run_id: str,
        run_date: dt.date,
        extract_period: tuple[dt.date, dt.date] | None,
        threshold: float,
    ):
        self.spark, self.key, self.run_id = spark, key, run_id
        self.run_date, self.extract_period, self.threshold = run_date, extract_period, threshold
        self.tables: dict[str, Any] = {}  # store table -> DataFrame
        self.quarantine: list[Any] = []
        self.log: list[tuple[Any, ...]] = []
        self.results: list[FeedResult] = []
        self.linkage: dict[str, float] = {}
        self.opt_outs: Any = spark.createDataFrame([], "person_id STRING")
        self.identities: Any = None
        self.on_stage: Any = None
        self.scan = SparkScan(spark, key)  # the identifier scans' working tables

    def pid(self, expr: str) -> str:
        return pseudonym_sql(self.key, expr)

    def load(self, feed: FeedSpec, path: str) -> tuple[FeedResult, list[Issue]]:
        """Load one file; a file-level problem rejects it (nothing of it kept)."""
        name = files.basename(path)
        try:
            raw, parse_issues = files.read_feed(self.spark, path, feed)
            # (a Spark run loads whole extracts: there is no --replace)
            refuse_truncated(name, parse_issues)
            raw = raw.localCheckpoint()  # read once: the scans and the staging read it
            people = [t for t in self.tables.values() if "person_id" in t.columns]
            people.append(self.opt_outs)
            if self.identities is not None:
                people.append(self.identities)
            self.scan.set_people(people)
            refuse_identifiers(self.scan, raw, name, feed)
            return self._load(feed, path, name, raw, parse_issues), []
        except FileRejected as exc:
            return FeedResult(feed.name, name, "rejected"), exc.issues

    def _load(
        self, feed: FeedSpec, path: str, name: str, raw: Any, parse_issues: list[Issue]
    ) -> FeedResult:
        spark, f = self.spark, feed.name
        raw.createOrReplaceTempView(f"raw_{f}")
        stg = run(spark, f"CREATE TABLE stg_{f} AS {staging_sql(feed, f'raw_{f}')}")
        rules = row_issues_sql(
            feed, f"stg_{f}", name, run_date=self.run_date, extract_period=self.extract_period
        )
        # one task per staging partition evaluates every rule (not one task per rule)
        iss = spark.sql(to_spark(rules)).coalesce(max(1, stg.rdd.getNumPartitions()))
        if parse_issues:
            iss = iss.unionByName(spark.createDataFrame(_issue_rows(parse_issues), ISSUE_SCHEMA))
        if feed.opt_out_list:  # a repeated entry is a warning; an unreadable one rejects
            iss = iss.withColumn(
                "severity",
                spark_expr("CASE WHEN rule = 'duplicate_key' THEN 'warning' ELSE severity END"),
            )
        iss = iss.localCheckpoint()
        iss.createOrReplaceTempView(f"iss_{f}")
        if feed.opt_out_list:
            bad = spark.sql(
                f"SELECT count(DISTINCT row) FROM iss_{f} WHERE severity = 'error'"
            ).first()[0]
            if bad:
                raise FileRejected(
                    [
                        Issue(
                            name,
                            None,
                            "nhs_number",
                            "opt_out_list_invalid",
                            f"{name}: {bad:,} entries of the opt-out list are not valid NHS "
                            "numbers (see the report); an opt-out that cannot be read cannot "
                            "be applied, so the list is rejected",
                        )
                    ]
                )
        has_nhs = "nhs_number" in feed.column_names
        pid = f", CASE WHEN {NHS_OK} THEN {self.pid(NHS)} END AS person_id" if has_nhs else ""
        ok = spark.sql(
            f"SELECT *{pid} FROM stg_{f} WHERE {ROW} NOT IN (SELECT row FROM iss_{f} "
            "WHERE severity = 'error' AND row IS NOT NULL)"
        )
        left_out = {i.row for i in parse_issues if i.severity == "error"}
        rows_read = stg.count() + len(left_out)
        opted_out, months = 0, []
        if feed.opt_out_list:
            self.opt_outs = spark.sql(
                f"SELECT DISTINCT {self.pid(NHS)} AS person_id FROM stg_{f} WHERE {NHS_OK}"
            ).cache()
            loaded = ok.count()
        else:
            if feed.links_probabilistically:
                ok = self._link(ok.localCheckpoint())
            if has_nhs:
                ok = ok.localCheckpoint()
                before = ok.count()
                ok = ok.join(self.opt_outs, "person_id", "left_anti").localCheckpoint()
                opted_out = before - ok.count()
            ok.createOrReplaceTempView(f"ok_{f}")
            if has_nhs and feed.period_column and "residents" in self.tables:
                self.tables["residents"].createOrReplaceTempView("residents")
                residents_types = {c.name: c.type for c in store_columns(FEEDS["residents"])}
                event = f"o.{t(feed.column(feed.period_column))}"
                birth = birth_condition_of(residents_types, event, feed.period_is_month)
                life = [
                    spark.sql(to_spark(s)).toDF(*_ISSUE_COLS)
                    for s in outside_life_sql(feed, f"ok_{f}", name, birth)
                ]
                outside = life[0]
                for more in life[1:]:
                    outside = outside.unionByName(more)
                outside = outside.localCheckpoint()
                iss = iss.unionByName(outside)
                ok = ok.join(
                    outside.select(outside.row.alias(ROW)).distinct(), ROW, "left_anti"
                ).localCheckpoint()
                ok.createOrReplaceTempView(f"ok_{f}")
            if feed.period_column:
                col = t(feed.column(feed.period_column))
                months = [
                    r[0]
                    for r in spark.sql(
                        to_spark(
                            f"SELECT DISTINCT strftime({col}, '%Y-%m') AS m FROM ok_{f} "
                            f"WHERE {col} IS NOT NULL ORDER BY 1"
                        )
                    ).collect()
                ]
            if feed.identity_source:
                self.identities = spark.sql(
                    f"SELECT person_id, given_name, family_name, date_of_birth__t AS "
                    f"date_of_birth, postcode FROM ok_{f} WHERE person_id IS NOT NULL"
                ).localCheckpoint()
                self.scan.set_identities(self.identities)
            assert feed.store_table is not None
            table = self._store_rows(feed, f"ok_{f}").localCheckpoint()
            self.tables[feed.store_table] = table
            loaded = table.count()
        stem = national_stem(name, f)
        column = national_column_sql(stem) if stem else None
        if column is not None:  # findings name the national file's own fields
            iss = iss.withColumn("column", spark_expr(to_spark(column)))
        iss = iss.localCheckpoint()
        iss.createOrReplaceTempView(f"iss_{f}")
        quarantined, warnings = spark.sql(
            f"SELECT count(DISTINCT CASE WHEN severity = 'error' THEN row END), "
            f"count(CASE WHEN severity = 'warning' THEN 1 END) FROM iss_{f}"
        ).first()
        digest = files.sha256(spark, path)
        self.quarantine.append(
            iss.selectExpr(
                f"'{self.run_id}' AS run_id", f"'{f}' AS feed", f"'{digest}' AS sha256", "*"
            )
        )
        self.log.append(
            (
                self.run_id,
                f,
                name,
                digest,
                ",".join(months),
                rows_read,
                loaded,
                quarantined,
                opted_out,
                dt.datetime.now().replace(microsecond=0),
            )
        )
        return FeedResult(
            f, name, "loaded", rows_read, loaded, quarantined, opted_out, warnings, months
        )

    def _store_rows(self, feed: FeedSpec, ok: str) -> Any:
        """The store table's rows from ``ok``, in file order, with the store's types."""
        exprs = []
        for c in store_columns(feed):
            value = (
                c.name
                if c.name in ("person_id", "link_method", "match_probability")
                else to_spark(store_value_sql(feed, c.name, t))
            )
            exprs.append(f"CAST({value} AS {_SPARK_TYPE[c.type]}) AS {c.name}")
        return self.spark.sql(f"SELECT {', '.join(exprs)} FROM {ok} ORDER BY {ROW}")

    def _link(self, ok: Any) -> Any:
        """Social care: on the pseudonym, else probabilistically against the residents."""
        spark = self.spark
        ok = ok.selectExpr(
            "*",
            "CASE WHEN person_id IS NOT NULL THEN 'nhs_number' END AS link_method",
            "CASE WHEN person_id IS NOT NULL THEN 1.0D END AS match_probability",
        ).cache()
        total = ok.count()
        det = ok.where("person_id IS NOT NULL").count()
        stats: dict[str, float] = {
            "records": total,
            "linked_nhs_number": det,
            "needing_probabilistic": total - det,
            "linked_probabilistic": 0,
            "linked_clerical_review": 0,
        }
        if self.identities is not None and total > det:
            records = ok.where("person_id IS NULL").selectExpr(
                f"{ROW} AS record_id",
                "given_name",
                "family_name",
                "date_of_birth__t AS date_of_birth",
                "postcode",
            )
            thresholds = linkage.Thresholds(
                min(linkage.DEFAULT_THRESHOLDS.lower, self.threshold), self.threshold
            )
            res = probabilistic_link(
                spark, records, self.identities, thresholds, progress=self.on_stage
            )
            links = res.links.selectExpr(
                f"record_id AS {ROW}", "person_id AS linked_id", "match_probability AS p"
            )
            ok = (
                ok.join(links, ROW, "left")
                .selectExpr(
                    *[
                        c
                        for c in ok.columns
                        if c not in ("person_id", "link_method", "match_probability")
                    ],
                    "coalesce(person_id, linked_id) AS person_id",
                    "CASE WHEN linked_id IS NOT NULL THEN 'probabilistic' ELSE link_method END "
                    "AS link_method",
                    "coalesce(p, match_probability) AS match_probability",
                )
                .cache()
            )
            n_links = res.links.count()
            stats.update(
                linked_probabilistic=n_links,
                candidate_pairs=res.candidate_pairs,
                model_trained=float(res.trained),
                model_em=float(res.em),
                comparisons_left_out=float(sum("left out" in n for n in res.notes)),
                postcodes_not_uk_shaped=res.postcodes_not_uk_shaped,
                estimated_precision=res.estimated_precision,
                estimated_recall=res.estimated_recall,
                review_pairs=res.review.count(),
            )
        linked = stats["linked_probabilistic"] + stats["linked_clerical_review"]
        stats["unlinked"] = total - det - linked
        stats["match_rate"] = (det + linked) / total if total else 0.0
        stats["identities_available"] = float(self.identities is not None)
        self.linkage = stats
        return ok


_ISSUE_COLS = ("file", "row", "column", "rule", "severity", "message", "value")


def spark_expr(sql: str) -> Any:
    """A Spark column from a Spark SQL expression."""
    from pyspark.sql import functions as F

    return F.expr(sql)


def _issue_rows(issues: list[Issue]) -> list[tuple[Any, ...]]:
    return [(i.file, i.row, i.column, i.rule, i.severity, i.message, i.value or "") for i in issues]


def _missing_opt_outs(
    results: list[FeedResult], found: dict[str, str], issues: list[Issue], no_opt_outs: bool
) -> str:
    """Why person-level feeds may not load ("" when they may): as the DuckDB ingest.

    The Spark run writes a new store, so there is never an earlier opt-out list.
    """
    import duckdb

    from bettercare.data.ingest.opt_outs import missing_reason

    con = duckdb.connect(":memory:")
    try:
        con.execute("CREATE TABLE ingest_log (feed VARCHAR)")
        return missing_reason(con, results, dict(found), issues, no_opt_outs)  # type: ignore[arg-type]
    finally:
        con.close()


def ingest(
    directory: str,
    store: str,
    key: bytes,
    *,
    progress: Progress | None = None,
    link_threshold: float = linkage.DEFAULT_THRESHOLD,
    no_opt_outs: bool = False,
    extract_period: tuple[dt.date, dt.date] | None = None,
    run_date: dt.date | None = None,
    identity_file: str | None = None,
    spark: Any = None,
) -> IngestResult:
    """Validate and load every feed file in ``directory`` into the Parquet store ``store``.

    Paths are anything Spark's file system reads (``/data/x``, ``hdfs://``, ``s3a://``,
    ``dbfs:/``). ``spark``: the session to use (default: :func:`.session.spark_session`).
    ``identity_file``: the restricted identity file (:mod:`bettercare.data.identities`,
    a DuckDB file the driver reads and writes: a local path), as the DuckDB ingest's: its
    people link social care when the residents feed is not part of this run, and a
    residents feed loaded in this run replaces theirs in it once the store is written.
    The result is the DuckDB ingest's :class:`IngestResult` (``report_path`` is None:
    the findings are the store's ``quarantine`` table).
    """
    start = dt.datetime.now()
    spark = spark or spark_session()
    directory, store = str(directory).rstrip("/"), str(store).rstrip("/")
    if not files.is_dir(spark, directory):
        raise UsageError(f"{directory} is not a directory")
    found, file_issues = files.discover(spark, directory)
    if not found and not file_issues:
        raise UsageError(f"{directory} holds no feed files ({', '.join(FEEDS)}; .csv/.parquet)")
    check = pseudonymise.key_check_value(key)
    held = files.key_check(spark, store)
    if held is not None and held != check:
        raise UsageError(
            f"store {store} was written with a different pseudonymisation key; refusing "
            "to mix pseudonyms (use the store's key, or a new store)"
        )
    if identity_file is not None:
        reason = identities.check_path(Path(identity_file), Path(store), Path(directory))
        if reason:
            raise UsageError(reason)
        try:
            identities.check_key(Path(identity_file), key)  # another key's file: unread
        except identities.IdentityFileError as exc:
            raise UsageError(str(exc)) from None
    run_id = uuid.uuid4().hex[:12]
    r = _Run(spark, key, run_id, run_date or dt.date.today(), extract_period, link_threshold)
    if identity_file is not None and feed_with("identity_source").name not in found:
        held = identities.read(Path(identity_file), key)
        if held is not None:
            r.identities = spark.createDataFrame(
                held.select(
                    ["person_id", "given_name", "family_name", "date_of_birth", "postcode"]
                ).to_pandas(),
                IDENTITY_SCHEMA,
            ).localCheckpoint()
            r.scan.set_identities(r.identities)
    try:
        order = [name for name in FEED_ORDER if name in found]
        blocked: str | None = None
        for i, name in enumerate(order):
            if progress:
                progress(name, i, len(order))
                r.on_stage = _stage_reporter(progress, name, i, len(order))
            feed, path = FEEDS[name], found[name]
            if feed.person_level and blocked is None:
                blocked = _missing_opt_outs(r.results, found, file_issues, no_opt_outs)
            if feed.person_level and blocked:
                result = FeedResult(name, files.basename(path), "rejected")
                rejected = [
                    Issue(files.basename(path), None, None, "opt_outs_unavailable", blocked)
                ]
            else:
                result, rejected = r.load(feed, path)
            r.results.append(result)
            file_issues += rejected
        if progress:
            progress("writing the store", len(order), len(order))
        _write_store(spark, store, r, check)
        if identity_file is not None and any(
            FEEDS[x.feed].identity_source and x.status == "loaded" for x in r.results
        ):  # after the store is in place, as the DuckDB ingest writes it after its commit
            identities.write(Path(identity_file), r.identities.toArrow(), key)
    finally:
        r.scan.close()
    if progress:
        progress("done", len(order), len(order))
    counts: dict[tuple[str, str, str], int] = {}
    for q in r.quarantine:
        for row in q.groupBy("file", "rule", "severity").agg({"row": "count"}).collect():
            counts[(row[0], row[1], row[2])] = int(row[3])
    seconds = (dt.datetime.now() - start).total_seconds()
    return IngestResult(run_id, r.results, file_issues, counts, r.linkage, None, seconds)


def _stage_reporter(progress: Progress, feed: str, done: int, total: int) -> Any:
    def report(stage: str) -> None:
        progress(f"{feed} (linkage: {stage})", done, total)

    return report


def _write_store(spark: Any, store: str, r: _Run, check: str) -> None:
    """Every table into ``<store>.partial-<run>``, then renamed into place."""
    tables: dict[str, Any] = {}
    for feed in FEEDS.values():
        if feed.store_table:
            loaded = r.tables.get(feed.store_table)
            empty = loaded is None
            tables[feed.store_table] = (
                spark.createDataFrame([], store_schema(feed)) if empty else loaded
            )
    quarantine = spark.createDataFrame([], AUX_SCHEMAS["quarantine"])
    for q in r.quarantine:
        quarantine = quarantine.unionByName(q)
    tables["quarantine"] = quarantine.select(
        *[c.split()[0] for c in AUX_SCHEMAS["quarantine"].split(", ")]
    )
    tables["ingest_log"] = spark.createDataFrame(r.log, AUX_SCHEMAS["ingest_log"])
    tables["opt_out_register"] = r.opt_outs
    tables["store_meta"] = spark.createDataFrame(
        [
            ("key_check", check),
            ("format", "parquet"),
            ("written_by", "bettercare ingest --backend spark"),
        ],
        AUX_SCHEMAS["store_meta"],
    )
    tables["linkage_report"] = spark.createDataFrame(
        [(r.run_id, k, float(v)) for k, v in r.linkage.items()], AUX_SCHEMAS["linkage_report"]
    )
    partial = f"{store}.partial-{r.run_id}"
    try:
        for name, frame in tables.items():
            frame.write.mode("errorifexists").parquet(f"{partial}/{name}")
        files.replace(spark, partial, store)
    finally:
        files.delete(spark, partial)
