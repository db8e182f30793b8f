"""BCF policy frameworks as versioned data, and which one governs a plan's years.

One module per framework (``bcf_2014_16``, ``bcf_2016_17``, ``bcf_2017_19``,
``bcf_2019_20``, ``bcf_2020_21``, ``bcf_2021_22``, ``bcf_2022_23``, ``bcf_2023_25``,
``bcf_2025_26``, ``bcf_2026_27``), each citing its sources and saying what could not be
confirmed. This package owns the choice of framework by financial year; the planning
rules that read a framework live in :mod:`bettercare.domain.rules`.
"""

from __future__ import annotations

from bettercare.domain.frameworks import (
    bcf_2014_16,
    bcf_2016_17,
    bcf_2017_19,
    bcf_2019_20,
    bcf_2020_21,
    bcf_2021_22,
    bcf_2022_23,
    bcf_2023_25,
    bcf_2025_26,
    bcf_2026_27,
)
from bettercare.domain.frameworks.base import (
    Condition,
    Framework,
    MetricRevision,
    Objective,
    SignOffRules,
)

#: Every modelled framework, oldest first: every financial year 2014/15 to 2026/27.
FRAMEWORKS: tuple[Framework, ...] = (
    bcf_2014_16.FRAMEWORK,
    bcf_2016_17.FRAMEWORK,
    bcf_2017_19.FRAMEWORK,
    bcf_2019_20.FRAMEWORK,
    bcf_2020_21.FRAMEWORK,
    bcf_2021_22.FRAMEWORK,
    bcf_2022_23.FRAMEWORK,
    bcf_2023_25.FRAMEWORK,
    bcf_2025_26.FRAMEWORK,
    bcf_2026_27.FRAMEWORK,
)

BY_ID: dict[str, Framework] = {f.id: f for f in FRAMEWORKS}

_BY_YEAR: dict[str, Framework] = {fy: f for f in FRAMEWORKS for fy in f.financial_years}


def framework_for_year(fy: str) -> Framework | None:
    """The framework covering financial year ``fy`` (``2025/26``), or None if none is modelled."""
    return _BY_YEAR.get(fy)


def framework_for_years(years: list[str]) -> Framework | None:
    """The framework of a plan's first year: the one its rules are chosen by."""
    return framework_for_year(years[0]) if years else None


__all__ = [
    "BY_ID",
    "FRAMEWORKS",
    "Condition",
    "Framework",
    "MetricRevision",
    "Objective",
    "SignOffRules",
    "framework_for_year",
    "framework_for_years",
]
