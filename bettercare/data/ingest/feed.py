"""One feed file through the ingest steps, in order.

Read, identifiers by value, rules, pseudonyms, opt-outs, linkage, plausibility, nothing
lost, load, findings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bettercare.data.feed_files import refuse_truncated
from bettercare.data.ingest import identifier_scan, link, load, opt_outs, plausibility
from bettercare.data.ingest.read import ROW, FileRejected, Issue, read_feed, sha256
from bettercare.data.ingest.results import FeedResult
from bettercare.data.ingest.rules import NHS, NHS_OK, row_issues_sql, staging_sql
from bettercare.data.ingest.store import count
from bettercare.data.national import national_stem
from bettercare.data.schema import FeedSpec


@dataclass
class Run:
    """The state of one ingest run, shared by its feeds."""

    run_id: str
    directory: Path
    key: bytes
    link_threshold: float
    results: list[FeedResult] = field(default_factory=list)
    linkage: dict[str, float] = field(default_factory=dict)
    has_identities: bool = False
    replace: bool = False
    extract_period: tuple[dt.date, dt.date] | None = None
    run_date: dt.date = field(default_factory=dt.date.today)
    temp_directory: Path = Path(".tmp")  # the run's private spill directory
    memory_limit: str | None = None  # DuckDB's, shared by the store and the linkage
    on_stage: Callable[[str], None] | None = None  # told each linkage stage as it starts

    def load_feed(
        self, con: duckdb.DuckDBPyConnection, feed: FeedSpec, path: Path
    ) -> tuple[FeedResult, list[Issue]]:
        """Load one file.

        A file-level problem returns it as rejected with its issues (nothing of it
        written to the store).
        """
        name = path.name
        stg, iss, ok = f"stg_{feed.name}", f"iss_{feed.name}", f"ok_{feed.name}"
        try:
            table, parse_issues = read_feed(path, feed)
            if not self.replace:
                refuse_truncated(name, parse_issues, " (--replace to load the rest anyway)")
            con.complete()
            con.register("raw_feed", table)
            try:
                identifier_scan.refuse_duckdb_file(con, "raw_feed", name, feed)
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {stg} AS {staging_sql(feed, 'raw_feed')}"
                )
            finally:
                with contextlib.suppress(duckdb.Error):  # keep the first error, if any
                    con.complete()
                    con.unregister("raw_feed")
            del table
            outcome = self._load_staged(con, feed, path, parse_issues)
        except FileRejected as exc:
            outcome = FeedResult(feed.name, name, "rejected"), exc.issues
            if feed.links_probabilistically:
                self.linkage = {}  # nothing of the file was linked into the store
        for tbl in (stg, iss, ok):  # (an exception aborts the transaction: no drop needed)
            con.execute(f"DROP TABLE IF EXISTS {tbl}")
        return outcome

    def _load_staged(
        self, con: duckdb.DuckDBPyConnection, feed: FeedSpec, path: Path, parse_issues: list[Issue]
    ) -> tuple[FeedResult, list[Issue]]:
        name = path.name
        stg, iss, ok = f"stg_{feed.name}", f"iss_{feed.name}", f"ok_{feed.name}"
        load.check_store_current(con, feed, name, self.replace)
        rules = row_issues_sql(
            feed, stg, name, run_date=self.run_date, extract_period=self.extract_period
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {iss} AS {rules}")
        for issue in parse_issues:
            con.execute(
                f"INSERT INTO {iss} VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    name,
                    issue.row,
                    issue.column,
                    issue.rule,
                    issue.severity,
                    issue.message,
                    issue.value,
                ],
            )
        if feed.period_column and feed.store_table:
            load.store_key_conflicts(con, feed, stg, iss, name)
        if feed.opt_out_list:
            opt_outs.check_list(con, iss, name)

        has_nhs = "nhs_number" in feed.column_names
        pid = f", CASE WHEN {NHS_OK} THEN bc_pseudonym({NHS}) END AS person_id" if has_nhs else ""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {ok} AS SELECT *{pid} FROM {stg} "
            f"WHERE {ROW} NOT IN (SELECT \"row\" FROM {iss} WHERE severity = 'error' "
            f'AND "row" IS NOT NULL)'
        )
        # rows left out while reading (a warning's row is in the staging table)
        left_out = {i.row for i in parse_issues if i.severity == "error"}
        rows_read = count(con, f"SELECT count(*) FROM {stg}") + len(left_out)

        opted_out = 0
        link_stats: dict[str, float] = {}
        if feed.opt_out_list:
            con.execute(
                "INSERT OR IGNORE INTO opt_out_register "
                f"SELECT DISTINCT person_id FROM {ok} WHERE person_id IS NOT NULL"
            )
            con.execute(  # a repeated entry (a warning here) still opts the person out
                "INSERT OR IGNORE INTO opt_out_register "
                f"SELECT DISTINCT bc_pseudonym({NHS}) FROM {stg} WHERE {NHS_OK}"
            )
            opt_outs.purge(con)
            months: list[str] = []
            loaded = count(con, f"SELECT count(*) FROM {ok}")
        else:
            if feed.links_probabilistically:
                self._link(con, ok)
                link_stats = self.linkage
            if has_nhs:
                opted_out = count(
                    con,
                    f"SELECT count(*) FROM {ok} WHERE person_id IN "
                    "(SELECT person_id FROM opt_out_register)",
                )
                con.execute(
                    f"DELETE FROM {ok} WHERE person_id IN (SELECT person_id FROM opt_out_register)"
                )
                if feed.period_column:
                    plausibility.quarantine_outside_life(con, feed, ok, iss, name)
            # the months the file covers: those of its rows that load (a quarantined row
            # never causes earlier loaded data to be deleted)
            months = load.months(con, feed, ok)
            if not self.replace:
                load.check_nothing_lost(con, feed, ok, months, name)
            if feed.identity_source:
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE identities AS SELECT person_id, given_name, "
                    "family_name, date_of_birth__t AS date_of_birth, postcode "
                    f"FROM {ok} WHERE person_id IS NOT NULL"
                )
                identifier_scan.forget_identities(con)
                self.has_identities = True
            loaded = load.replace_rows(con, feed, ok, months)
            for metric, value in link_stats.items():
                con.execute(
                    "INSERT INTO linkage_report VALUES (?, ?, ?)",
                    [self.run_id, metric, float(value)],
                )
        quarantined = count(
            con, f"SELECT count(DISTINCT \"row\") FROM {iss} WHERE severity = 'error'"
        )

        warnings = count(con, f"SELECT count(*) FROM {iss} WHERE severity = 'warning'")
        stem = national_stem(name, feed.name)
        if stem:
            from bettercare.data.national.convert import name_national_fields

            name_national_fields(con, iss, stem)  # findings name the file's own fields
        digest = sha256(path)
        # re-loading the same file replaces its findings; other files' findings stay
        con.execute("DELETE FROM quarantine WHERE feed = ? AND sha256 = ?", [feed.name, digest])
        con.execute(
            f"INSERT INTO quarantine SELECT '{self.run_id}', '{feed.name}', file, "
            f"'{digest}', * EXCLUDE (file) FROM {iss}"
        )
        con.execute(f"INSERT INTO run_issues SELECT * FROM {iss}")
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [
                self.run_id,
                feed.name,
                name,
                digest,
                ",".join(months),
                rows_read,
                loaded,
                quarantined,
                opted_out,
            ],
        )
        return FeedResult(
            feed.name, name, "loaded", rows_read, loaded, quarantined, opted_out, warnings, months
        ), []

    def _link(self, con: duckdb.DuckDBPyConnection, ok: str) -> None:
        self.linkage = link.link_social_care(
            con,
            ok,
            has_identities=self.has_identities,
            threshold=self.link_threshold,
            directory=self.directory,
            key=self.key,
            temp_directory=self.temp_directory,
            run_id=self.run_id,
            memory_limit=self.memory_limit,
            progress=self.on_stage,
        )
