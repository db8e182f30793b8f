"""The one exception base of bettercare, and its few kinds.

Every exception bettercare raises derives from :class:`BettercareError`. Callers catch
the kind they can act on; the CLI maps the kinds to exit codes once (``cli/main.py``) and
the web app maps them to HTTP answers once (``app/main.py``).
"""

from __future__ import annotations


class BettercareError(Exception):
    """Base of every bettercare exception."""


class BadInput(BettercareError, ValueError):
    """A file, form, option or value supplied by a user breaks a rule.

    Subclasses ``ValueError`` too, so code that validates with the standard library's
    idiom keeps working.
    """


class NotFound(BettercareError, LookupError):
    """A plan, person, file or record that was asked for does not exist."""


class Conflict(BettercareError):
    """The request clashes with the current state.

    A stale save, a duplicate, or a step the workflow does not allow from here.
    """


class NotPermitted(BettercareError):
    """The acting user or role may not do this."""
