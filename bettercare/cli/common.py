"""Helpers shared by the CLI commands: the one-line ``error:`` failure (exit code 2).

Bad input ends a command with one ``error:`` line on stderr naming what is wrong and
exit code 2, never a traceback (the project's rule for bad input).
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.markup import escape

from bettercare.domain.text import printable

EXIT_ERROR = 2
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print ``error: <message>`` on stderr; return the exit (code 2) for the caller to raise.

    Control characters (from file names or file content quoted in the message) are shown
    as escapes, so a message cannot move the cursor or recolour the terminal.
    """
    err.print(
        f"[red]error:[/red] {escape(printable(message))}",
        highlight=False,
        soft_wrap=True,
        emoji=False,  # ":x:" in a quoted value stays as typed
    )
    return typer.Exit(EXIT_ERROR)


def shown(value: object) -> str:
    """User data as Rich may print it: markup and control characters escaped.

    A plan's text (``[link=...]`` in a name) cannot make a live link, recolour or move
    the cursor.
    """
    return escape(printable("" if value is None else str(value)))


def parse_date(value: str, option: str) -> dt.date:
    """``value`` (YYYY-MM-DD) as a date, or fail naming ``option`` and the value."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} '{value}' is not a date (YYYY-MM-DD)") from None
