"""The ``bettercare`` command line (Typer + Rich).

Each command group lives in its own module ``bettercare.cli.<name>`` exposing
``register(app)``; add the module's name to :data:`COMMAND_MODULES`. Heavy libraries are
imported inside the command functions, so ``bettercare --version`` starts at once.

Exit codes (one table, :data:`EXIT_CODES`; a failure prints one ``error:`` line on
stderr, never a traceback):

====  ==========================================================================
0     success
1     a bettercare error of no more specific kind
2     bad input: a file, option or value breaks a rule (also Typer's usage errors)
3     not found: a plan, person, file or record that was asked for does not exist
4     conflict: the request clashes with the current state (stale save, workflow)
5     not permitted: the acting user or role may not do this
====  ==========================================================================
"""

from __future__ import annotations

import importlib
import os

import typer

from bettercare import __version__, logs
from bettercare.cli.common import fail
from bettercare.errors import BadInput, BettercareError, Conflict, NotFound, NotPermitted

app = typer.Typer(
    name="bettercare",
    help="Run a Better Care Fund: plans, linked data, metrics and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

COMMAND_MODULES: list[str] = [
    "plan",
    "demo",
    "ingest",
    "synth",
    "metrics",
    "returns",
    "serve",
    "db",
    "risk",
    "register",
    "model",
    "report",
    "figures",
]


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"bettercare {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Run a Better Care Fund: plans, linked data, metrics and reports."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"bettercare.cli.{_name}").register(app)


#: the kind of error -> the exit code (the most specific kind first)
EXIT_CODES: list[tuple[type[BettercareError], int]] = [
    (BadInput, 2),
    (NotFound, 3),
    (Conflict, 4),
    (NotPermitted, 5),
    (BettercareError, 1),
]


def exit_code(exc: BettercareError) -> int:
    """The exit code for ``exc``: its kind's in :data:`EXIT_CODES`."""
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def main(args: list[str] | None = None) -> None:
    """The command line, with any bettercare error a command lets through mapped once.

    Commands catch what they can explain better themselves; whatever they let through
    ends here as one ``error:`` line and the exit code of its kind.
    """
    try:
        app(args=args, standalone_mode=True)
    except BettercareError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        fail(first)
        raise SystemExit(exit_code(exc)) from None


def run() -> None:
    """Entry point: files this process creates are private to its user (0600/0700).

    Stores, reports and outputs can hold person-level data, so the default is closed;
    share a file on purpose with ``chmod``.
    """
    os.umask(0o077)
    logs.configure()
    main()
