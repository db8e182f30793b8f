"""What a BCF policy framework declares, as frozen data (one instance per framework year).

A framework is the national policy for one or more financial years: its national
conditions (with the statement an assurer looks for), its metric set, the funding
streams that may be pooled, the scheme types of its planning template, the planning
rules of :mod:`bettercare.domain.rules` that apply and the years it covers. The data
lives in one module per framework (``bcf_2014_16`` ... ``bcf_2025_26``); this module
owns only the shapes, not any framework's content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Condition:
    """A national condition: id used in plan files, its wording and the assurance asked."""

    id: str
    text: str
    assurance: str


@dataclass(frozen=True)
class Objective:
    """A policy objective that schemes are tied to (2025-26: two objectives)."""

    id: str
    text: str


@dataclass(frozen=True)
class MetricRevision:
    """A national metric replaced part way through a framework (by plan submission date)."""

    date: dt.date
    before: str
    after: str


@dataclass(frozen=True)
class Framework:
    """One BCF policy framework: conditions, metrics, funding, scheme types, rules, years."""

    id: str
    title: str
    financial_years: tuple[str, ...]
    conditions: tuple[Condition, ...]
    national_metrics: tuple[str, ...]
    funding_sources: tuple[str, ...]
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    local_metrics: tuple[str, ...] = ()
    allows_local_metrics: bool = False
    metric_revision: MetricRevision | None = None
    scheme_types: tuple[str, ...] = ()
    objectives: tuple[Objective, ...] = ()
    unconfirmed: tuple[str, ...] = field(default=())

    def condition_ids(self) -> tuple[str, ...]:
        """The ids of the framework's national conditions, in the framework's order."""
        return tuple(c.id for c in self.conditions)

    def metric_ids(self) -> tuple[str, ...]:
        """Every metric id the framework names (national, revised and local)."""
        revised = (
            (self.metric_revision.before, self.metric_revision.after)
            if self.metric_revision
            else ()
        )
        return tuple(dict.fromkeys((*self.national_metrics, *revised, *self.local_metrics)))

    def objective_ids(self) -> tuple[str, ...]:
        """The ids of the framework's objectives (empty before 2025-26)."""
        return tuple(o.id for o in self.objectives)
