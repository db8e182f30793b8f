"""The national data opt-out list, applied first.

Person-level feeds load only once it is; an unreadable entry rejects the list; opted-out
people are purged.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from bettercare.data.ingest.read import FileRejected, Issue
from bettercare.data.ingest.results import FeedResult
from bettercare.data.ingest.store import count
from bettercare.data.national import feed_of_file
from bettercare.data.schema import FEEDS, feed_with


def missing_reason(
    con: duckdb.DuckDBPyConnection,
    results: list[FeedResult],
    files: dict[str, Path],
    file_issues: list[Issue],
    no_opt_outs: bool,
) -> str:
    """Why person-level feeds may not load in this run ("" when they may).

    The national data opt-out list must be applied first. Its file was rejected, or
    there is none and the store has never had one (unless ``no_opt_outs``).
    """
    opt_outs = feed_with("opt_out_list").name
    loaded = next((r for r in results if r.feed == opt_outs), None)
    if loaded is not None:
        if loaded.status == "loaded":
            return ""
        return (
            f"not loaded: the opt-out list {loaded.file} was rejected, so opted-out people "
            "could not be excluded; fix it and run again"
        )
    unusable = [i.file for i in file_issues if feed_of_file(Path(i.file).stem) == opt_outs]
    if unusable:
        return (
            f"not loaded: the opt-out list ({unusable[0]}) could not be used, so opted-out "
            "people could not be excluded; fix it and run again"
        )
    if opt_outs in files:
        return ""
    had = count(con, "SELECT count(*) FROM ingest_log WHERE feed = ?", [opt_outs])
    if had or no_opt_outs:
        return ""
    return (
        "not loaded: this store has never had an opt-out list; add opt_outs.csv (the "
        "national data opt-out list, may be empty) to the directory, or pass --no-opt-outs"
    )


def check_list(con: duckdb.DuckDBPyConnection, iss: str, name: str) -> None:
    """Reject the whole opt-out list when an entry is not a valid NHS number.

    The list is all or nothing: such an entry is a person whose opt-out cannot be
    applied, so the list is rejected (and with it the run's person-level feeds). A
    repeated entry is only a warning.
    """
    con.execute(f"UPDATE {iss} SET severity = 'warning' WHERE rule = 'duplicate_key'")
    bad = count(con, f"SELECT count(DISTINCT \"row\") FROM {iss} WHERE severity = 'error'")
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


def purge(con: duckdb.DuckDBPyConnection) -> None:
    """Delete every store row of a person on the opt-out register."""
    for feed in FEEDS.values():
        if feed.store_table and "nhs_number" in feed.column_names:
            con.execute(
                f"DELETE FROM {feed.store_table} WHERE person_id IN "
                "(SELECT person_id FROM opt_out_register)"
            )
