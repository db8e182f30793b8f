"""The ingest, key and linkage commands of the command line.

``bettercare ingest DIR``, ``bettercare key new PATH``, ``bettercare link report``,
``bettercare link review list|accept|reject`` (clerical review).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bettercare.cli.common import shown
from bettercare.errors import BadInput

if TYPE_CHECKING:
    from bettercare.data.ingest import IngestResult, Outcome

console = Console()
err = Console(stderr=True)

key_app = typer.Typer(help="Pseudonymisation keys.", no_args_is_help=True)
link_app = typer.Typer(help="Record linkage.", no_args_is_help=True)
review_app = typer.Typer(
    help="Clerical review of uncertain links: list the pairs, accept or reject them.",
    no_args_is_help=True,
)
link_app.add_typer(review_app, name="review")

INGEST_HELP = """Validate feed files in DIR and load them into the store (one transaction).

DIR holds <feed>.csv or <feed>.parquet files. NHS numbers become HMAC-SHA256 pseudonyms
(key from --key-file or $BETTERCARE_PSEUDONYM_KEY, never beside the data); people on the
opt-out list are excluded (the list must be in DIR, or already in the store, before any
person-level feed loads); social care records are linked to residents. Findings go to
the store's quarantine table and to ingest_report.csv beside the store.

