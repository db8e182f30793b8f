"""The plan forms without HTTP: en-GB money, UK dates, unique ids, delete and undo."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

import pytest

from bettercare.data.plan_store import get_plan, plan_of
from bettercare.data.tables import LoginAttempt
from bettercare.services import plans, users
from bettercare.services.plan_forms import COLLECTIONS, typed_notes

from .conftest import RUTLAND_PLAN, events


def _values(db, caller, part: str, index: int | None) -> dict[str, str]:
    form = plans.open_form(db, caller, RUTLAND_PLAN, part, index)
    return {
        **{k: v for k, v in form.values.items() if not isinstance(v, bool)},
        "version": str(form.version),
    }


def _plan(db):
    record = get_plan(db, RUTLAND_PLAN)
    assert record is not None
    db.refresh(record)
    return plan_of(record)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("1.234,56", "uses a comma as the decimal point"),
        ("1,23,4", "has commas out of place"),
    ],
)
def test_european_or_misgrouped_money_is_refused_naming_the_field(
    db, editor, typed: str, says: str
) -> None:
    before = _plan(db).funding[0].amount
    data = _values(db, editor, "funding", 0) | {"amount": typed}
    result = plans.save_form(db, editor, RUTLAND_PLAN, "funding", 0, data)
    assert result.status == 422 and result.form is not None
    [note] = result.form.notes.by_field["amount"]
    assert note.message.startswith("Amount (£): ") and says in note.message
    assert _plan(db).funding[0].amount == before  # nothing saved


def test_every_money_field_of_every_form_is_read_as_money(db) -> None:
    """A field whose label shows pounds is of the money kind (so parse_gbp reads it)."""
    plan = _plan(db)
    money = [f for c in COLLECTIONS.values() for f in c.fields(plan, None) if "(£)" in f.label]
    assert money and all(f.kind == "money" for f in money)
    fields = [f for f in COLLECTIONS["funding"].fields(plan, None) if f.kind == "money"]
    assert typed_notes(fields, {"amount": "£1,234.56"}).by_field == {}


def test_a_uk_date_is_saved_and_shown_as_words(db, editor) -> None:
    data = _values(db, editor, "sign_offs", 0) | {"date": "12/03/2026"}
    result = plans.save_form(db, editor, RUTLAND_PLAN, "sign_offs", 0, data)
    assert result.form is None, result.form and result.form.notes.all()
    assert _plan(db).sign_offs[0].date == dt.date(2026, 3, 12)
    assert plans.open_form(db, editor, RUTLAND_PLAN, "sign_offs", 0).values["date"] == (
        "12 March 2026"
    )
    data = _values(db, editor, "sign_offs", 1) | {"date": "12 March 2026"}
    assert plans.save_form(db, editor, RUTLAND_PLAN, "sign_offs", 1, data).form is None
    assert _plan(db).sign_offs[1].date == dt.date(2026, 3, 12)


def test_a_date_that_does_not_exist_is_refused_naming_the_field(db, editor) -> None:
    data = _values(db, editor, "sign_offs", 0) | {"date": "31/02/2026"}
    result = plans.save_form(db, editor, RUTLAND_PLAN, "sign_offs", 0, data)
    assert result.status == 422 and result.form is not None
    [note] = result.form.notes.by_field["date"]
    assert note.message == "Date: '31/02/2026' is not a date that exists: February 2026 has 28 days"
    assert _plan(db).sign_offs[0].date is None


def test_a_duplicate_risk_id_is_refused_naming_the_field(db, editor) -> None:
    n = len(_plan(db).risks)
    data = _values(db, editor, "risks", None) | {
        "id": "r1",  # R1 exists: ids compare without case
        "description": "A second R1",
        "likelihood": "4",
        "impact": "4",
    }
    result = plans.save_form(db, editor, RUTLAND_PLAN, "risks", None, data)
    assert result.status == 422 and result.form is not None
    [note] = result.form.notes.by_field["id"]
    assert "Risk id: r1 is already used by another risk" in note.message
    assert len(_plan(db).risks) == n
    data["id"] = "R99"  # a new id: saved, its score computed as likelihood x impact
    assert plans.save_form(db, editor, RUTLAND_PLAN, "risks", None, data).form is None
    assert _plan(db).risks[n].risk_score == 16
    assert not any(f.name == "score" for f in COLLECTIONS["risks"].fields(_plan(db), None))


def test_saving_a_risk_under_its_own_id_is_not_a_duplicate(db, editor) -> None:
    data = _values(db, editor, "risks", 0) | {"owner": "Someone else"}
    assert plans.save_form(db, editor, RUTLAND_PLAN, "risks", 0, data).form is None


def test_delete_asks_first_then_undo_puts_it_back_audited(db, editor) -> None:
    risks = _plan(db).risks
    third = risks[2]
    ask = plans.confirm_delete(db, editor, RUTLAND_PLAN, "risks", 2)
    assert ask.label == third.id and ("Description", third.description) in ask.summary
    assert len(_plan(db).risks) == len(risks)  # asking deletes nothing
    result = plans.save_form(
        db, editor, RUTLAND_PLAN, "risks", 2, {"version": str(ask.version)}, delete=True
    )
    assert result.redirect is not None and "/risks/deleted?event=" in result.redirect
    event_id = int(result.redirect.rsplit("=", 1)[1])
    assert [r.id for r in _plan(db).risks] == [r.id for r in risks if r.id != third.id]
    done = plans.deleted(db, editor, RUTLAND_PLAN, "risks", event_id)
    assert done.label == third.id and not done.undone
    undo = plans.undo_delete(db, editor, RUTLAND_PLAN, "risks", event_id)
    assert undo.redirect == f"/plans/{RUTLAND_PLAN}/risks/2?restored=true"
    assert _plan(db).risks[2].id == third.id
    assert _plan(db).risks[2].description == third.description
    [restored] = events(db, detail=f"undo of audit event {event_id}")
    assert restored.target == f"plan:{RUTLAND_PLAN}/risks[2]" and restored.actor == "editor"
    again = plans.undo_delete(db, editor, RUTLAND_PLAN, "risks", event_id)
    assert again.status == 409 and again.view.message == "This delete has already been undone."
    assert len(_plan(db).risks) == len(risks)


def test_undo_is_refused_when_the_id_was_taken_since(db, editor) -> None:
    ask = plans.confirm_delete(db, editor, RUTLAND_PLAN, "risks", 0)
    result = plans.save_form(
        db, editor, RUTLAND_PLAN, "risks", 0, {"version": str(ask.version)}, delete=True
    )
    assert result.redirect is not None
    event_id = int(result.redirect.rsplit("=", 1)[1])
    data = _values(db, editor, "risks", None) | {"id": "R1", "description": "New R1"}
    assert plans.save_form(db, editor, RUTLAND_PLAN, "risks", None, data).form is None
    undo = plans.undo_delete(db, editor, RUTLAND_PLAN, "risks", event_id)
    assert undo.status == 409 and undo.view.message is not None
    assert "another risk now has id R1" in undo.view.message


def test_the_lockout_names_the_time_the_user_can_try_again(db) -> None:
    limits = users.LoginLimits(window_seconds=900, per_user=5, per_ip=100)
    now = datetime.now(UTC)
    # five failures, 10, 8, 6, 4 and 2 minutes ago: the oldest leaves the window in 5 minutes
    for minutes in (10, 8, 6, 4, 2):
        db.add(
            LoginAttempt(
                username="nobody",
                ip="192.0.2.5",
                success=False,
                at=now - timedelta(minutes=minutes),
            )
        )
    db.commit()
    result = users.sign_in(db, "nobody", "x", "192.0.2.5", limits, lambda *a: None, None)  # type: ignore[arg-type]
    assert result.status == 429 and result.retry_at is not None
    expected = now - timedelta(minutes=10) + timedelta(seconds=900)
    assert abs((result.retry_at - expected).total_seconds()) < 2
    message = users.locked_message(result.retry_at)
    assert f"after {result.retry_at:%H:%M} UTC" in message and "(in 5 minutes)" in message
    assert "ask an administrator to unlock" in message


def test_the_delete_confirmation_names_partners_and_codes_in_words(db, admin) -> None:
    """Marlbury's risk R1 is owned by ``marlbury_county_council`` (examples file): the
    page asking before the delete shows the partner's name, as the plan states it."""
    ask = plans.confirm_delete(db, admin, "marlbury_2025", "risks", 0)
    assert ask.label == "R1"
    assert ("Owner", "Marlbury County Council") in ask.summary
    assert ("Likelihood (1-5)", "4") in ask.summary
    funding = plans.confirm_delete(db, admin, "marlbury_2025", "funding", 0)
    shown = dict(funding.summary)
    assert shown["Contributor (partner)"] == "NHS Marlbury Integrated Care Board"
    assert "_" not in shown["Funding source"]  # icb_minimum in words
