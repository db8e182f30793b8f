"""Mask identifiers in a text: NHS-number-like runs and postcodes in an error message.

One home for the patterns, shared by the readers (a rejected file's message) and the
ingest's identifier scan (:mod:`bettercare.data.ingest.identifiers`, which uses the same
patterns in SQL).
"""

from __future__ import annotations

import re

from bettercare.data import nhs_numbers

POSTCODE_RE = r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}"
NHS_RUN_RE = r"[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}"
_PY_NHS = re.compile(r"(?<![0-9])" + NHS_RUN_RE + r"(?![0-9])")
_PY_POSTCODE = re.compile(r"\b" + POSTCODE_RE + r"\b")


def redact(text: str) -> str:
    """``text`` (an error message) with NHS-number-like runs masked and postcodes replaced."""
    text = _PY_NHS.sub(lambda m: nhs_numbers.mask(m.group(0)), text)
    return _PY_POSTCODE.sub("<postcode?>", text)
