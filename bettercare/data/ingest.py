"""``bettercare ingest DIR``: load feed files into the DuckDB store in one transaction.

For each recognised feed file (``<feed>.csv`` / ``<feed>.parquet``, see
:func:`bettercare.data.validate.discover`), in the order of :data:`FEED_ORDER` (the
opt-out list first):

1. read it as text (file-level problems reject the file, nothing of it loads; a Parquet
   column of an unexpected type, a CSV whose last row is cut short without
   ``replace``, too);
2. check by value which columns hold NHS numbers, names or postcodes
   (:mod:`bettercare.data.identifier_scan`): identifiers where the feed declares none, or
   a declared identifier column holding something else, reject the file (fail closed);
3. stage it in a TEMP table (memory, or DuckDB's spill directory :func:`temp_directory`,
   private and removed at start and end; never the store file), apply the row rules
   (including plausible dates); rows with an *error* are quarantined, the rest load;
4. replace NHS numbers by keyed pseudonyms (``person_id``), drop identifier columns;
5. drop rows of people on the opt-out register (``opt_outs`` feed, kept in the store only
   as pseudonyms in ``opt_out_register``; new opt-outs also purge earlier loaded rows).
   Person-level feeds do not load at all when the opt-out file of the run was rejected,
   or there is none and the store has never had one (unless ``no_opt_outs``);
6. social care: link (:mod:`bettercare.data.linkage`) against the identities of the
   residents feed of the same run (they exist only in the TEMP staging tables), or else
   against the restricted identity file (``--identities``, :mod:`.identities`);
7. quarantine events before the person's birth or after their death (residents table);
8. replace the store rows the file covers: for feeds with a period column every row in
   the months of the file's valid rows (a file with fewer rows for a month than are
   loaded is rejected unless ``replace``), otherwise the rows with the same key
   (idempotent);
9. record the load in ``ingest_log`` and the row findings in ``quarantine`` (masked
   values; keyed by the file's SHA-256 so a re-load replaces them). File-level
   rejections are in the report and the command's output; a rejected file writes
   nothing to the store.

Everything happens in one DuckDB transaction: any exception rolls the store back to
exactly what it was. Findings are also written to ``ingest_report.csv`` beside the store.

Exit codes: 0 everything loaded; 1 loaded, some rows quarantined; 2 a file was rejected
whole or a usage error (no key, key mismatch, missing directory, not a DuckDB store):
nothing of it loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bettercare.data import identifier_scan, identities, linkage, pseudonymise
from bettercare.data.schema import FEEDS, FeedSpec, create_store_tables, store_columns
from bettercare.data.validate import (
    NHS,
    NHS_OK,
    ROW,
    TRUNCATED,
    FileRejected,
    Issue,
    discover,
    display,
    read_feed,
    row_issues_sql,
    sha256,
    staging_sql,
    t,
)

FEED_ORDER = (
    "opt_outs",
    "residents",
    "population",
    "hospital_spells",
    "delayed_transfers",
    "reablement_episodes",
    "experience_responses",
    "scheme_activity",
    "social_care_services",
)
REPORT_NAME = "ingest_report.csv"
TRUTH_FILE = Path("_truth") / "social_care_person.parquet"

AUX_DDL = (
    """CREATE TABLE IF NOT EXISTS ingest_log (
      run_id VARCHAR, feed VARCHAR, file VARCHAR, sha256 VARCHAR, periods VARCHAR,
      rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_opted_out BIGINT,
      loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
      run_id VARCHAR, feed VARCHAR, file VARCHAR, sha256 VARCHAR, "row" BIGINT,
      "column" VARCHAR,
      rule VARCHAR, severity VARCHAR, message VARCHAR, value VARCHAR)""",
    "CREATE TABLE IF NOT EXISTS opt_out_register (person_id VARCHAR PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS store_meta (name VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS linkage_report (
      run_id VARCHAR, metric VARCHAR, value DOUBLE)""",
)
_ISSUE_COLS = (
    'file VARCHAR, "row" BIGINT, "column" VARCHAR, rule VARCHAR, severity VARCHAR, '
    "message VARCHAR, value VARCHAR"
)

