"""Care coordination coverage by practice and month, hand-worked on three people.

People (month ends: 31 Jan, 28 Feb, 31 Mar 2026):

* A, practice P1, assessed 15 Jan, tier top 2%, aged 60+: plan active from 10 Feb;
  lead professional from 1 Mar.
* B, practice P1, assessed 20 Feb, tier top 5%: plan in draft (never counts); lead from
  1 Feb to 28 Feb.
* C, practice P2, assessed 1 Jan, no tier, dementia: plan completed 5 Jan - 15 Feb;
  no care team.

All practices, everyone (at risk, plan, lead, both):
Jan: A, C at risk; C's plan covers 31 Jan -> (2, 1, 0, 0).
Feb: A, B, C; A's plan, B's lead -> (3, 1, 1, 0).
Mar: A has both; B's lead ended; C's plan ended -> (3, 1, 1, 1).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.analytics.care_coverage import (
    ALL,
    PersonAtRisk,
    coverage,
    last_months,
    month_end,
    months_between,
)
from bettercare.domain.care import (
    CarePlanStatus,
    CareRecordError,
    CareTeam,
    CareTeamMember,
    JointCarePlan,
)

D = dt.date
A = PersonAtRisk(
    "P1",
    D(2026, 1, 15),
    "top 2%",
    ("cohort_60_plus",),
    plans=(JointCarePlan(CarePlanStatus.ACTIVE, D(2026, 2, 10)),),
    teams=(CareTeam((CareTeamMember("Sam", "Matron", "CHS", lead=True, start=D(2026, 3, 1)),)),),
)
B = PersonAtRisk(
    "P1",
    D(2026, 2, 20),
    "top 5%",
    plans=(JointCarePlan(CarePlanStatus.DRAFT),),
    teams=(
        CareTeam(
            (
                CareTeamMember(
                    "Jo", "Social worker", "ASC", lead=True, start=D(2026, 2, 1), end=D(2026, 2, 28)
                ),
            )
        ),
    ),
)
C = PersonAtRisk(
    "P2",
    D(2026, 1, 1),
    None,
    ("cohort_dementia",),
    plans=(JointCarePlan(CarePlanStatus.COMPLETED, D(2026, 1, 5), D(2026, 2, 15)),),
)
MONTHS = months_between(D(2026, 1, 1), D(2026, 3, 1))


def _table() -> dict[tuple[str, dt.date, str], tuple[int, int, int, int]]:
    return {
        (r.gp_practice, r.month, r.group): (r.at_risk, r.with_plan, r.with_lead, r.with_both)
        for r in coverage([A, B, C], MONTHS)
    }


def test_all_practices_by_month() -> None:
    t = _table()
    assert [t[(ALL, m, ALL)] for m in MONTHS] == [(2, 1, 0, 0), (3, 1, 1, 0), (3, 1, 1, 1)]


def test_by_practice_and_group() -> None:
    t = _table()
    mar = D(2026, 3, 1)
    assert t[("P1", mar, ALL)] == (2, 1, 1, 1)
    assert t[("P2", mar, ALL)] == (1, 0, 0, 0)
    assert t[(ALL, mar, "top 2%")] == (1, 1, 1, 1)
    assert t[(ALL, mar, "top 5%")] == (1, 0, 0, 0)
    assert t[(ALL, mar, "cohort_60_plus")] == (1, 1, 1, 1)
    assert t[(ALL, mar, "cohort_dementia")] == (1, 0, 0, 0)
    assert ("P1", D(2026, 1, 1), "top 5%") not in t  # B not at risk before 20 Feb


def test_shares_and_order() -> None:
    rows = coverage([A, B, C], MONTHS)
    first = rows[0]
    assert (first.gp_practice, first.month, first.group) == (ALL, D(2026, 1, 1), ALL)
    mar = next(r for r in rows if (r.gp_practice, r.month, r.group) == (ALL, D(2026, 3, 1), ALL))
    assert mar.plan_share == pytest.approx(1 / 3)
    assert mar.both_share == pytest.approx(1 / 3)
    assert coverage([], MONTHS) == []


def test_months() -> None:
    assert months_between(D(2025, 11, 20), D(2026, 2, 3)) == [
        D(2025, 11, 1),
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]
    assert month_end(D(2024, 2, 10)) == D(2024, 2, 29)
    assert last_months(D(2026, 11, 27), 12)[0] == D(2025, 12, 1)
    assert last_months(D(2026, 2, 1), 3) == [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]
    with pytest.raises(ValueError, match="before"):
        months_between(D(2026, 2, 1), D(2026, 1, 1))


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: JointCarePlan(CarePlanStatus.ACTIVE), "period.start"),
        (lambda: JointCarePlan(CarePlanStatus.COMPLETED, D(2026, 1, 1)), "period.end"),
        (lambda: JointCarePlan(CarePlanStatus.DRAFT, D(2026, 2, 1), D(2026, 1, 1)), "period.end"),
        (
            lambda: JointCarePlan(CarePlanStatus.ACTIVE, D(2026, 2, 1), None, D(2026, 1, 1)),
            "review due",
        ),
        (lambda: CareTeamMember("Sam", "Matron", None, lead=True), "participant.onBehalfOf"),
        (lambda: CareTeamMember(" ", "Matron"), "participant.member"),
        (
            lambda: CareTeam(
                (CareTeamMember("A", "r", "o", lead=True), CareTeamMember("B", "r", "o", lead=True))
            ),
            "participant",
        ),
    ],
)
def test_register_rules(build, field) -> None:
    with pytest.raises(CareRecordError) as info:
        build()
    assert info.value.field == field


def test_review_overdue() -> None:
    plan = JointCarePlan(CarePlanStatus.ACTIVE, D(2026, 1, 1), None, D(2026, 6, 1))
    assert plan.review_overdue(D(2026, 6, 2)) and not plan.review_overdue(D(2026, 6, 1))
    on_hold = JointCarePlan(CarePlanStatus.ON_HOLD, D(2026, 1, 1), None, D(2026, 6, 1))
    assert not on_hold.review_overdue(D(2027, 1, 1)) and not on_hold.active_on(D(2026, 3, 1))
