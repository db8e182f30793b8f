"""Administration: users and the audit log (view, filter, CSV export), admin only."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bettercare.app import audit
from bettercare.app.models import AuditEvent, User
from bettercare.app.seed import SYSTEM

from .conftest import PASSWORD, RUTLAND, csrf_of


def test_anonymous_and_other_roles_are_refused(app, client, login) -> None:
    for path in ("/audit", "/admin", "/admin/audit", "/admin/audit.csv"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code in (401, 303), path
        r = client.get(path, headers={"accept": "application/json"}, follow_redirects=False)
        assert r.status_code == 401, path
    login("editor")
    for path in ("/admin", "/admin/audit", "/admin/audit.csv", "/audit"):
        assert client.get(path).status_code == 403, path
    with app.state.sessions() as db:
        denied = list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor == "editor", AuditEvent.outcome == "denied"
                )
            )
        )
    assert {e.action for e in denied} == {"manage_users", "view_audit"}


def test_audit_shortcut_redirects_the_admin(client, login) -> None:
    login("admin")
    r = client.get("/audit", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/admin/audit"


def _create(client, **fields: str):
    token = csrf_of(client.get("/admin").text)
    return client.post("/admin/users", data={"csrf_token": token, **fields}, follow_redirects=False)


def test_admin_creates_a_user_who_can_sign_in(app, client, login) -> None:
    login("admin")
    r = _create(
        client,
        username="newpartner",
        password=PASSWORD,
        role="partner_editor",
        hwb_code=RUTLAND,
        organisation="Rutland County Council",
    )
    assert r.status_code == 303
    assert "User newpartner created" in client.get(r.headers["location"]).text
    with app.state.sessions() as db:
        user = db.scalar(select(User).where(User.username == "newpartner"))
        event = db.scalar(select(AuditEvent).where(AuditEvent.target == "user:newpartner"))
    assert (user.role, user.hwb_code, user.active) == ("partner_editor", RUTLAND, True)
    assert user.password_hash.startswith("$argon2id$")
    assert event.actor == "admin" and "partner_editor" in event.after
    login("newpartner")
    assert client.get("/plans/rutland-2014").status_code == 200


def test_bad_user_details_are_shown_next_to_the_field(app, client, login) -> None:
    login("admin")
    r = _create(client, username="shorty", password="too-short", role="analyst", hwb_code="")
    assert r.status_code == 422
    assert 'id="password-error"' in r.text and "at least 12 characters" in r.text
    assert 'id="hwb_code-error"' in r.text  # an analyst works within one HWB
    assert 'value="shorty"' in r.text  # input kept
    r = _create(client, username="editor", password=PASSWORD, role="admin")
    assert r.status_code == 422 and "is taken" in r.text
    r = _create(client, username="x", password=PASSWORD, role="wizard")
    assert 'id="username-error"' in r.text and 'id="role-error"' in r.text
    with app.state.sessions() as db:
        assert db.scalar(select(User).where(User.username == "shorty")) is None
        invalid = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "invalid")).all()
    assert len(invalid) == 3


def test_deactivated_user_cannot_sign_in(app, client, login) -> None:
    login("admin")
    with app.state.sessions() as db:
        analyst = db.scalar(select(User).where(User.username == "analyst"))
        admin = db.scalar(select(User).where(User.username == "admin"))
    token = csrf_of(client.get("/admin").text)
    r = client.post(f"/admin/users/{analyst.id}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 200 and "Reactivate" in r.text
    r = client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 409  # not oneself
    client.post("/logout", data={"csrf_token": token})
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 401


def test_audit_log_pages_and_filters(app, client, login) -> None:
    login("editor")
    client.get("/admin")  # one refusal by the editor
    login("admin")
    page = client.get("/admin/audit").text
    assert 'id="audit-table"' in page and "manage users" in page
    page = client.get("/admin/audit", params={"actor": "editor", "outcome": "denied"}).text
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr") == 1 and "manage users" in rows
    page = client.get("/admin/audit", params={"action": "import_plan"}).text
    assert "6 events matching the filter" in page  # the six example plans (with Marlbury 2026)
    assert client.get("/admin/audit", params={"page": 0}).status_code == 422
    with app.state.sessions() as db:
        for i in range(60):
            audit.record(db, SYSTEM, "noise", f"n:{i}")
        db.commit()
    page = client.get("/admin/audit", params={"action": "noise"}).text
    assert "page 1 of 2" in page and 'rel="next"' in page
    assert "n:59" in page and "n:0<" not in page  # newest first


def test_audit_csv_export_escapes_formulas(app, client, login) -> None:
    with app.state.sessions() as db:
        audit.record(db, SYSTEM, "probe", "target", detail='=HYPERLINK("http://evil.example")')
        db.commit()
    login("admin")
    r = client.get("/admin/audit.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == list(audit.EXPORT_COLUMNS)
    probe = next(row for row in rows if row["action"] == "probe")
    assert probe["detail"] == '\'=HYPERLINK("http://evil.example")'
    only = list(
        csv.DictReader(io.StringIO(client.get("/admin/audit.csv", params={"action": "probe"}).text))
    )
    assert [row["action"] for row in only] == ["probe"]
    with app.state.sessions() as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "export_audit"))
