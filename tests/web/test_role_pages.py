"""Pages per role over HTTP: the home task list, the care register's search and pages, the
audit log's search and date range."""

from __future__ import annotations

import datetime as dt
import re

from bettercare.data import care_register
from bettercare.pipelines.care_demo import demo_register

from .conftest import RUTLAND, csrf_of


def test_the_home_page_is_a_task_list_for_each_role(app, client, login) -> None:
    page = client.get("/").text
    assert "Your tasks" not in page  # the public: published board papers only
    expected = {
        "editor": "Your plans: what each needs before its next step",
        "assurer": "Plans awaiting assurance",
        "coordinator": "Care-plan reviews and gaps",
        "analyst": "Quarterly returns due",
        "admin": "Users locked out of signing in",
    }
    for name, heading in expected.items():
        login(name)
        page = client.get("/").text
        assert "Your tasks" in page and heading in page, name
        assert 'class="nhsuk-task-list"' in page or "-empty" in page, name
        others = [h for n, h in expected.items() if n not in (name, "admin")]
        if name != "admin":
            assert not any(h in page for h in others), name
    login("editor")
    page = client.get("/").text
    assert "to fix before: Agreed by partners" in page
    assert re.search(r'<strong class="nhsuk-tag nhsuk-tag--blue">To fix</strong>', page)


def test_the_admin_unlocks_a_locked_user_from_the_home_page(app, client, login) -> None:
    for _ in range(app.state.settings.login_attempts):
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login",
            data={"username": "analyst", "password": "nope-nope-nope", "csrf_token": token},
        )
    login("admin")
    page = client.get("/").text
    assert re.search(
        r'<dt class="nhsuk-summary-list__key">analyst</dt>\s*<dd[^>]*>Locked until \d\d:\d\d UTC',
        page,
    )
    form = re.search(r'<form method="post" action="/admin/unlock">.*?</form>', page, re.S)
    assert form is not None
    r = client.post(
        "/admin/unlock", data={"csrf_token": csrf_of(form.group(0)), "username": "analyst"}
    )
    assert r.status_code == 200 and "Unlocked: they can sign in again now." in r.text
    assert 'id="tasks-locked-empty"' in r.text


def _register(app, n: int = 60):
    with app.state.sessions() as db:
        demo_register(db, RUTLAND, n, dt.date(2026, 11, 27), seed=5)
        db.commit()
        return care_register.hwb_patients(db, RUTLAND)


def _people(html: str) -> list[str]:
    return re.findall(r'href="/care/patients/(\d+)"', html)


def test_the_care_register_pages_searches_and_filters(app, client, login) -> None:
    patients = _register(app)
    login("coordinator")
    first, second, third = (client.get(f"/care?page={n}").text for n in (1, 2, 3))
    assert [len(_people(p)) for p in (first, second, third)] == [25, 25, 10]
    assert len(set(_people(first) + _people(second) + _people(third))) == 60
    assert 'class="nhsuk-pagination nhsuk-pagination--numbered"' in first
    assert 'href="?page=2"' in first and 'aria-current="page">2<' in second
    # search by family name, and by NHS number with the spaces people type
    target = patients[7]
    r = client.get("/care", params={"q": target.family_name})
    found = _people(r.text)
    assert str(target.id) in found
    assert len(found) == sum(p.family_name == target.family_name for p in patients)
    spaced = f"{target.nhs_number[:3]} {target.nhs_number[3:6]} {target.nhs_number[6:]}"
    assert _people(client.get("/care", params={"q": spaced}).text) == [str(target.id)]
    assert "Nobody matches these filters" in client.get("/care", params={"q": "zzzz"}).text
    # filters narrow, and the pages keep them
    for review in ("overdue", "noplan", "nolead", "due30"):
        narrowed = client.get("/care", params={"review": review}).text
        assert len(_people(narrowed)) <= 25
    tiers = re.findall(
        r'<option value="([^"]+)">\1</option>', first.split('id="tier"')[1].split("</select>")[0]
    )
    assert tiers
    by_tier = client.get("/care", params={"tier": tiers[0]}).text
    caption = re.search(r"<caption>(.*?)</caption>", by_tier, re.S)
    assert caption and "matching (60 in all)" in caption.group(1)


def test_the_audit_log_is_searched_and_limited_to_dates(app, client, login) -> None:
    login("editor")
    login("admin")
    r = client.get("/admin/audit", params={"q": "editor"})
    assert r.status_code == 200
    rows = re.findall(r'<tr class="outcome-[a-z]+">(.*?)</tr>', r.text, re.S)
    everything = client.get("/admin/audit").text.count('<tr class="outcome-')
    assert 0 < len(rows) < everything  # the search narrows the log
    assert all("editor" in row for row in rows)
    today = dt.date.today()
    r = client.get("/admin/audit", params={"since": today.strftime("%d/%m/%Y")})
    assert "login" in r.text and "0 events" not in r.text
    r = client.get(
        "/admin/audit", params={"until": (today - dt.timedelta(days=1)).strftime("%d %B %Y")}
    )
    assert "0 events" in r.text
    r = client.get("/admin/audit", params={"since": "31/02/2026"})
    assert "There is a problem" in r.text and "February 2026 has 28 days" in r.text
    assert 'href="#since"' in r.text


def test_the_overview_groups_findings_with_counts_and_says_what_to_do_next(
    app, client, login
) -> None:
    from bettercare.app.models import PlanRecord
    from bettercare.app.plans import plan_of
    from bettercare.domain.findings import Severity
    from bettercare.domain.rules import check_plan

    with app.state.sessions() as db:
        record = db.get(PlanRecord, "rutland-2014")
        assert record is not None
        findings = check_plan(plan_of(record))
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    login("editor")
    page = client.get("/plans/rutland-2014").text
    panel = re.search(
        r'<div class="nhsuk-card nhsuk-card--feature" id="next-panel">(.*?)</ul>', page, re.S
    )
    assert panel and f"Fix {errors} planning rule errors before the next step" in panel.group(1)
    summary = re.search(
        r'<dl class="nhsuk-summary-list" id="findings-summary">(.*?)</dl>', page, re.S
    )
    assert summary
    counted_e = sum(int(n) for n in re.findall(r"(\d+) errors?</strong>", summary.group(1)))
    counted_w = sum(int(n) for n in re.findall(r"(\d+) warnings?</strong>", summary.group(1)))
    assert (counted_e, counted_w) == (errors, warnings)
    for slug in re.findall(r'<a href="#(findings-[a-z-]+)">Show', summary.group(1)):
        assert f'<details class="nhsuk-details findings-group" id="{slug}"' in page
    assert page.count('<tr class="finding-') == len(findings)
