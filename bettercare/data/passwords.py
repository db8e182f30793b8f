"""The password policy: a minimum length and no common password (the admin's checks).

What a password must be to be set: at least :data:`MIN_LENGTH` characters, not the
username, and not a common password: ``defaults/common_passwords.txt`` lists them (source cited
there); a password is common when, lower-cased and with trailing digits and symbols
removed (``Password1234!`` -> ``password``), it is on the list or is only digits.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIN_LENGTH = 12
_LIST = Path(__file__).parent / "defaults" / "common_passwords.txt"
_TAIL = re.compile(r"[\W\d_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The refused passwords (lower case)."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().lower() for s in lines if s.strip() and not s.startswith("#"))


def problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be set, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    lowered = password.lower()
    if username and lowered == username.lower():
        return "the password must not be the username"
    root = _TAIL.sub("", lowered)
    if lowered in common_passwords() or root in common_passwords() or not root.strip("0123456789"):
        return "that password is too common: choose another (a few unrelated words work well)"
    return None
