"""The care coordination register: joint care plans, care teams, the lead professional.

Owns the rules of the register that every edge (the FHIR API, the web pages, the import
command) applies the same way. A BCF national condition (seeds 000, 002, 003,
004): each person at high risk of a hospital admission gets a *joint health and
social care plan* and an *accountable lead professional*. Plans report the share of
people at risk with both (coverage, :mod:`bettercare.analytics.care_coverage`).

* :class:`JointCarePlan`: status (FHIR ``CarePlan.status``, limited to the four states a
  register needs), the period it runs for and the date its review is due.
* :class:`CareTeam`: its members (name, role, organisation, the period they serve), at
  most one of them the accountable lead professional.

Patient-level data is for direct care only: the register is seen by the care coordinators
of the person's Health and Wellbeing Board, never by analysts (who see coverage only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from bettercare.errors import BadInput


class CarePlanStatus(StrEnum):
    """Status of a joint care plan (a subset of FHIR R4 ``RequestStatus``)."""

    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"


class CareRecordError(BadInput):
    """A care record breaks a register rule; ``field`` names the offending element."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def _span_ok(start: dt.date | None, end: dt.date | None) -> bool:
    return start is None or end is None or end >= start


def _covers(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    return start is not None and start <= day and (end is None or end >= day)


@dataclass(frozen=True)
class JointCarePlan:
    """A joint health and social care plan.

    Counts as an active plan on a day (:meth:`active_on`) when its status is active or
    completed and its period covers the day: the register keeps the current status, not
    its history, so a plan now on hold or still in draft never counts.
    """

    status: CarePlanStatus
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    review_due: dt.date | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        """Check the dates: the period ends after it starts, an active plan has a start."""
        if not _span_ok(self.period_start, self.period_end):
            raise CareRecordError("period.end", "the plan's period ends before it starts")
        if (
            self.review_due is not None
            and self.period_start is not None
            and self.review_due < self.period_start
        ):
            raise CareRecordError("review due", "the review is due before the plan starts")
        started = self.status in (CarePlanStatus.ACTIVE, CarePlanStatus.COMPLETED)
        if started and self.period_start is None:
            article = "an" if self.status is CarePlanStatus.ACTIVE else "a"
            raise CareRecordError(
                "period.start", f"{article} {self.status} plan needs the date it started"
            )
        if self.status is CarePlanStatus.COMPLETED and self.period_end is None:
            raise CareRecordError("period.end", "a completed plan needs the date it ended")

    def active_on(self, day: dt.date) -> bool:
        """True when the plan is an active joint care plan on ``day``."""
        counted = self.status in (CarePlanStatus.ACTIVE, CarePlanStatus.COMPLETED)
        return counted and _covers(self.period_start, self.period_end, day)

    def review_overdue(self, today: dt.date) -> bool:
        """True when an active plan's review date has passed."""
        return (
            self.status is CarePlanStatus.ACTIVE
            and self.review_due is not None
            and self.review_due < today
        )


@dataclass(frozen=True)
class CareTeamMember:
    """A member of a care team: who, in what role, for which organisation, since when."""

    name: str
    role: str
    organisation: str | None = None
    lead: bool = False
    start: dt.date | None = None
    end: dt.date | None = None

    def __post_init__(self) -> None:
        """Name and role are required; the lead professional needs an organisation."""
        if not self.name.strip():
            raise CareRecordError("participant.member", "a member needs a name")
        if not self.role.strip():
            raise CareRecordError("participant.role", f"{self.name} needs a role")
        if self.lead and not (self.organisation and self.organisation.strip()):
            raise CareRecordError(
                "participant.onBehalfOf",
                "the accountable lead professional needs an organisation",
            )
        if not _span_ok(self.start, self.end):
            raise CareRecordError(
                "participant.period", f"{self.name}'s period ends before it starts"
            )


@dataclass(frozen=True)
class CareTeam:
    """The care team around one person; at most one accountable lead professional."""

    members: tuple[CareTeamMember, ...] = field(default_factory=tuple)
    name: str | None = None

    def __post_init__(self) -> None:
        """A team has at most one lead professional (the accountable one)."""
        if sum(m.lead for m in self.members) > 1:
            raise CareRecordError(
                "participant", "a care team has one accountable lead professional, not several"
            )

    @property
    def lead(self) -> CareTeamMember | None:
        """The accountable lead professional, if one is named."""
        return next((m for m in self.members if m.lead), None)

    def has_lead_on(self, day: dt.date) -> bool:
        """True when the lead professional serves on ``day``."""
        lead = self.lead
        return lead is not None and _covers(lead.start, lead.end, day)


ALL = "all"  # the group of everyone at risk, and the "practice" of the all-practices rows


@dataclass(frozen=True)
class PersonAtRisk:
    """One person of the register with what coverage needs (no identifiers)."""

    gp_practice: str
    assessed_on: dt.date
    tier: str | None = None
    cohorts: tuple[str, ...] = ()
    plans: tuple[JointCarePlan, ...] = field(default_factory=tuple)
    teams: tuple[CareTeam, ...] = field(default_factory=tuple)

    @property
    def groups(self) -> tuple[str, ...]:
        """``all``, the tier (if any) and each cohort."""
        return (ALL, *((self.tier,) if self.tier else ()), *self.cohorts)