Progress = Callable[[str, int, int], None]


class UsageError(Exception):
    """A problem with the command's inputs (exit code 2)."""


@dataclass
class FeedResult:
    feed: str
    file: str
    status: str  # loaded | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_opted_out: int = 0
    warnings: int = 0
    periods: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    run_id: str
    feeds: list[FeedResult]
    file_issues: list[Issue]
    issue_counts: dict[tuple[str, str, str], int]  # (file, rule, severity) -> rows
    linkage: dict[str, float]
    report_path: Path | None
    seconds: float

    @property
    def exit_code(self) -> int:
        if self.file_issues:
            return 2
        return 1 if any(f.rows_quarantined for f in self.feeds) else 0


def ingest(
    directory: Path,
    store: Path,
    key: bytes,
    *,
    progress: Progress | None = None,
    link_threshold: float = linkage.DEFAULT_THRESHOLD,
    identity_file: Path | None = None,
    replace: bool = False,
    no_opt_outs: bool = False,
    extract_period: tuple[dt.date, dt.date] | None = None,
    memory_limit: str | None = None,
    run_date: dt.date | None = None,
) -> IngestResult:
    """Validate and load every feed file in ``directory`` into the store (one transaction).

    ``identity_file``: the restricted identity file (:mod:`bettercare.data.identities`)
    used to link social care when the residents feed is not part of this run.
    ``replace``: accept a file that has fewer rows for a month than are loaded (or whose
    last row is cut short); without it such a file is rejected. ``no_opt_outs``: load
    person-level feeds into a store that has never had an opt-out list, without one.
    ``extract_period`` (first, last day): rows of a feed whose period date lies outside are
    quarantined. ``memory_limit``: DuckDB's (e.g. ``"1GB"``); beyond it DuckDB spills to
    the private temp directory :func:`temp_directory`. ``run_date`` (default today): no
    event may be dated after it."""
    start = dt.datetime.now()
    directory, store = Path(directory), Path(store)
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    files, file_issues = discover(directory)
    if not files and not file_issues:
        raise UsageError(f"{directory} holds no feed files ({', '.join(FEEDS)}; .csv/.parquet)")
    if identity_file is not None:
        reason = identities.check_path(identity_file, store, directory)
        if reason:
            raise UsageError(reason)
    store.parent.mkdir(parents=True, exist_ok=True)
    new_identities: pa.Table | None = None
    run = _Run(
        uuid.uuid4().hex[:12],
        directory,
        key,
        link_threshold,
        replace=replace,
        extract_period=extract_period,
        run_date=run_date or dt.date.today(),
    )
    con = connect(store, memory_limit=memory_limit)
    tmp = temp_directory(store)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for ddl in AUX_DDL:
                con.execute(ddl)
            create_store_tables(con)
            _check_key(con, key)
            pseudonymise.register_udf(con, key)
            con.execute(f"CREATE OR REPLACE TEMP TABLE run_issues ({_ISSUE_COLS})")
            for issue in file_issues:
                _insert_issue(con, issue)
            if identity_file is not None and "residents" not in files:
                held = identities.read(identity_file)
                if held is not None:
                    con.complete()
                    con.register("held_identities", held)
                    con.execute(
                        "CREATE OR REPLACE TEMP TABLE identities AS SELECT * FROM held_identities"
                    )
                    con.complete()
                    con.unregister("held_identities")
                    run.has_identities = True
            order = [f for f in FEED_ORDER if f in files]
            blocked: str | None = None
            for i, name in enumerate(order):
                if progress:
                    progress(name, i, len(order))
                feed, path = FEEDS[name], files[name]
                if _person_level(feed) and blocked is None:
                    blocked = _opt_outs_missing(con, run, files, file_issues, no_opt_outs)
                if _person_level(feed) and blocked:
                    result = FeedResult(name, path.name, "rejected")
                    rejected = [Issue(path.name, None, None, "opt_outs_unavailable", blocked)]
                else:
                    result, rejected = run.load_feed(con, feed, path)
                run.results.append(result)
                for issue in rejected:
                    _insert_issue(con, issue)
                file_issues += rejected
            if progress:
                progress("done", len(order), len(order))
            counts = _issue_counts(con)
            report = _write_report(con, store.parent / REPORT_NAME)
            if identity_file is not None and any(
                r.feed == "residents" and r.status == "loaded" for r in run.results
            ):
                new_identities = _arrow(con, "SELECT * FROM identities")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if new_identities is not None and identity_file is not None:
        identities.write(identity_file, new_identities)
    seconds = (dt.datetime.now() - start).total_seconds()
    return IngestResult(run.run_id, run.results, file_issues, counts, run.linkage, report, seconds)


