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
from enum import StrEnum


# Defined here, with the frameworks that order them, so the frameworks import nothing of
# the plan model (which re-exports it); the docstring is the plan schema's description.
class SignOffRole(StrEnum):
    """The capacity in which someone signs a plan off.

    Which are required, and in what order, is the framework's (``sign_off`` in
    :mod:`bettercare.domain.frameworks`).
    """

    HWB_CHAIR = "hwb_chair"
    COUNCIL_CHIEF_EXECUTIVE = "council_chief_executive"
    ICB_CHIEF_EXECUTIVE = "icb_chief_executive"
    CCG_ACCOUNTABLE_OFFICER = "ccg_accountable_officer"
    S151_OFFICER = "s151_officer"
    DIRECTOR_ADULT_SOCIAL_SERVICES = "director_adult_social_services"
    OTHER = "other"


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
class SignOffRules:
    """Who must sign a plan off under a framework, and in what order.

    Whether role holders may delegate, and whether the HWB's approval may follow the
    national submission.

    Read by the ``sign-off`` and ``years-and-dates`` rules and by the plan workflow
    (:mod:`bettercare.domain.workflow`), so they can never disagree.
    """

    #: Roles whose sign-off the framework asks for, beyond the signing bodies themselves.
    roles: tuple[SignOffRole, ...] = ()
    #: Roles that may not be delegated (a delegate's signature does not count).
    not_delegable: tuple[SignOffRole, ...] = ()
    #: Roles that sign before the plan is submitted.
    before_submission: tuple[SignOffRole, ...] = ()
    #: The plan may be submitted before the HWB approves it, the approval recorded after.
    submit_before_hwb: bool = False
    #: The national deadline for submitting plans, where a cited source gives it (a later
    #: submission is recorded as late, not refused: boards did submit late).
    submission_deadline: dt.date | None = None
    #: Where the rules come from (a citation).
    source: str = ""


#: Sign-off as the seed-era templates ask: each body signs; HWB approval before submission.
SIGN_OFF_BY_BODIES = SignOffRules(
    source="BCF planning templates (2014-2019): the HWB, the council and each CCG sign off"
)


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
    sign_off: SignOffRules = SIGN_OFF_BY_BODIES
    #: Years whose protection of adult social care amount the template asks for (empty:
    #: every plan year). 2014-16: 2015/16 only, the first pooled year.
    social_care_protection_years: tuple[str, ...] = ()
    #: Plans are submitted to NHS England for assurance (2020/21: none were).
    plans_submitted: bool = True
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
