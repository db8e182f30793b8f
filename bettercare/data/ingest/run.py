"""``ingest()``: every feed file of a directory into the store, in one transaction."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from bettercare.data import identities, linkage, pseudonymise
from bettercare.data.ingest import identifier_scan, opt_outs
from bettercare.data.ingest.feed import Run
from bettercare.data.ingest.read import Issue, discover
from bettercare.data.ingest.report import (
    ISSUE_COLS,
    REPORT_NAME,
    insert_issue,
    issue_counts,
    write_report,
)
from bettercare.data.ingest.results import FeedResult, IngestResult, Progress, UsageError
from bettercare.data.ingest.store import AUX_DDL, arrow, check_key, connect, temp_directory
from bettercare.data.schema import FEEDS, create_store_tables, feed_with

#: DuckDB's memory limit for an ingest unless told otherwise (``--memory-limit``), shared
#: by the store's connection and the linkage's (:func:`~.store.lend_memory`): a
#: 1,000,000-resident load peaks at about 1.7 GB of process memory with it
#: (benchmarks/README.md).
DEFAULT_MEMORY_LIMIT = "1GB"

FEED_ORDER = (
    "opt_outs",
    "residents",
    "population",
    "hospital_spells",
    "ae_attendances",
    "delayed_transfers",
    "reablement_episodes",
    "experience_responses",
    "scheme_activity",
    "social_care_services",
)


def _stage_reporter(progress: Progress, feed: str, done: int, total: int) -> Callable[[str], None]:
    """Report a linkage stage of ``feed`` through the feed-level ``progress``."""

    def report(stage: str) -> None:
        progress(f"{feed} (linkage: {stage})", done, total)

    return report


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
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    run_date: dt.date | None = None,
) -> IngestResult:
    """Validate and load every feed file in ``directory`` into the store (one transaction).

    ``identity_file``: the restricted identity file (:mod:`bettercare.data.identities`)
    used to link social care when the residents feed is not part of this run.
    ``replace``: accept a file that has fewer rows for a month than are loaded (or whose
    last row is cut short, or whose store table predates a required column: its old rows
    are replaced); without it such a file is rejected. ``no_opt_outs``: load
    person-level feeds into a store that has never had an opt-out list, without one.
    ``extract_period`` (first, last day): rows of a feed whose period date lies outside are
    quarantined. ``memory_limit``: DuckDB's (default :data:`DEFAULT_MEMORY_LIMIT`), shared
    by the store's connection and, while it runs, the linkage's
    (:func:`~bettercare.data.ingest.store.lend_memory`); beyond it DuckDB spills to the private
    temp directory :func:`temp_directory` (``None``: DuckDB's own default, 80% of RAM).
    ``run_date`` (default today): no event may be dated after it.
    """
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
        try:
            identities.check_key(identity_file, key)  # another key's file: refused, unread
        except identities.IdentityFileError as exc:
            raise UsageError(str(exc)) from None
    store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # private when created
    new_identities: pa.Table | None = None
    run = Run(
        uuid.uuid4().hex[:12],
        directory,
        key,
        link_threshold,
        replace=replace,
        extract_period=extract_period,
        run_date=run_date or dt.date.today(),
        temp_directory=temp_directory(store),
        memory_limit=memory_limit,
    )
    con = connect(store, memory_limit=memory_limit)
    tmp = temp_directory(store)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for ddl in AUX_DDL:
                con.execute(ddl)
            create_store_tables(con)
            check_key(con, key)
            pseudonymise.register_udf(con, key)
            con.execute(f"CREATE OR REPLACE TEMP TABLE run_issues ({ISSUE_COLS})")
            for issue in file_issues:
                insert_issue(con, issue)
            if identity_file is not None and feed_with("identity_source").name not in files:
                held = identities.read(identity_file, key)
                if held is not None:
                    con.complete()
                    con.register("held_identities", held)
                    con.execute(
                        "CREATE OR REPLACE TEMP TABLE identities AS SELECT * FROM held_identities"
                    )
                    con.complete()
                    con.unregister("held_identities")
                    identifier_scan.forget_identities(con)
                    run.has_identities = True
            order = [f for f in FEED_ORDER if f in files]
            blocked: str | None = None
            for i, name in enumerate(order):
                if progress:
                    progress(name, i, len(order))
                    run.on_stage = _stage_reporter(progress, name, i, len(order))
                feed, path = FEEDS[name], files[name]
                if feed.person_level and blocked is None:
                    blocked = opt_outs.missing_reason(
                        con, run.results, files, file_issues, no_opt_outs
                    )
                if feed.person_level and blocked:
                    result = FeedResult(name, path.name, "rejected")
                    rejected = [Issue(path.name, None, None, "opt_outs_unavailable", blocked)]
                else:
                    result, rejected = run.load_feed(con, feed, path)
                    # the file's text copy is gone: hand its memory back to the system
                    # (Arrow's allocator keeps freed memory for reuse otherwise)
                    pa.default_memory_pool().release_unused()
                run.results.append(result)
                for issue in rejected:
                    insert_issue(con, issue)
                file_issues += rejected
            if progress:
                progress("done", len(order), len(order))
            counts = issue_counts(con)
            report = write_report(con, store.parent / REPORT_NAME)
            if identity_file is not None and any(
                FEEDS[r.feed].identity_source and r.status == "loaded" for r in run.results
            ):
                new_identities = arrow(con, "SELECT * FROM identities")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if new_identities is not None and identity_file is not None:
        identities.write(identity_file, new_identities, key)
    seconds = (dt.datetime.now() - start).total_seconds()
    return IngestResult(run.run_id, run.results, file_issues, counts, run.linkage, report, seconds)