def temp_directory(store: Path) -> Path:
    """DuckDB's spill directory for an ingest into ``store``: ``<store>.tmp/``, mode 0700,
    emptied when a run starts (a crashed run's leftovers) and removed when it ends."""
    return store.with_name(store.name + ".tmp")


def connect(store: Path, *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the store for an ingest: never downloads or loads an extension (a file that is
    not a DuckDB store is a one-line :class:`UsageError`), and spills only to the private
    :func:`temp_directory`, cleared of any earlier run's leftovers.

    The leftovers are removed only once the store is open: DuckDB's file lock means no
    other ingest is running (whose spill files they could be)."""
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if store.is_file() and store.stat().st_size:
        with open(store, "rb") as fh:
            head = fh.read(16)
        if head[8:12] != b"DUCK":  # the DuckDB file magic
            what = " (it is a SQLite database)" if head.startswith(b"SQLite format 3") else ""
            raise UsageError(f"{store} is not a DuckDB store{what}")
    try:
        con = duckdb.connect(str(store), config=config)
    except duckdb.Error as exc:  # locked by another process, not a DuckDB file, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot open the store {store}: {first}") from exc
    try:
        tmp = temp_directory(store)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        os.chmod(tmp, 0o700)  # whatever the umask
        con.execute(f"SET temp_directory = '{_sql_path(tmp)}'")
        if memory_limit:
            try:
                con.execute("SET memory_limit = ?", [memory_limit])
            except duckdb.Error as exc:
                raise UsageError(f"memory limit {memory_limit!r}: {exc}") from None
    except BaseException:
        con.close()
        raise
    return con


def _person_level(feed: FeedSpec) -> bool:
    return feed.name != "opt_outs" and "nhs_number" in feed.column_names


def _opt_outs_missing(
    con: duckdb.DuckDBPyConnection,
    run: _Run,
    files: dict[str, Path],
    file_issues: list[Issue],
    no_opt_outs: bool,
) -> str:
    """Why person-level feeds may not load in this run ("" when they may): the national
    data opt-out list must be applied first. Its file was rejected, or there is none and
    the store has never had one (unless ``no_opt_outs``)."""
    loaded = next((r for r in run.results if r.feed == "opt_outs"), None)
    if loaded is not None:
        if loaded.status == "loaded":
            return ""
        return (
            f"not loaded: the opt-out list {loaded.file} was rejected, so opted-out people "
            "could not be excluded; fix it and run again"
        )
    unusable = [i.file for i in file_issues if Path(i.file).stem == "opt_outs"]
    if unusable:
        return (
            f"not loaded: the opt-out list ({unusable[0]}) could not be used, so opted-out "
            "people could not be excluded; fix it and run again"
        )
    if "opt_outs" in files:
        return ""
    had = con.execute("SELECT count(*) FROM ingest_log WHERE feed = 'opt_outs'").fetchone()
    if (had and had[0]) or no_opt_outs:
        return ""
    return (
        "not loaded: this store has never had an opt-out list; add opt_outs.csv (the "
        "national data opt-out list, may be empty) to the directory, or pass --no-opt-outs"
    )


def _check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    kcv = pseudonymise.key_check_value(key)
    row = con.execute("SELECT value FROM store_meta WHERE name = 'key_check'").fetchone()
    if row is None:
        con.execute("INSERT INTO store_meta VALUES ('key_check', ?)", [kcv])
    elif row[0] != kcv:
        raise UsageError(
            "this store was loaded with a different pseudonymisation key; "
            "use the same key (pseudonyms would not match)"
        )


def _insert_issue(con: duckdb.DuckDBPyConnection, issue: Issue) -> None:
    con.execute(
        "INSERT INTO run_issues VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            issue.file,
            issue.row,
            issue.column,
            issue.rule,
            issue.severity,
            issue.message,
            issue.value,
        ],
    )


def _issue_counts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], int]:
    rows = con.execute(
        "SELECT file, rule, severity, count(*) FROM run_issues GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return {(f, r, s): n for f, r, s, n in rows}


def _write_report(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    sql = 'SELECT * FROM run_issues ORDER BY file, "row" NULLS FIRST, "column", rule'
    con.execute(f"COPY ({sql}) TO '{_sql_path(path)}' (HEADER, DELIMITER ',')")
    return path


def _birth_condition(con: duckdb.DuckDBPyConnection, event: str, monthly: bool) -> str:
    """SQL (over ``r``, the residents table) true when ``event`` precedes the birth, at the
    precision the residents table keeps; "" when it keeps no birth date."""
    cols = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE residents)").fetchall())
    if cols.get("date_of_birth") == "DATE":
        born = "date_trunc('month', r.date_of_birth)" if monthly else "r.date_of_birth"
        return f"{event} < {born}"
    for name, kind in cols.items():
        if "birth" not in name:
            continue
        if kind == "DATE":  # month of birth kept as a date
            return f"date_trunc('month', {event}) < date_trunc('month', r.{name})"
        if kind in ("INTEGER", "BIGINT", "SMALLINT") and "year" in name:
            return f"year({event}) < r.{name}"
    return ""


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    con.complete()  # DuckDB 2: finish any pending execute() result first
    return con.sql(sql).to_arrow_table()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


@dataclass
class _Run:
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

    def load_feed(
        self, con: duckdb.DuckDBPyConnection, feed: FeedSpec, path: Path
    ) -> tuple[FeedResult, list[Issue]]:
        """Load one file; a file-level problem returns it as rejected with its issues
        (nothing of it written to the store)."""
        name = path.name
        stg, iss, ok = f"stg_{feed.name}", f"iss_{feed.name}", f"ok_{feed.name}"
        try:
            table, parse_issues = read_feed(path, feed)
            truncated = [i for i in parse_issues if i.rule == TRUNCATED]
            if truncated and not self.replace:
                raise FileRejected(
                    [
                        Issue(
                            name,
                            truncated[0].row,
                            None,
                            TRUNCATED,
                            f"{name}: the last row (row {truncated[0].row}) is cut short: the "
                            "file looks truncated; nothing of it loaded (--replace to load "
                            "the rest anyway)",
                        )
                    ]
                )
            con.complete()
            con.register("raw_feed", table)
            try:
                found = identifier_scan.scan(con, "raw_feed", feed)
                if found:
                    raise FileRejected(
                        [
                            Issue(name, None, col, rule, f"{name}: {text}; nothing of it loaded")
                            for col, rule, text in found
                        ]
                    )
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
            if feed.name == "social_care_services":
                self.linkage = {}  # nothing of the file was linked into the store
        for tbl in (stg, iss, ok):  # (an exception aborts the transaction: no drop needed)
            con.execute(f"DROP TABLE IF EXISTS {tbl}")
        return outcome

    def _load_staged(
        self, con: duckdb.DuckDBPyConnection, feed: FeedSpec, path: Path, parse_issues: list[Issue]
    ) -> tuple[FeedResult, list[Issue]]:
        name = path.name
        stg, iss, ok = f"stg_{feed.name}", f"iss_{feed.name}", f"ok_{feed.name}"
        rules = row_issues_sql(
            feed, stg, name, run_date=self.run_date, extract_period=self.extract_period
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {iss} AS {rules}")
        for issue in parse_issues:
            con.execute(
                f"INSERT INTO {iss} VALUES (?, ?, ?, ?, ?, ?, ?)",
                [name, issue.row, None, issue.rule, issue.severity, issue.message, ""],
            )
        if feed.period_column and feed.store_table:
            self._store_key_conflicts(con, feed, stg, iss, name)
        if feed.name == "opt_outs":
            self._check_opt_out_list(con, iss, name)

        has_nhs = "nhs_number" in feed.column_names
        pid = f", CASE WHEN {NHS_OK} THEN bc_pseudonym({NHS}) END AS person_id" if has_nhs else ""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {ok} AS SELECT *{pid} FROM {stg} "
            f"WHERE {ROW} NOT IN (SELECT \"row\" FROM {iss} WHERE severity = 'error' "
            f'AND "row" IS NOT NULL)'
        )
        rows_read = con.execute(f"SELECT count(*) FROM {stg}").fetchone()[0] + len(parse_issues)

        opted_out = 0
        link_stats: dict[str, float] = {}
        if feed.name == "opt_outs":
            con.execute(
                "INSERT OR IGNORE INTO opt_out_register "
                f"SELECT DISTINCT person_id FROM {ok} WHERE person_id IS NOT NULL"
            )
            con.execute(  # a repeated entry (a warning here) still opts the person out
                "INSERT OR IGNORE INTO opt_out_register "
                f"SELECT DISTINCT bc_pseudonym({NHS}) FROM {stg} WHERE {NHS_OK}"
            )
            self._purge_opted_out(con)
            months: list[str] = []
            loaded = con.execute(f"SELECT count(*) FROM {ok}").fetchone()[0]
        else:
            if feed.name == "social_care_services":
                self._link(con, ok)
                link_stats = self.linkage
            if has_nhs:
                opted_out = con.execute(
                    f"SELECT count(*) FROM {ok} WHERE person_id IN "
                    "(SELECT person_id FROM opt_out_register)"
                ).fetchone()[0]
                con.execute(
                    f"DELETE FROM {ok} WHERE person_id IN (SELECT person_id FROM opt_out_register)"
                )
                if feed.period_column:
                    self._outside_life(con, feed, ok, iss, name)
            # the months the file covers: those of its rows that load (a quarantined row
            # never causes earlier loaded data to be deleted)
            months = self._months(con, feed, ok)
            self._check_nothing_lost(con, feed, ok, months, name)
            if feed.name == "residents":
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE identities AS SELECT person_id, given_name, "
                    "family_name, date_of_birth__t AS date_of_birth, postcode "
                    f"FROM {ok} WHERE person_id IS NOT NULL"
                )
                self.has_identities = True
            loaded = self._replace(con, feed, ok, months)
            for metric, value in link_stats.items():
                con.execute(
                    "INSERT INTO linkage_report VALUES (?, ?, ?)",
                    [self.run_id, metric, float(value)],
                )
        quarantined = con.execute(
            f"SELECT count(DISTINCT \"row\") FROM {iss} WHERE severity = 'error'"
        ).fetchone()[0]

        warnings = con.execute(f"SELECT count(*) FROM {iss} WHERE severity = 'warning'").fetchone()[
            0
        ]
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

    @staticmethod
    def _check_opt_out_list(con: duckdb.DuckDBPyConnection, iss: str, name: str) -> None:
        """The opt-out list is all or nothing: an entry that is not a valid NHS number is
        a person whose opt-out cannot be applied, so the list is rejected (and with it
        the run's person-level feeds). A repeated entry is only a warning."""
        con.execute(f"UPDATE {iss} SET severity = 'warning' WHERE rule = 'duplicate_key'")
        bad = con.execute(
            f"SELECT count(DISTINCT \"row\") FROM {iss} WHERE severity = 'error'"
        ).fetchone()[0]
        if bad:
            con.execute(f"INSERT INTO run_issues SELECT * FROM {iss}")
            raise FileRejected(
                [
                    Issue(
                        name,
                        None,
                        "nhs_number",
                        "opt_out_list_invalid",
                        f"{name}: {bad:,} entries of the opt-out list are not valid NHS "
                        "numbers (see the report); an opt-out that cannot be read cannot be "
                        "applied, so the list is rejected",
                    )
                ]
            )

    def _check_nothing_lost(
        self, con: duckdb.DuckDBPyConnection, feed: FeedSpec, ok: str, months: list[str], name: str
    ) -> None:
        """Reject the file (unless ``replace``) when it would leave fewer rows for a month
        than are loaded: a truncated or partial extract must not delete data silently.
        The file's row findings still go to the report (not the store)."""
        if self.replace or not feed.period_column or not months:
            return
        col = t(feed.column(feed.period_column))
        marks = ", ".join("?" for _ in months)
        rows = con.execute(
            f"""WITH before AS (
                  SELECT strftime({feed.period_column}, '%Y-%m') AS m, count(*) AS n
                  FROM {feed.store_table} GROUP BY 1),
                now AS (SELECT strftime({col}, '%Y-%m') AS m, count(*) AS n FROM {ok}
                  WHERE {col} IS NOT NULL GROUP BY 1)
                SELECT before.m, before.n, now.n FROM before JOIN now USING (m)
                WHERE before.m IN ({marks}) AND now.n < before.n ORDER BY 1""",
            months,
        ).fetchall()
        if not rows:
            return
        iss = f"iss_{feed.name}"
        con.execute(f"INSERT INTO run_issues SELECT * FROM {iss}")
        raise FileRejected(
            [
                Issue(
                    name,
                    None,
                    feed.period_column,
                    "fewer_rows_than_loaded",
                    f"{name}: {feed.name} {m}: {before:,} rows loaded, {now:,} in this file; "
                    f"loading it would remove {before - now:,}; nothing of it loaded "
                    "(--replace to accept)",
                    f"{m}: {before} -> {now}",
                )
                for m, before, now in rows
            ]
        )

    @staticmethod
    def _months(con: duckdb.DuckDBPyConnection, feed: FeedSpec, stg: str) -> list[str]:
        if not feed.period_column:
            return []
        col = t(feed.column(feed.period_column))
        rows = con.execute(
            f"SELECT DISTINCT strftime({col}, '%Y-%m') FROM {stg} "
            f"WHERE {col} IS NOT NULL ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows]

    @staticmethod
    def _store_key_conflicts(
        con: duckdb.DuckDBPyConnection, feed: FeedSpec, stg: str, iss: str, name: str
    ) -> None:
        """Keys already in the store for a month this file does not cover."""
        table, period = feed.store_table, feed.period_column
        on = " AND ".join(f"s.{t(feed.column(k))} = x.{k}" for k in feed.key)
        first = feed.key[0]
        shown = display(feed.column(first), f"s.{first}")
        con.execute(
            f"""INSERT INTO {iss}
            SELECT '{name}', s.{ROW}, '{first}', 'duplicate_key_in_store', 'error',
                   '{first} already loaded for ' || strftime(x.{period}, '%Y-%m') ||
                   ', a month this file does not cover', {shown}
            FROM {stg} s JOIN {table} x ON {on}
            WHERE strftime(x.{period}, '%Y-%m') NOT IN (
                SELECT DISTINCT strftime({t(feed.column(period))}, '%Y-%m') FROM {stg}
                WHERE {t(feed.column(period))} IS NOT NULL)"""
        )

    def _replace(
        self, con: duckdb.DuckDBPyConnection, feed: FeedSpec, ok: str, months: list[str]
    ) -> int:
        table = feed.store_table
        assert table is not None
        if feed.period_column:
            if months:
                marks = ", ".join("?" for _ in months)
                con.execute(
                    f"DELETE FROM {table} WHERE strftime({feed.period_column}, '%Y-%m') "
                    f"IN ({marks})",
                    months,
                )
        else:
            keys = ["person_id" if k == "nhs_number" else k for k in feed.key]
            src = [k if k == "person_id" else t(feed.column(k)) for k in keys]
            con.execute(
                f"DELETE FROM {table} WHERE ({', '.join(keys)}) IN "
                f"(SELECT ({', '.join(src)}) FROM {ok})"
            )
        cols = store_columns(feed)
        names = ", ".join(c.name for c in cols)
        exprs = ", ".join(
            c.name
            if c.name in ("person_id", "link_method", "match_probability")
            else t(feed.column(c.name))
            for c in cols
        )
        con.execute(f"INSERT INTO {table} ({names}) SELECT {exprs} FROM {ok} ORDER BY {ROW}")
        return con.execute(f"SELECT count(*) FROM {ok}").fetchone()[0]

    @staticmethod
    def _outside_life(
        con: duckdb.DuckDBPyConnection, feed: FeedSpec, ok: str, iss: str, name: str
    ) -> None:
        """Quarantine rows whose event date (the period column) is before the person's
        birth or after their death, as the store's residents table records them
        (``before_birth``, ``after_date_of_death``; issue 8). Monthly census rows count
        from the month of the date; the birth check works at the precision the residents
        table keeps (a full date, or the month / year of birth)."""
        period = feed.period_column
        assert period is not None
        col = t(feed.column(period))
        monthly = feed.name == "delayed_transfers"
        event = f"o.{col}"
        conditions: list[tuple[str, str, str]] = []
        death = "date_trunc('month', r.date_of_death)" if monthly else "r.date_of_death"
        conditions.append(
            (
                "after_date_of_death",
                f"r.date_of_death IS NOT NULL AND {event} > {death}",
                "is after the date of death in the residents feed",
            )
        )
        birth = _birth_condition(con, event, monthly)
        if birth:
            conditions.append(
                ("before_birth", birth, "is before the date of birth in the residents feed")
            )
        for rule, where, text in conditions:
            con.execute(
                f"""INSERT INTO {iss}
                SELECT '{name}', o.{ROW}, '{period}', '{rule}', 'error',
                       '{period} ' || strftime({event}, '%Y-%m-%d') || ' {text}',
                       left(o.{period}, 60)
                FROM {ok} o JOIN residents r ON o.person_id = r.person_id
                WHERE {where}"""
            )
        con.execute(
            f'DELETE FROM {ok} WHERE {ROW} IN (SELECT "row" FROM {iss} WHERE rule IN '
            "('after_date_of_death', 'before_birth'))"
        )

    @staticmethod
    def _purge_opted_out(con: duckdb.DuckDBPyConnection) -> None:
        for feed in FEEDS.values():
            if feed.store_table and "nhs_number" in feed.column_names:
                con.execute(
                    f"DELETE FROM {feed.store_table} WHERE person_id IN "
                    "(SELECT person_id FROM opt_out_register)"
                )

    def _link(self, con: duckdb.DuckDBPyConnection, ok: str) -> None:
        con.execute(f"ALTER TABLE {ok} ADD COLUMN link_method VARCHAR")
        con.execute(f"ALTER TABLE {ok} ADD COLUMN match_probability DOUBLE")
        con.execute(
            f"UPDATE {ok} SET link_method = 'nhs_number', match_probability = 1.0 "
            "WHERE person_id IS NOT NULL"
        )
        stats: dict[str, float] = {}
        total, det = con.execute(f"SELECT count(*), count(person_id) FROM {ok}").fetchone()
        stats["records"] = total
        stats["linked_nhs_number"] = det
        stats["needing_probabilistic"] = total - det
        if self.has_identities and total > det:
            records = _arrow(
                con,
                f"SELECT {ROW} AS record_id, given_name, family_name, "
                f"date_of_birth__t AS date_of_birth, postcode FROM {ok} "
                "WHERE person_id IS NULL",
            )
            people = _arrow(con, "SELECT * FROM identities")
            res = linkage.probabilistic_link(records, people, self.link_threshold)
            con.complete()
            con.register("prob_links", res.links)
            con.execute(
                f"UPDATE {ok} SET person_id = p.person_id, link_method = 'probabilistic', "
                f"match_probability = p.match_probability FROM prob_links p "
                f"WHERE {ok}.{ROW} = p.record_id"
            )
            con.complete()
            con.unregister("prob_links")
            stats["linked_probabilistic"] = res.links.num_rows
            stats["candidate_pairs"] = res.candidate_pairs
            stats["linkage_seconds"] = res.seconds
            stats["model_trained"] = float(res.trained)
        else:
            stats["linked_probabilistic"] = 0
        stats["unlinked"] = total - det - stats["linked_probabilistic"]
        stats["match_rate"] = (det + stats["linked_probabilistic"]) / total if total else 0.0
        stats["identities_available"] = float(self.has_identities)
        stats.update(self._truth_metrics(con, ok))
        self.linkage = stats  # written to linkage_report once the file is accepted

    def _truth_metrics(self, con: duckdb.DuckDBPyConnection, ok: str) -> dict[str, float]:
        """Precision / recall of probabilistic links against the generator's truth file
        (synthetic data only)."""
        path = self.directory / TRUTH_FILE
        if not path.is_file():
            return {}
        truth = pq.read_table(path, columns=["service_id", "nhs_number"])
        pids = pseudonymise.pseudonym_array(self.key, truth.column("nhs_number").cast(pa.string()))
        con.complete()
        con.register(
            "truth", pa.table({"service_id": truth.column("service_id"), "true_person_id": pids})
        )
        known = "(SELECT person_id FROM identities)" if self.has_identities else "(SELECT NULL)"
        tp, fp, fn_, n_det_wrong = con.execute(
            f"""SELECT
              count(*) FILTER (WHERE link_method = 'probabilistic'
                               AND o.person_id = tr.true_person_id),
              count(*) FILTER (WHERE link_method = 'probabilistic'
                               AND o.person_id IS DISTINCT FROM tr.true_person_id),
              count(*) FILTER (WHERE (link_method IS NULL OR (link_method = 'probabilistic'
                               AND o.person_id IS DISTINCT FROM tr.true_person_id))
                               AND tr.true_person_id IN {known}),
              count(*) FILTER (WHERE link_method = 'nhs_number'
                               AND o.person_id IS DISTINCT FROM tr.true_person_id)
            FROM {ok} o JOIN truth tr ON o.service_id = tr.service_id"""
        ).fetchone()
        con.complete()
        con.unregister("truth")
        return {
            "truth_true_positives": tp,
            "truth_false_positives": fp,
            "truth_false_negatives": fn_,
            "truth_precision": tp / (tp + fp) if tp + fp else 1.0,
            "truth_recall": tp / (tp + fn_) if tp + fn_ else 1.0,
            "truth_nhs_number_links_wrong": n_det_wrong,
        }


def latest_linkage_report(store: Path) -> dict[str, float]:
    """The linkage metrics of the most recent run that loaded social care."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            """SELECT metric, value FROM linkage_report WHERE run_id = (
                 SELECT run_id FROM ingest_log WHERE feed = 'social_care_services'
                 ORDER BY loaded_at DESC LIMIT 1)"""
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    finally:
        con.close()
    return dict(rows)
