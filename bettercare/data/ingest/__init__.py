"""``bettercare ingest DIR``: load feed files into the DuckDB store in one transaction.

For each recognised feed file (``<feed>.csv`` / ``<feed>.parquet``, see
:func:`.read.discover`), in the order of :data:`FEED_ORDER` (the opt-out list first),
:class:`.feed.Run` takes these steps (the module of each in brackets):

1. [read] read it as text (file-level problems reject the file, nothing of it loads; a
   Parquet column of an unexpected type, a CSV whose last row is cut short without
   ``replace``, too);
2. [identifiers] check by value which columns hold NHS numbers, names or postcodes:
   identifiers where the feed declares none, or a declared identifier column holding
   something else, reject the file (fail closed); [identifier_scan] so does one value,
   at any share, that equals an NHS number, postcode or name with date of birth of a
   person in the file, the run, the store or the identity file;
3. [rules] stage it in a TEMP table (memory, or DuckDB's spill directory
   :func:`.store.temp_directory`, private and removed at start and end; never the store
   file), apply the row rules (including plausible dates); rows with an *error* are
   quarantined, the rest load;
4. [feed] replace NHS numbers by keyed pseudonyms (``person_id``,
   :mod:`bettercare.data.pseudonymise`), drop identifier columns;
5. [opt_outs] drop rows of people on the opt-out register (``opt_outs`` feed, kept in
   the store only as pseudonyms in ``opt_out_register``; new opt-outs also purge
   earlier loaded rows). Person-level feeds do not load at all when the opt-out file of
   the run was rejected, or there is none and the store has never had one (unless
   ``no_opt_outs``);
6. [link] social care: link (:mod:`bettercare.data.linkage`) against the identities of
   the residents feed of the same run (they exist only in the TEMP staging tables), or
   else against the restricted identity file (``--identities``,
   :mod:`bettercare.data.identities`);
7. [plausibility] quarantine events before the person's birth or after their death
   (residents table);
8. [load] replace the store rows the file covers: for feeds with a period column every
   row in the months of the file's valid rows (a file with fewer rows for a month than
   are loaded is rejected unless ``replace``), otherwise the rows with the same key
   (idempotent);
9. [feed, report] record the load in ``ingest_log`` and the row findings in
   ``quarantine`` (masked values; keyed by the file's SHA-256 so a re-load replaces
   them). File-level rejections are in the report and the command's output; a rejected
   file writes nothing to the store.

[run] :func:`ingest` opens the store ([store]: no extensions, the private spill
directory, the key check) and runs the feeds; [results] is what it returns. Everything
happens in one DuckDB transaction: any exception rolls the store back to exactly what it
was. Findings are also written to ``ingest_report.csv`` beside the store.

:attr:`IngestResult.outcome` says how the run ended (loaded; quarantined: loaded, some
rows quarantined; rejected: a file was rejected whole); a :class:`UsageError` (no key, key
mismatch, missing directory, not a DuckDB store) loads nothing. The command line maps
these to exit codes (:mod:`bettercare.cli.ingest`).
"""

from __future__ import annotations

from bettercare.data.ingest.link import latest_linkage_report
from bettercare.data.ingest.report import REPORT_NAME
from bettercare.data.ingest.results import FeedResult, IngestResult, Outcome, UsageError
from bettercare.data.ingest.run import FEED_ORDER, ingest
from bettercare.data.ingest.store import connect, temp_directory

__all__ = [
    "FEED_ORDER",
    "REPORT_NAME",
    "FeedResult",
    "IngestResult",
    "Outcome",
    "UsageError",
    "connect",
    "ingest",
    "latest_linkage_report",
    "temp_directory",
]
