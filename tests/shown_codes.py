"""What people read of a page, and the raw codes in it (for "codes shown as words" tests)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bettercare.domain.labels import FAMILIES
from bettercare.domain.metrics import CATALOGUE

#: Every code of the known code families that a person could mistake for a word: the
#: snake_case ones (funding sources, states, outcomes, conditions, scheme types, ...)
KNOWN_CODES = sorted(
    {code for table in FAMILIES.values() for code in table if "_" in code} | set(CATALOGUE)
)


class _Visible(HTMLParser):
    """Text outside <style>, <script>, <svg> and <head>; attributes left out."""

    HIDDEN = frozenset({"style", "script", "svg", "head"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The words of an HTML page a reader sees (not its markup, styles or chart code)."""
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def raw_codes(text: str, extra: set[str] = frozenset()) -> list[str]:
    """The known codes (and ``extra``, e.g. a plan's partner ids) that ``text`` shows raw."""
    return [c for c in [*KNOWN_CODES, *sorted(extra)] if re.search(rf"\b{re.escape(c)}\b", text)]