Exit codes: 0 everything loaded; 1 loaded, some rows quarantined; 2 a file was rejected
whole (nothing of it loaded: unreadable, identifiers in the wrong column, fewer rows
than loaded, no opt-out list, ...) or a usage error; 3 internal error (store rolled
back)."""


#: The exit code of each way an ingest run can end (see INGEST_HELP).
EXIT_CODES: dict[Outcome, int] = {"loaded": 0, "quarantined": 1, "rejected": 2}


def register(root: typer.Typer) -> None:
    """Add ``ingest`` and the ``key`` and ``link`` command groups to the CLI."""
    root.command("ingest", help=INGEST_HELP)(ingest_command)
    root.add_typer(key_app, name="key")
    root.add_typer(link_app, name="link")


def ingest_command(
    directory: Path = typer.Argument(..., help="Directory holding the feed files."),
    store: Path = typer.Option(Path("data/store.duckdb"), "--store", help="DuckDB store file."),
    key_file: Path | None = typer.Option(
        None, "--key-file", help="Pseudonymisation key file (else the env var)."
    ),
    identity_file: Path | None = typer.Option(
        None,
        "--identities",
        help="Restricted identity file (names, DOB, postcode by pseudonym) kept for linking "
        "later social care extracts; never the store, never in DIR.",
    ),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Accept files that leave fewer rows for a month than are loaded, whose last "
        "row is cut short, or whose store table predates a required column (its old rows "
        "are replaced); otherwise such a file is rejected.",
    ),
    no_opt_outs: bool = typer.Option(
        False,
        "--no-opt-outs",
        help="Load person-level feeds into a store that has never had an opt-out list, "
        "without one (otherwise refused).",
    ),
    extract_period: str | None = typer.Option(
        None,
        "--extract-period",
        help="FIRST..LAST (YYYY-MM-DD): the period the extracts cover; rows dated outside "
        "are quarantined.",
    ),
    memory_limit: str = typer.Option(
        "1GB",
        "--memory-limit",
        help="DuckDB memory limit of the ingest, shared by the store and the linkage, e.g. "
        "2GB (spills beyond it to a private directory beside the store).",
    ),
    backend: str = typer.Option(
        "duckdb",
        "--backend",
        help="duckdb (a DuckDB store file) or spark (a Parquet store directory, written by "
        "Spark: local, or the cluster BETTERCARE_SPARK_MASTER names; docs/spark.md).",
    ),
) -> None:
    """Ingest the feed files in DIRECTORY into the store (see ``INGEST_HELP``)."""
    from bettercare.data import pseudonymise
    from bettercare.data.ingest import UsageError, ingest
    from bettercare.errors import BettercareError

    if backend not in ("duckdb", "spark"):
        err.print(f"[red]error:[/] --backend {shown(backend)}: expected duckdb or spark")
        raise typer.Exit(2)
    try:
        key = pseudonymise.load_key(key_file, [directory, store.parent])
    except pseudonymise.PseudonymKeyError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    period = None
    if extract_period is not None:
        try:
            first, last = (dt.date.fromisoformat(p.strip()) for p in extract_period.split(".."))
        except ValueError:
            err.print(f"[red]error:[/] --extract-period {extract_period!r}: expected FIRST..LAST")
            raise typer.Exit(2) from None
        period = (first, last)
    if identity_file is not None:
        _bind_identity_file(identity_file, key, store, directory, local=backend == "duckdb")
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} feeds"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("ingest", total=None)

            def progress(feed: str, done: int, total: int) -> None:
                bar.update(task, description=f"loading {feed}", completed=done, total=total)

            if backend == "spark":
                from bettercare.data.spark_ingest import ingest as ingest_on_spark
                from bettercare.data.spark_ingest.session import require_spark

                require_spark()
                result = ingest_on_spark(
                    str(directory),
                    str(store),
                    key,
                    progress=progress,
                    no_opt_outs=no_opt_outs,
                    extract_period=period,
                    identity_file=None if identity_file is None else str(identity_file),
                )
            else:
                result = ingest(
                    directory,
                    store,
                    key,
                    progress=progress,
                    identity_file=identity_file,
                    replace=replace,
                    no_opt_outs=no_opt_outs,
                    extract_period=period,
                    memory_limit=memory_limit,
                )
    except (UsageError, BettercareError) as exc:
        err.print(f"[red]error:[/] {shown(exc)}")
        raise typer.Exit(2) from None
    except Exception as exc:
        import duckdb  # loaded by the ingest by now; not at the CLI's start

        if isinstance(exc, duckdb.OutOfMemoryException):
            limit = memory_limit or "DuckDB's default (80% of RAM)"
            err.print(
                f"[red]error:[/] out of memory within the memory limit ({limit}); the store "
                "is left unchanged (rolled back). Raise --memory-limit (e.g. 4GB) or ingest "
                f"fewer rows at a time. DuckDB said: {shown(str(exc).splitlines()[0])}"
            )
            raise typer.Exit(3) from None
        err.print(f"[red]internal error, store left unchanged (rolled back):[/] {shown(repr(exc))}")
        if os.environ.get("BETTERCARE_DEBUG"):
            raise
        raise typer.Exit(3) from None
    _print_result(result)
    raise typer.Exit(EXIT_CODES[result.outcome])


def _bind_identity_file(
    path: Path, key: bytes, store: Path, directory: Path, *, local: bool = True
) -> None:
    """Refuse an identity file made with another key before anything is written (exit 2).

    A new one is created stamped with the key's check value. ``local``: the feed
    directory is on this machine (not so on Spark: it may be on HDFS or S3).
    """
    from bettercare.data import identities

    reason = identities.check_path(path, store, directory)
    if reason is None and local and not directory.is_dir():
        reason = f"{directory} is not a directory"
    try:
        if reason is None:
            identities.bind_key(path, key)
    except identities.IdentityFileError as exc:
        reason = str(exc)
    if reason is not None:
        err.print(f"[red]error:[/] {escape(reason)}", soft_wrap=True)
        raise typer.Exit(2)


def _print_result(result: IngestResult) -> None:
    table = Table(
        title=f"Ingest run {result.run_id} ({result.seconds:.1f} s)", box=box.SIMPLE, pad_edge=False
    )
    numbers = ("read", "loaded", "quarant.", "opt-out", "warn.")
    for col in ("feed", *numbers, "months"):
        table.add_column(
            col,
            justify="right" if col in numbers else "left",
            no_wrap=col != "months",
            overflow="fold",
        )
    for f in result.feeds:
        months = f"{f.periods[0]}..{f.periods[-1]}" if f.periods else ""
        if f.status == "rejected":
            months = "REJECTED"
        style = "red" if f.status == "rejected" else ("yellow" if f.rows_quarantined else "")
        counts = (f.rows_read, f.rows_loaded, f.rows_quarantined, f.rows_opted_out, f.warnings)
        table.add_row(f.feed, *(f"{n:,}" for n in counts), months, style=style)
    console.print(table)
    for issue in result.file_issues:
        console.print(
            f"[red]rejected[/] {shown(issue.file)}: {shown(issue.rule)}: {shown(issue.message)}"
        )
    if result.issue_counts:
        rules = Table(title="Findings by rule (rows)")
        for col in ("file", "rule", "severity", "rows"):
            rules.add_column(col)
        for (file, rule, sev), n in result.issue_counts.items():
            rules.add_row(shown(file), shown(rule), shown(sev), str(n))
        console.print(rules)
    if result.linkage:
        _print_linkage(result.linkage)
    if result.report_path:
        console.print(f"report: {shown(result.report_path)}")


def _print_linkage(stats: dict[str, float]) -> None:
    table = Table(title="Social care linkage")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in stats.items():
        shown = (
            f"{value:.4f}"
            if isinstance(value, float) and not value.is_integer()
            else f"{int(value)}"
        )
        table.add_row(name, shown)
    console.print(table)


@key_app.command("new")
def key_new(path: Path = typer.Argument(..., help="Where to write the new key file.")) -> None:
    """Create a random key file (mode 0600). Keep it away from the data directories."""
    from bettercare.data import pseudonymise

    try:
        pseudonymise.new_key_file(path)
    except pseudonymise.PseudonymKeyError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"wrote {shown(path)} (mode 0600)")


@link_app.command("report")
def link_report(
    store: Path = typer.Option(Path("data/store.duckdb"), "--store", help="DuckDB store file."),
) -> None:
    """Linkage quality of the most recent load of the social care feed."""
    import duckdb

    from bettercare.data import duck
    from bettercare.data.ingest import latest_linkage_report

    if not store.is_file():
        err.print(f"[red]error:[/] {shown(store)} not found")
        raise typer.Exit(2)
    try:
        duck.check_file(store)  # a SQLite or text file: one line, never an extension download
        stats = latest_linkage_report(store)
    except (duck.DatabaseFileError, duckdb.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        message = escape(f"cannot read the store {store}: {first}")
        err.print(f"[red]error:[/] {message}", soft_wrap=True)
        raise typer.Exit(2) from None
    if not stats:
        err.print("no social care load recorded in this store")
        raise typer.Exit(1)
    _print_linkage(stats)


STORE_OPTION = typer.Option(Path("data/store.duckdb"), "--store", help="DuckDB store file.")


@review_app.command("list")
def review_list(store: Path = STORE_OPTION) -> None:
    """Print the pairs awaiting review, without names, dates or postcodes.

    Each pair: pseudonymised resident, one service_id of the record, the match
    probability and the agreement of each comparison.
    """
    from bettercare.data import link_review

    try:
        rows = link_review.review_list(store)
    except link_review.ReviewError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if not rows:
        console.print("no pairs awaiting review")
        return
    table = Table(title=f"Linkage review ({len(rows)} pairs)", box=box.SIMPLE)
    for col in link_review.REVIEW_COLUMNS:
        table.add_column(col, overflow="fold")
    for row in rows:
        shown = {**row, "person_id": f"{str(row['person_id'])[:12]}…"}  # a pseudonym
        table.add_row(
            *(
                f"{v:.4f}" if isinstance(v, float) else ("" if v is None else str(v))
                for v in shown.values()
            )
        )
    # a wide table: never squeezed to an ellipsis on a narrow (or no) terminal
    Console(width=max(console.width, 200)).print(table)


def _decide(
    decision: str,
    pair_ids: list[str],
    decisions_csv: Path | None,
    store: Path,
    key_file: Path | None,
) -> None:
    from bettercare.data import link_review, pseudonymise

    try:
        key = pseudonymise.load_key(key_file, [store.parent])
        chosen = [link_review.Decision(p, decision) for p in pair_ids]
        if decisions_csv is not None:
            chosen += link_review.read_decisions_csv(decisions_csv)
        if not chosen:
            raise link_review.ReviewError("give PAIR_ID(s) or --decisions FILE")
        n = link_review.decide(store, key, chosen)
    except BadInput as exc:  # ReviewError, PseudonymKeyError
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"recorded {n} decision(s); applied on the next load of social care")


PAIRS_ARG = typer.Argument(None, help="pair_id(s) from `link review list`.")
CSV_OPTION = typer.Option(
    None, "--decisions", help="CSV of decisions: columns pair_id, decision (accept|reject)."
)
KEY_OPTION = typer.Option(None, "--key-file", help="The store's key file (else the env var).")


@review_app.command("accept")
def review_accept(
    pair_ids: list[str] | None = PAIRS_ARG,
    decisions: Path | None = CSV_OPTION,
    store: Path = STORE_OPTION,
    key_file: Path | None = KEY_OPTION,
) -> None:
    """Accept pairs (always linked from the next load on).

    With --decisions, record the CSV's accept and reject rows as well.
    """
    _decide("accept", pair_ids or [], decisions, store, key_file)


@review_app.command("reject")
def review_reject(
    pair_ids: list[str] | None = PAIRS_ARG,
    decisions: Path | None = CSV_OPTION,
    store: Path = STORE_OPTION,
    key_file: Path | None = KEY_OPTION,
) -> None:
    """Reject pairs (never linked again); with --decisions, record the CSV's rows too."""
    _decide("reject", pair_ids or [], decisions, store, key_file)
