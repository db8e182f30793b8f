"""The care register's search, filters and pages, and the audit log's search, no HTTP."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.data import care_register
from bettercare.services import care, users

from .conftest import RUTLAND

TODAY = dt.date(2026, 7, 1)


def _nhs(n: int) -> str:
    """A valid NHS number (modulus 11) starting 999, the synthetic range."""
    while True:
        body = f"999{n:06d}"
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return body + str(check)
        n += 1000


@pytest.fixture
def register(db, coordinator) -> list[int]:
    """30 people: three Smiths; the 1st with a plan whose review is overdue, the 2nd due
    in two weeks, the 3rd with a lead professional (Dr Ada Lovelace)."""
    ids = []
    for i in range(30):
        family = "Smith" if i in (4, 11, 27) else f"Family{i}"
        p = care_register.add_patient(
            db, nhs_number=_nhs(i), hwb_code=RUTLAND, given_name=f"Given{i}", family_name=family
        )
        tier = "top 1%" if i < 5 else "top 5%"
        care_register.add_assessment(db, p, 0.9 - i / 100, tier, [], "m", dt.date(2026, 1, 1))
        ids.append(p.id)
    db.commit()
    for pid, due in ((ids[0], "01/06/2026"), (ids[1], "15 July 2026")):
        form = {
            "status": "active",
            "period_start": "01/05/2026",
            "period_end": "",
            "review_due": due,
            "title": "",
            "version": "",
        }
        assert care.save_care_plan(db, coordinator, str(pid), form).page is None
    lead = {"name": "Dr Ada Lovelace", "role": "GP", "organisation": "Practice", "start": ""}
    assert care.save_lead(db, coordinator, str(ids[2]), lead | {"version": ""}).page is None
    return ids


def _listed(db, caller, **kw) -> care.CareList:
    return care.care_list(db, caller, kw.pop("practice", None), kw.pop("tier", None), TODAY, **kw)


def test_twenty_five_a_page_and_page_two_holds_the_rest(db, coordinator, register) -> None:
    first, second = _listed(db, coordinator), _listed(db, coordinator, page=2)
    assert (len(first.rows), len(second.rows), first.pages, first.matched) == (25, 5, 2, 30)
    assert [r.patient.id for r in first.rows + second.rows] == register  # highest risk first
    assert _listed(db, coordinator, page=9).page == 2  # past the end: the last page


def test_search_by_name_or_nhs_number(db, coordinator, register) -> None:
    smiths = _listed(db, coordinator, q="smith")
    assert [r.patient.id for r in smiths.rows] == [register[4], register[11], register[27]]
    number = _nhs(7)
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    assert [r.patient.id for r in _listed(db, coordinator, q=spaced).rows] == [register[7]]
    assert [r.patient.id for r in _listed(db, coordinator, q="given11 smith").rows] == [
        register[11]
    ]
    assert _listed(db, coordinator, q="nobody").rows == []


def test_filters_narrow(db, coordinator, register) -> None:
    def ids(**kw) -> list[int]:
        return [r.patient.id for r in _listed(db, coordinator, **kw).rows]

    assert ids(review="overdue") == [register[0]]
    assert ids(review="due30") == [register[1]]
    assert _listed(db, coordinator, review="noplan").matched == 28
    assert _listed(db, coordinator, review="nolead").matched == 29
    assert ids(lead="Dr Ada Lovelace") == [register[2]]
    assert ids(tier="top 1%") == register[:5]
    assert ids(tier="top 1%", q="smith") == [register[4]]
    found = _listed(db, coordinator, tier="top 5%")
    assert (found.matched, found.pages, found.filters) == (25, 1, {"tier": "top 5%"})
    counts = care.review_counts(db, coordinator, TODAY)
    assert (counts.overdue, counts.due_soon, counts.no_plan, counts.no_lead) == (1, 1, 28, 29)


def test_the_audit_log_is_searched_and_limited_to_dates(db, admin, coordinator, register) -> None:
    page = users.audit_page(db, admin, 1, q="care_plan")
    assert page.total == 2 and all("care_plan" in e.action for e in page.rows)
    today = dt.date.today()
    assert users.audit_page(db, admin, 1, since=today.strftime("%d/%m/%Y")).total > 0
    yesterday = (today - dt.timedelta(days=1)).strftime("%d %B %Y")
    assert users.audit_page(db, admin, 1, until=yesterday).total == 0
    bad = users.audit_page(db, admin, 1, since="31/02/2026")
    assert bad.errors == {
        "since": "From: '31/02/2026' is not a date that exists: February 2026 has 28 days"
    }
    backwards = users.audit_page(db, admin, 1, since="02/01/2026", until="01/01/2026")
    assert backwards.errors == {"until": "To: the end of the range is before its start"}
