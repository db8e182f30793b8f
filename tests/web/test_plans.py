"""Plan pages: overview in and out of scope, edit forms, validation, locking, YAML, JSON API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bettercare.app.models import AuditEvent, PlanRecord
from bettercare.app.plans import plan_of
from bettercare.data.plan_files import validate_plan_file
from bettercare.domain.findings import Severity
from bettercare.domain.rules import check_plan

from .conftest import EXAMPLES, RUTLAND, csrf_of

PLAN = "/plans/rutland-2014"


def _record(app, plan_id: str = "rutland-2014") -> PlanRecord:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
        assert record is not None
        return record


def _events(app, **where: str) -> list[AuditEvent]:
    with app.state.sessions() as db:
        q = select(AuditEvent).order_by(AuditEvent.id)
        for k, v in where.items():
            q = q.where(getattr(AuditEvent, k) == v)
        return list(db.scalars(q))


def _form(html: str, form_id: str) -> dict[str, str]:
    """The text inputs, selected options and checked boxes of one form, as a browser sends."""
    m = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert m, f"no form {form_id}"
    form = m.group(0)
    data: dict[str, str] = {}
    for tag in re.finditer(r"<input ([^>]*)>", form):
        attrs = dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag.group(1)))
        if "name" not in attrs:
            continue
        if attrs.get("type") == "checkbox":
            if " checked" in tag.group(1):
                data[attrs["name"]] = "on"
        else:
            data[attrs["name"]] = _unescape(attrs.get("value", ""))
    for sel in re.finditer(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', sel.group(2))
        data[sel.group(1)] = _unescape(chosen.group(1)) if chosen else ""
    for area in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[area.group(1)] = _unescape(area.group(2))
    return data


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


# --- overview and scope ----------------------------------------------------------------


def test_overview_renders_for_every_role_in_scope(app, client, login) -> None:
    errors = sum(f.severity is Severity.ERROR for f in check_plan(plan_of(_record(app))))
    for user in ("editor", "analyst", "coordinator", "assurer", "admin"):
        login(user)
        r = client.get(PLAN)
        assert r.status_code == 200, user
        page = r.text
        assert "Budget by funding source and year" in page
        assert 'id="risk-heatmap"' in page
        assert f"Planning rules: {errors} errors" in page  # the CLI's rules, counted the same
        assert ("Add a scheme" in page) is (user in ("editor", "admin"))


def test_heatmap_places_each_risk_by_likelihood_and_impact(app, client, login) -> None:
    login("editor")
    page = client.get(PLAN).text
    plan = plan_of(_record(app))
    risk = next(r for r in plan.risks if r.likelihood and r.impact)
    grid = re.search(r'id="risk-heatmap".*?</table>', page, re.S).group(0)
    row = re.search(rf"<th scope=\"row\">{risk.impact}</th>(.*?)</tr>", grid, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert risk.id in cells[risk.likelihood - 1]


def test_out_of_scope_refused_and_audited(app, client, login) -> None:
    login("editor_leicester")
    assert client.get(PLAN).status_code == 403
    assert client.get(f"{PLAN}/schemes/0").status_code == 403
    denied = _events(app, actor="editor_leicester", outcome="denied")
    assert {e.target for e in denied} >= {"plan:rutland-2014", "plan:rutland-2014/schemes[0]"}
    login("analyst")  # in scope for reading, but may not edit
    assert client.get(f"{PLAN}/schemes/0").status_code == 403
    assert _events(app, actor="analyst", outcome="denied")


def test_edit_forms_by_role(app, client, login) -> None:
    forms = [
        f"{PLAN}/{part}/0"
        for part in ("schemes", "funding", "risks", "conditions", "metrics", "sign_offs")
    ]
    forms += [f"{PLAN}/schemes/new", f"{PLAN}/budget", f"{PLAN}/risk_share"]
    for user, expected in (("coordinator", 403), ("assurer", 403), ("editor", 200), ("admin", 200)):
        login(user)
        assert [client.get(url).status_code for url in forms] == [expected] * len(forms), user
    assert len(_events(app, actor="assurer", action="edit_plan", outcome="denied")) == len(forms)
    assert client.get("/plans/leicester_city_2014/schemes/0").status_code == 200  # admin: any


def test_anonymous_cannot_add_a_scheme_or_read_a_draft(app, client) -> None:
    r = client.post(f"{PLAN}/schemes", data={"reference": "X1", "name": "x"})
    assert not 200 <= r.status_code < 300
    token = csrf_of(client.get("/login").text)  # even with a valid session token
    r = client.post(
        f"{PLAN}/schemes",
        data={"reference": "X1", "name": "x", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code in (401, 303) and "X1" not in _record(app).body
    assert client.get(f"/api{PLAN}").status_code == 401
    assert client.get(PLAN, follow_redirects=False).status_code in (303, 401)


def test_publish_makes_a_plan_public_and_unpublish_withdraws_it(app, client, login) -> None:
    login("editor")
    page = client.get(PLAN).text
    r = client.post(f"{PLAN}/publish", data={"published": "1", "csrf_token": csrf_of(page)})
    assert r.status_code == 200 and _record(app).published
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert client.get(PLAN).status_code == 200  # the public reads a board paper
    assert client.get(f"{PLAN}/plan.yaml").status_code == 200
    assert client.get(f"{PLAN}/schemes/0", follow_redirects=False).status_code != 200
    login("analyst")  # may read, not publish
    token = csrf_of(client.get(PLAN).text)
    r = client.post(f"{PLAN}/publish", data={"published": "0", "csrf_token": token})
    assert r.status_code == 403 and _record(app).published
    assert _events(app, actor="analyst", action="publish_plan", outcome="denied")
    login("editor")
    token = csrf_of(client.get(PLAN).text)
    client.post(f"{PLAN}/publish", data={"published": "0", "csrf_token": token})
    assert not _record(app).published
    assert [e.after for e in _events(app, action="publish_plan", outcome="ok")] == [
        '{"published": true}',
        '{"published": false}',
    ]


# --- editing ---------------------------------------------------------------------------


def test_edit_a_scheme_saves_the_item_and_audits_before_and_after(app, client, login) -> None:
    login("editor")
    version = _record(app).version
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    assert data["version"] == str(version) and data["name"] == "Community Agents"
    data.update({"name": "Community Agents (extended)", "spend.2014/15": "£120,000"})
    r = client.post(f"{PLAN}/schemes/0", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/schemes/0?saved=true")
    record = _record(app)
    scheme = plan_of(record).schemes[0]
    assert scheme.name == "Community Agents (extended)"
    assert str(scheme.spend["2014/15"]) == "120000"
    assert scheme.area_of_spend == "social_care"  # untouched fields kept
    assert record.version == version + 1 and record.updated_by == "editor"
    event = _events(app, action="edit_plan", outcome="ok")[-1]
    assert event.target == "plan:rutland-2014/schemes[0]"
    before, after = json.loads(event.before), json.loads(event.after)
    assert before["name"] == "Community Agents" and after["name"].endswith("(extended)")
    assert "partners" not in after  # the changed item, not the whole plan
    page = client.get(r.headers["location"]).text
    assert 'id="form-saved"' in page


def test_rule_findings_are_shown_next_to_their_field_after_a_save(app, client, login) -> None:
    login("editor")
    page = client.get(f"{PLAN}/risks/0").text  # R1: likelihood 3 x impact 4
    assert 'name="likelihood"' in page and 'name="score"' not in page  # computed, not typed
    data = _form(page, "item-form")
    data["likelihood"] = "6"  # off the 1-5 scale
    r = client.post(f"{PLAN}/risks/0", data=data)
    assert r.status_code == 422 and 'id="f-likelihood-error"' in r.text
    data["likelihood"] = "4"
    r = client.post(f"{PLAN}/risks/0", data=data)
    assert r.status_code == 200 and 'id="form-saved"' in r.text
    assert plan_of(_record(app)).risks[0].risk_score == 16  # 4 x 4, extreme


def test_a_stated_score_that_disagrees_is_a_finding_until_the_risk_is_saved(
    app, client, login
) -> None:
    login("editor")
    page = client.get(f"{PLAN}/risks/1").text  # R2: states score 3 but likelihood 1 x impact 2
    assert "risk-score" in page and "is not likelihood 1 x impact 2 = 2" in page
    r = client.post(f"{PLAN}/risks/1", data=_form(page, "item-form"))
    assert r.status_code == 200 and 'id="form-saved"' in r.text
    assert "risk-score" not in r.text
    saved = plan_of(_record(app)).risks[1]
    assert saved.score is None and saved.risk_score == 2  # the stated score is dropped


def test_add_a_scheme_then_delete_it(app, client, login) -> None:
    login("editor")
    n = len(plan_of(_record(app)).schemes)
    data = _form(client.get(f"{PLAN}/schemes/new").text, "item-form")
    data.update(
        {
            "reference": "NEW1",
            "name": "Falls response",
            "commissioner": "joint",
            "spend.2015/16": "50000",
            "admissions_avoided.2015/16": "12",
        }
    )
    r = client.post(f"{PLAN}/schemes", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"/schemes/{n}?saved=true")
    added = plan_of(_record(app)).schemes[n]
    assert (added.reference, added.admissions_avoided["2015/16"]) == ("NEW1", 12)
    assert _events(app, target=f"plan:rutland-2014/schemes[{n}]")[-1].before is None
    page = client.get(f"{PLAN}/schemes/{n}").text
    assert f'href="{PLAN}/schemes/{n}/delete"' in page  # a link to the confirmation
    page = client.get(f"{PLAN}/schemes/{n}/delete").text
    assert "Are you sure you want to delete scheme NEW1 Falls response?" in page
    assert len(plan_of(_record(app)).schemes) == n + 1  # asking deletes nothing
    r = client.post(
        f"{PLAN}/schemes/{n}/delete", data=_form(page, "delete-form"), follow_redirects=False
    )
    assert r.status_code == 303 and "/schemes/deleted?event=" in r.headers["location"]
    assert len(plan_of(_record(app)).schemes) == n
    assert _events(app, target=f"plan:rutland-2014/schemes[{n}]")[-1].after is None


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("spend.2014/15", "a lot", "money-format"),  # read as en-GB money first
        ("spend.2014/15", "-5", "money-format"),
        ("spend.2014/15", "£100,000,000,000", "out-of-range"),  # the model's £100bn cap
        ("area_of_spend", "garden", "code-list"),
    ],
)
def test_invalid_input_is_shown_inline_and_nothing_is_saved(
    app, client, login, field: str, value: str, rule: str
) -> None:
    login("editor")
    before = _record(app)
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    data.update({field: value, "name": "Renamed but invalid"})
    r = client.post(f"{PLAN}/schemes/0", data=data)
    assert r.status_code == 422
    field_id = "f-" + re.sub(r"[^a-z0-9]+", "-", field).strip("-")
    error = re.search(
        rf'<div class="[^"]*field-error" id="{field_id}-error" role="alert">(.*?)</div>',
        r.text,
        re.S,
    )
    assert error and f"[{rule}]" in error.group(1)
    assert f'aria-describedby="{field_id}-error"' in r.text
    assert "Renamed but invalid" in r.text  # the user's input is shown back
    after = _record(app)
    assert (after.version, after.body) == (before.version, before.body)
    assert _events(app, action="edit_plan", outcome="invalid")


def test_user_input_is_escaped_in_every_page(app, client, login) -> None:
    login("editor")
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    data["name"] = '<script>alert("x")</script>'
    assert client.post(f"{PLAN}/schemes/0", data=data).status_code == 200
    for page in (client.get(PLAN).text, client.get(f"{PLAN}/schemes/0").text):
        assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_duplicate_reference_is_refused_by_its_field(app, client, login) -> None:
    login("editor")
    data = _form(client.get(f"{PLAN}/schemes/new").text, "item-form")
    data.update({"reference": "UP1", "name": "Second UP1"})
    r = client.post(f"{PLAN}/schemes", data=data)
    assert r.status_code == 422
    error = re.search(r'id="f-reference-error" role="alert">(.*?)</div>', r.text, re.S)
    assert error and "Reference: UP1 is already used by another scheme" in error.group(1)
    assert 'href="#f-reference"' in r.text  # the error summary links to the field
    assert "Second UP1" not in _record(app).body


def test_stale_save_is_refused_with_the_input_kept(app, client, login) -> None:
    login("editor")
    mine = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    theirs = _form(client.get(f"{PLAN}/schemes/1").text, "item-form")
    theirs["provider"] = "Saved first"
    assert client.post(f"{PLAN}/schemes/1", data=theirs).status_code == 200
    mine["name"] = "My unsaved name"
    r = client.post(f"{PLAN}/schemes/0", data=mine)
    assert r.status_code == 409
    assert "saved this plan" in r.text and "nothing is lost" in r.text
    assert "My unsaved name" in r.text
    record = _record(app)
    assert "My unsaved name" not in record.body and "Saved first" in record.body
    assert _events(app, action="edit_plan", outcome="conflict")
    again = _form(r.text, "item-form")  # the form now carries the current version
    assert again["version"] == str(record.version) and again["name"] == "My unsaved name"
    assert client.post(f"{PLAN}/schemes/0", data=again).status_code == 200
    assert plan_of(_record(app)).schemes[0].name == "My unsaved name"


def test_editing_only_in_draft(app, client, login) -> None:
    with app.state.sessions() as db:
        db.get(PlanRecord, "rutland-2014").state = "submitted"
        db.commit()
    login("editor")
    page = client.get(f"{PLAN}/schemes/0").text
    assert 'id="form-readonly"' in page and "<fieldset disabled>" in page
    assert "Editing is only allowed in draft" in client.get(PLAN).text
    r = client.post(f"{PLAN}/schemes/0", data=_form(page, "item-form"))
    assert r.status_code == 409 and "only allowed in draft" in r.text


def test_edit_funding_condition_and_metric_trajectory(app, client, login) -> None:
    login("editor")
    data = _form(client.get(f"{PLAN}/conditions/1").text, "item-form")
    data.update({"status": "met", "evidence": "Protection agreed at the HWB."})
    assert client.post(f"{PLAN}/conditions/1", data=data).status_code == 200
    data = _form(client.get(f"{PLAN}/funding/new").text, "item-form")
    data.update(
        {
            "source": "additional_la",
            "financial_year": "2015/16",
            "amount": "25000",
            "contributor": "rutland_county_council",
        }
    )
    assert client.post(f"{PLAN}/funding", data=data).status_code == 200
    page = client.get(f"{PLAN}/metrics/0").text
    data = _form(page, "item-form")
    free = next(k for k, v in data.items() if k.endswith("].period") and not v)
    row = free.split(".")[0]
    data.update({free: "2015/16", f"{row}.value": "1234.5"})
    assert client.post(f"{PLAN}/metrics/0", data=data).status_code == 200
    plan = plan_of(_record(app))
    assert plan.national_conditions[1].status == "met"
    assert plan.funding[-1].amount == 25000
    assert [(v.period, v.value) for v in plan.metrics[0].planned][-1] == ("2015/16", 1234.5)


def test_unknown_part_and_index(app, client, login) -> None:
    login("editor")
    assert client.get(f"{PLAN}/gardens/0").status_code == 404  # no such list: no route
    assert client.get(f"{PLAN}/schemes/first").status_code == 422
    assert client.get(f"{PLAN}/schemes/999").status_code == 404
    r = client.get("/plans/no-such-plan")
    assert r.status_code == 404 and "Not found: no plan" in r.text


# --- YAML ------------------------------------------------------------------------------


def _errors(findings) -> set[tuple[str, str]]:
    return {(f.rule, f.path) for f in findings if f.severity is Severity.ERROR}


def test_yaml_export_validates_like_the_original(app, client, login, tmp_path: Path) -> None:
    login("editor")
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    data["spend.2014/15"] = "1000"
    client.post(f"{PLAN}/schemes/0", data=data)
    r = client.get(f"{PLAN}/plan.yaml")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    exported = tmp_path / "rutland.yaml"
    exported.write_text(r.text, encoding="utf-8")
    plan, findings = validate_plan_file(exported)
    assert plan is not None and plan.schemes[0].spend["2014/15"] == 1000
    _, original = validate_plan_file(EXAMPLES / "rutland_2014.yaml")
    assert _errors(findings) <= _errors(original)


def _upload(client, name: str, content: bytes, token: str):
    return client.post(
        "/plans/import",
        files={"file": (name, content, "application/yaml")},
        data={"csrf_token": token},
        follow_redirects=False,
    )


def test_import_a_new_plan_refuse_an_existing_one_and_bad_files(app, client, login) -> None:
    login("editor")
    token = csrf_of(client.get("/plans/import").text)
    text = (EXAMPLES / "rutland_2014.yaml").read_text(encoding="utf-8")
    r = _upload(client, "rutland.yaml", text.encode(), token)
    assert r.status_code == 409 and "exists" in r.text
    r = _upload(
        client,
        "copy.yaml",
        text.replace("plan_id: rutland-2014", "plan_id: rutland-2014-v2").encode(),
        token,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/plans/rutland-2014-v2")
    copy = _record(app, "rutland-2014-v2")
    assert (copy.state, copy.hwb_code) == ("draft", RUTLAND)
    bad = text.replace("plan_id: rutland-2014", "plan_id: rutland-bad").replace(
        "population: 37015", "population: lots"
    )
    r = _upload(client, "bad.yaml", bad.encode(), token)
    assert r.status_code == 422
    line = next(i for i, s in enumerate(bad.splitlines(), 1) if "population: lots" in s)
    assert f"<code>bad.yaml:{line}</code>" in r.text and "hwb.population" in r.text
    r = _upload(client, "broken.yaml", b"plan_id: [unclosed\n", token)
    assert r.status_code == 422 and "<code>broken.yaml:2</code>" in r.text
    assert "yaml-syntax" in r.text and "bettercare-import" not in r.text
    with app.state.sessions() as db:
        assert db.get(PlanRecord, "rutland-bad") is None
    assert len(_events(app, action="import_plan", outcome="invalid")) == 2


def test_import_of_another_hwbs_plan_is_refused(app, client, login) -> None:
    login("editor")  # Rutland's editor
    token = csrf_of(client.get("/plans/import").text)
    text = (EXAMPLES / "leicester_city_2014.yaml").read_text(encoding="utf-8")
    text = text.replace("plan_id: leicester_city_2014", "plan_id: leicester_copy")
    assert _upload(client, "l.yaml", text.encode(), token).status_code == 403
    login("analyst")
    assert client.get("/plans/import").status_code == 403


# --- JSON API --------------------------------------------------------------------------


def test_api_plans_plan_and_findings(app, client, login) -> None:
    assert client.get("/api/plans").json() == []  # nothing published
    login("editor")
    ids = [p["plan_id"] for p in client.get("/api/plans").json()]
    assert ids == ["rutland-2014"]
    plan = client.get(f"/api{PLAN}").json()
    assert plan["plan_id"] == "rutland-2014" and plan["hwb"]["ons_code"] == RUTLAND
    found = client.get(f"/api{PLAN}/findings").json()
    expected = check_plan(plan_of(_record(app)))
    assert found["errors"] == sum(f.severity is Severity.ERROR for f in expected)
    assert len(found["findings"]) == len(expected)
    assert client.get("/api/plans/leicester_city_2014").status_code == 403
    assert client.get("/api/plans/nope").status_code == 404
    assert client.get("/api/plans/bad%20id!").status_code == 422
    schema = client.get("/openapi.json").json()
    assert "/api/plans/{plan_id}/findings" in schema["paths"]


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_exports_to_the_same_plan_and_findings(example: Path, tmp_path) -> None:
    from bettercare.app.plans import export_yaml
    from bettercare.data.plan_files import load_plan

    plan = load_plan(example)
    out = tmp_path / example.name
    out.write_text(export_yaml(plan), encoding="utf-8")
    again, findings = validate_plan_file(out)
    _, original = validate_plan_file(example)
    assert again == plan
    key = sorted((f.rule, f.severity, f.path, f.message) for f in findings)
    assert key == sorted((f.rule, f.severity, f.path, f.message) for f in original)


def test_finding_paths_map_to_form_fields() -> None:
    from bettercare.app.plan_forms import COLLECTIONS, field_for
    from bettercare.data.plan_files import load_plan

    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    schemes, budget, share = (COLLECTIONS[k] for k in ("schemes", "budget", "risk_share"))
    fields = schemes.fields(plan, None)
    assert field_for("schemes[2].spend.2015/16", schemes, 2, fields) == "spend.2015/16"
    assert field_for("schemes[2].sources", schemes, 2, fields) == ""  # the scheme as a whole
    assert field_for("schemes[12].spend.2015/16", schemes, 2, fields) is None  # another one
    assert field_for("schemes[2]", schemes, 2, fields) == ""
    fields = budget.fields(plan, None)
    assert field_for("agreed_pooled_budget.2014/15", budget, 0, fields) == (
        "agreed_pooled_budget.2014/15"
    )
    assert field_for("agreed_pooled_budget", budget, 0, fields) == "agreed_pooled_budget.2014/15"
    assert field_for("schemes[2].spend.2015/16", budget, 0, fields) is None
    fields = share.fields(plan, None)
    assert field_for("risk_share", share, 0, fields) == ""
    assert field_for("risk_share.shares.elr_ccg", share, 0, fields) == "shares.elr_ccg"


def test_findings_link_to_the_form_that_fixes_them() -> None:
    from bettercare.domain.findings import Finding
    from bettercare.services.plans import finding_link

    def link(path: str) -> str | None:
        return finding_link("p", Finding("r", Severity.ERROR, path, "m"))

    assert link("schemes[2].spend.2015/16") == "/plans/p/schemes/2"
    assert link("national_conditions[1]") == "/plans/p/conditions/1"
    assert link("agreed_pooled_budget.2014/15") == "/plans/p/budget"
    assert link("risk_share") == "/plans/p/risk_share"
    assert link("funding") is None


def test_money_in_another_locale_is_refused_by_its_field(app, client, login) -> None:
    login("editor")
    version = _record(app).version
    data = _form(client.get(f"{PLAN}/schemes/0").text, "item-form")
    data["spend.2014/15"] = "1.234,56"
    r = client.post(f"{PLAN}/schemes/0", data=data)
    assert r.status_code == 422
    assert "uses a comma as the decimal point" in r.text
    assert re.search(r'id="f-spend-2014-15-error"', r.text)
    assert _record(app).version == version  # nothing saved


# --- replace a draft from its corrected file -------------------------------------------


def _replace(client, name: str, content: bytes, token: str, version: int):
    return client.post(
        f"{PLAN}/replace",
        files={"file": (name, content, "application/yaml")},
        data={"csrf_token": token, "version": str(version)},
        follow_redirects=False,
    )


def test_a_draft_is_replaced_from_its_corrected_file_and_only_so(app, client, login) -> None:
    """What the forms do not reach is fixed by export, edit, upload: all or nothing."""
    login("editor")
    page = client.get(f"{PLAN}/replace")
    assert page.status_code == 200 and 'id="replace-file"' in page.text
    assert f'href="{PLAN}/replace"' in client.get(PLAN).text  # offered on the overview
    token = csrf_of(page.text)
    text = client.get(f"{PLAN}/plan.yaml").text
    version = _record(app).version
    fixed = text.replace("date_agreed: '2014-09-17'", "date_agreed: '2014-09-16'")
    assert fixed != text

    # another plan's file, another HWB's, a broken file, a stale page: nothing changes
    other = text.replace("plan_id: rutland-2014", "plan_id: rutland-other")
    r = _replace(client, "other.yaml", other.encode(), token, version)
    assert r.status_code == 422 and "rutland-other" in r.text and "unchanged" in r.text
    r = _replace(client, "broken.yaml", b"plan_id: [unclosed\n", token, version)
    assert r.status_code == 422 and "<code>broken.yaml:2</code>" in r.text
    r = _replace(client, "fixed.yaml", fixed.encode(), token, version - 1)
    assert r.status_code == 409 and "Not saved" in r.text
    assert _record(app).version == version and _record(app).state == "draft"
    assert len(_events(app, action="edit_plan", outcome="invalid")) == 2
    assert len(_events(app, action="edit_plan", outcome="conflict")) == 1

    r = _replace(client, "fixed.yaml", fixed.encode(), token, version)
    assert r.status_code == 303 and r.headers["location"] == f"{PLAN}?replaced=1"
    record = _record(app)
    assert record.version == version + 1 and record.updated_by == "editor"
    assert str(plan_of(record).date_agreed) == "2014-09-16"
    [event] = _events(app, action="edit_plan", detail="replaced from a plan file")
    assert json.loads(event.before or "{}") == {"version": version}


def test_only_an_editor_of_the_hwb_replaces_and_only_in_draft(app, client, login) -> None:
    login("analyst")
    assert client.get(f"{PLAN}/replace").status_code == 403
    login("editor")
    token = csrf_of(client.get(f"{PLAN}/replace").text)
    text = client.get(f"{PLAN}/plan.yaml").text
    with app.state.sessions() as db:
        record = db.get(PlanRecord, "rutland-2014")
        assert record is not None
        record.state = "submitted"
        db.commit()
        version = record.version
    r = _replace(client, "r.yaml", text.encode(), token, version)
    assert r.status_code == 409 and "only in draft" in r.text
    assert f'href="{PLAN}/replace"' not in client.get(PLAN).text
