"""The confused user's cases over HTTP: dates, deletes and undo, an expired session, lockout."""

from __future__ import annotations

import re

from sqlalchemy import delete

from bettercare.app.models import PlanRecord
from bettercare.app.plans import plan_of
from bettercare.data.tables import WebSession

from .conftest import PASSWORD, csrf_of
from .test_plans import PLAN, _events, _form


def _plan(app):
    with app.state.sessions() as db:
        record = db.get(PlanRecord, "rutland-2014")
        assert record is not None
        return plan_of(record)


def test_a_uk_date_is_accepted_and_shown_in_words(app, client, login) -> None:
    login("editor")
    page = client.get(f"{PLAN}/sign_offs/0").text
    assert "For example, 12/03/2026 or 12 March 2026" in page
    data = _form(page, "item-form") | {"date": "12/03/2026"}
    r = client.post(f"{PLAN}/sign_offs/0", data=data)
    assert r.status_code == 200 and 'id="form-saved"' in r.text
    assert 'id="f-date" name="date" value="12 March 2026"' in r.text
    data = _form(r.text, "item-form") | {"date": "31/02/2026"}
    r = client.post(f"{PLAN}/sign_offs/0", data=data)
    assert r.status_code == 422
    assert "February 2026 has 28 days" in r.text and 'href="#f-date"' in r.text


def test_delete_is_confirmed_then_undone(app, client, login) -> None:
    login("editor")
    ids = [r.id for r in _plan(app).risks]
    page = client.get(f"{PLAN}/risks/2").text
    assert f'href="{PLAN}/risks/2/delete"' in page
    page = client.get(f"{PLAN}/risks/2/delete").text
    assert f"Are you sure you want to delete risk {ids[2]}?" in page
    assert 'id="cancel-delete"' in page and f'href="{PLAN}/risks/2"' in page
    r = client.post(f"{PLAN}/risks/2/delete", data=_form(page, "delete-form"))
    assert r.status_code == 200 and f"Risk {ids[2]} deleted" in r.text
    assert [r.id for r in _plan(app).risks] == ids[:2] + ids[3:]
    r = client.post(f"{PLAN}/risks/undo", data=_form(r.text, "undo-form"))
    assert r.status_code == 200 and "Restored: the deleted risk is back" in r.text
    assert [r.id for r in _plan(app).risks] == ids
    [undo] = [e for e in _events(app, action="edit_plan") if (e.detail or "").startswith("undo")]
    assert undo.target == "plan:rutland-2014/risks[2]" and undo.outcome == "ok"


def _expired_save(app, client, login, expire) -> None:
    login("editor")
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    data["description"] = "Typed at length before lunch"
    expire()
    r = client.post(f"{PLAN}/schemes/0", data=data, headers={"accept": "text/html"})
    assert r.status_code == 401 and 'id="kept-notice"' in r.text
    assert 'name="kept:description" value="Typed at length before lunch"' in r.text
    assert "Typed at length" not in (_plan(app).schemes[0].description or "")
    form = {
        k: v for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text)
    }
    form |= {"username": "editor", "password": PASSWORD}
    r = client.post("/login", data=form)
    # a 303 back to the form the user was on (its address, not /login), the input there
    assert [h.status_code for h in r.history] == [303]
    assert r.url.path == f"{PLAN}/schemes/0"
    assert r.status_code == 200 and "Your session ended before this was saved" in r.text
    assert "Typed at length before lunch</textarea>" in r.text
    r = client.post(f"{PLAN}/schemes/0", data=_form(r.text, "item-form"))  # now it saves
    assert r.status_code == 200 and 'id="form-saved"' in r.text
    assert _plan(app).schemes[0].description == "Typed at length before lunch"
    csrf_events = _events(app, action="csrf")
    assert all("lunch" not in (e.detail or "") + (e.after or "") for e in csrf_events)


def test_input_is_kept_when_the_cookie_has_expired(app, client, login) -> None:
    _expired_save(app, client, login, client.cookies.clear)


def test_input_is_kept_when_the_server_session_has_ended(app, client, login) -> None:
    def end() -> None:
        with app.state.sessions() as db:
            db.execute(delete(WebSession))
            db.commit()

    _expired_save(app, client, login, end)


def test_the_lockout_message_states_when_to_try_again(app, client) -> None:
    for _ in range(app.state.settings.login_attempts + 1):
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login",
            data={"username": "editor", "password": "wrong-password!", "csrf_token": token},
        )
    assert r.status_code == 429
    assert "a few minutes" not in r.text
    assert re.search(
        r"You can try again after \d\d:\d\d UTC on \d+ \w+ \d{4} \(in \d+ minutes?\)", r.text
    )
    assert "ask an administrator to unlock your account" in r.text


def test_a_new_items_kept_input_comes_back_on_its_new_form(app, client, login) -> None:
    """A new risk is posted to the list (``/risks``); signing in again leads to ``/risks/new``."""
    login("editor")
    data = _form(client.get(f"{PLAN}/risks/new").text, "item-form")
    data |= {"id": "R77", "description": "Typed before the session ended"}
    client.cookies.clear()
    r = client.post(f"{PLAN}/risks", data=data, headers={"accept": "text/html"})
    assert r.status_code == 401 and 'id="kept-notice"' in r.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
    r = client.post(
        "/login", data=form | {"username": "editor", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"{PLAN}/risks/new"
    page = client.get(r.headers["location"])
    assert 'id="f-id" name="id" value="R77"' in page.text
    assert "Typed before the session ended</textarea>" in page.text
    again = client.get(f"{PLAN}/risks/new")  # once: a second visit is the empty form
    assert "Typed before the session ended" not in again.text
    assert all(r.id != "R77" for r in _plan(app).risks)  # nothing saved


def test_kept_input_too_long_for_a_cookie_is_shown_by_the_sign_in_itself(
    app, client, login
) -> None:
    """Input a cookie cannot carry (over 4 KB even compressed) is not lost: the answer to
    the sign-in is the form with it, as before (the address stays /login)."""
    import secrets

    login("editor")
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    data["description"] = secrets.token_hex(4000)  # random: does not compress
    client.cookies.clear()
    r = client.post(f"{PLAN}/schemes/0", data=data, headers={"accept": "text/html"})
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
    r = client.post("/login", data=form | {"username": "editor", "password": PASSWORD})
    assert r.status_code == 200 and not r.history and r.url.path == "/login"
    assert f"{data['description']}</textarea>" in r.text
