"""Care coordination coverage: the share of people at risk with a plan and a lead professional.

Owns the care coordination coverage measure (seeds 000, 002-004: "the share of those
[at high risk] with a joint care plan and an accountable lead professional"), by GP
practice and month, from plain rows (:class:`PersonAtRisk`), so that the web app, the
report and a test can all call it without a database. Rules of what counts as an active
plan or a serving lead professional are the domain's (:mod:`bettercare.domain.care`).

For each month, the measure is taken on the month's last day: a person is *at risk* from
the date of the risk assessment that placed them in the register; *with a plan* when one
of their joint care plans is active on that day; *with a lead* when one of their care
teams' accountable lead professional serves on that day. Groups: everyone (``all``),
each risk tier and each cohort a person belongs to (a person counts in several groups).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bettercare.analytics.risk.cohorts import suppress

# the register's rows are defined in the domain, read here
from bettercare.domain.care import ALL as ALL
from bettercare.domain.care import PersonAtRisk as PersonAtRisk

MAX_MONTHS = 120


@dataclass(frozen=True)
class CoverageRow:
    """Coverage for one practice (or ``all``), month and group."""

    gp_practice: str
    month: dt.date  # first day of the month; measured on its last day
    group: str
    at_risk: int
    with_plan: int
    with_lead: int
    with_both: int

    @property
    def plan_share(self) -> float | None:
        """Share of people at risk with an active joint care plan (None when none at risk)."""
        return self.with_plan / self.at_risk if self.at_risk else None

    @property
    def lead_share(self) -> float | None:
        """Share with an accountable lead professional."""
        return self.with_lead / self.at_risk if self.at_risk else None

    @property
    def both_share(self) -> float | None:
        """Share with both a plan and a lead professional (the BCF measure)."""
        return self.with_both / self.at_risk if self.at_risk else None


def month_end(month: dt.date) -> dt.date:
    """The last day of ``month``'s month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from ``first``'s to ``last``'s, inclusive (at most 120)."""
    if last < first:
        raise ValueError(f"the last month {last:%Y-%m} is before the first {first:%Y-%m}")
    out: list[dt.date] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        if len(out) == MAX_MONTHS:
            raise ValueError(f"more than {MAX_MONTHS} months asked for")
        out.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def last_months(last: dt.date, n: int) -> list[dt.date]:
    """First days of the ``n`` months ending with ``last``'s month."""
    if not 1 <= n <= MAX_MONTHS:
        raise ValueError(f"between 1 and {MAX_MONTHS} months, not {n}")
    year, month = divmod(last.year * 12 + last.month - 1 - (n - 1), 12)
    return months_between(dt.date(year, month + 1, 1), last)


def coverage(people: Iterable[PersonAtRisk], months: list[dt.date]) -> list[CoverageRow]:
    """Coverage by practice, month and group, plus the all-practices rows (practice ``all``).

    Rows are sorted by practice (``all`` first), month and group (``all`` first); a
    practice-month-group with nobody at risk has no row.
    """
    counts: dict[tuple[str, dt.date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for person in people:
        for month in months:
            day = month_end(month)
            if person.assessed_on > day:
                continue
            plan = any(p.active_on(day) for p in person.plans)
            lead = any(t.has_lead_on(day) for t in person.teams)
            for practice in (ALL, person.gp_practice):
                for group in person.groups:
                    c = counts[(practice, month, group)]
                    c[0] += 1
                    c[1] += plan
                    c[2] += lead
                    c[3] += plan and lead

    def order(key: tuple[str, dt.date, str]) -> tuple[bool, str, dt.date, bool, str]:
        practice, month, group = key
        return (practice != ALL, practice, month, group != ALL, group)

    return [CoverageRow(k[0], k[1], k[2], *counts[k]) for k in sorted(counts, key=order)]


COUNTS = ("at_risk", "with_plan", "with_lead", "with_both")


def published(row: CoverageRow, exact: bool = False) -> dict[str, int | float | None]:
    """A row's counts and shares as published.

    Unless ``exact``, counts follow the risk stratification's small-number rule
    (:func:`bettercare.analytics.risk.cohorts.suppress`: 1-7 suppressed as ``None``, others
    rounded to 5) and shares are computed from the rounded counts, so a share cannot give
    a suppressed count away; a share is ``None`` when either count is suppressed or nobody
    is at risk.
    """
    counts: dict[str, int | None] = {k: getattr(row, k) for k in COUNTS}
    if not exact:
        counts = {k: suppress(v) for k, v in counts.items() if v is not None}
    at_risk = counts["at_risk"]

    def share(key: str) -> float | None:
        n = counts[key]
        if not at_risk or n is None:
            return None
        return min(1.0, n / at_risk)

    return {
        **counts,
        "plan_share": share("with_plan"),
        "lead_share": share("with_lead"),
        "both_share": share("with_both"),
    }
