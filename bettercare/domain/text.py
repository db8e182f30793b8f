"""Text from input files that is safe to show on a terminal.

A plan's names and descriptions end up on a terminal (``bettercare plan show``), in
findings and in reports. A control character in them (ESC starts a terminal escape
sequence that can recolour, retitle or rewrite what is shown) is refused where text
enters (:data:`CONTROL_CHARACTERS`), and anything echoed back from a bad file is made
visible first (:func:`printable`).
"""

from __future__ import annotations

import re

#: C0 and C1 control characters except tab and line feed (which a description may hold),
#: DEL, and the Unicode bidirectional overrides and isolates, which make text display in
#: another order than it is stored ("Trojan Source", CVE-2021-42574).
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def control_characters(text: str) -> list[str]:
    r"""The distinct control characters in ``text``, written as escapes (``\x1b``)."""
    return sorted({_escape(m.group()) for m in CONTROL_CHARACTERS.finditer(text)})


def printable(text: str) -> str:
    r"""``text`` with every control character replaced by its escape (ESC -> ``\x1b``)."""
    return CONTROL_CHARACTERS.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_EXCERPT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def excerpt(value: str | None, limit: int) -> str | None:
    """``value`` bounded for storage: control characters escaped, cut to ``limit`` chars.

    A cut is marked with the length of the whole, so an excerpt never passes for the
    whole. NUL (which PostgreSQL cannot store) is escaped like any control character.
    """
    if value is None:
        return None
    head = value[: limit * 2]  # escaping never looks further than this
    if _EXCERPT_CONTROL.search(head):
        head = _EXCERPT_CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", head)
    if len(head) <= limit and len(value) <= limit * 2:
        return head
    marker = f"…[cut: {len(value):,} chars]"
    return head[: max(0, limit - len(marker))] + marker
