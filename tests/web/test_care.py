"""The care coordination register: import re-identification, the demo, the care pages."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bettercare.app.db import make_engine, migrate, session_factory
from bettercare.app.models import AuditEvent, CarePatient, CareRiskAssessment
from bettercare.cli.main import app as cli
from bettercare.data import care_register, nhs_numbers
from bettercare.data.pseudonymise import KEY_ENV, pseudonym
from bettercare.pipelines.care_demo import demo_register

from .conftest import LEICESTER, RUTLAND

KEY = "bars-test-key-0123456789abcdef0123456789"
A, B, C, D, E = "9997258401", "9990690154", "9998228638", "9998526140", "9995380994"
HEADER = [
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "postcode",
    "lsoa11",
    "practice_code",
    "hwb_code",
    "imd_decile",
    "ltc_count",
    "dementia_diagnosis",
    "date_of_death",
    "dementia_diagnosis_date",
]


def _registration(number: str, given: str, hwb: str) -> list[str]:
    return [
        number,
        given,
        "Smith",
        "1940-03-12",
        "2",
        "LE15 6AB",
        "E01000001",
        "C82001",
        hwb,
        "3",
        "2",
        "false",
        "",
        "",
    ]


def write_lists(folder: Path, bad_number: str | None = None) -> tuple[Path, Path]:
    """A GP registration list (A, B, C in Rutland; D in Leicester) and risk scores.

    Scores: A top 2% (imported), B untiered (left out), D top 0.5% but of Leicester (left
    out), E top 5% but not on the list (unmatched).
    """
    folder.mkdir(parents=True, exist_ok=True)
    regs = folder / "gp_registrations.csv"
    with regs.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerow(_registration(A, "Ann", RUTLAND))
        w.writerow(_registration(B, "Bob", RUTLAND))
        w.writerow(_registration(bad_number or C, "Cat", RUTLAND))
        w.writerow(_registration(D, "Dee", LEICESTER))
    scores = folder / "scores.csv"
    key = KEY.encode()
    with scores.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "person_id",
                "gp_practice",
                "hwb_code",
                "age_band",
                "cohort_60_plus",
                "cohort_18_59_ltc3",
                "cohort_dementia",
                "probability",
                "tier",
            ]
        )
        w.writerow(
            [
                pseudonym(key, A),
                "C82001",
                RUTLAND,
                "85-89",
                "True",
                "False",
                "True",
                "0.61",
                "top 2%",
            ]
        )
        w.writerow(
            [pseudonym(key, B), "C82001", RUTLAND, "70-74", "True", "False", "False", "0.08", ""]
        )
        w.writerow(
            [
                pseudonym(key, D),
                "C82099",
                LEICESTER,
                "80-84",
                "True",
                "False",
                "False",
                "0.71",
                "top 0.5%",
            ]
        )
        w.writerow(
            [
                pseudonym(key, E),
                "C82001",
                RUTLAND,
                "75-79",
                "True",
                "False",
                "False",
                "0.30",
                "top 5%",
            ]
        )
    return regs, scores


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={KEY_ENV: KEY})
    return result.exit_code, result.output


def run_import(regs: Path, scores: Path, database: str, *args: str) -> tuple[int, str]:
    """Run ``bettercare register import`` of ``scores`` and ``regs`` into ``database``."""
    return run(
        "register",
        "import",
        "--scores",
        str(scores),
        "--registrations",
        str(regs),
        "--database",
        database,
        *args,
    )


def test_import_reidentifies_tiered_scores_of_the_hwb(tmp_path: Path) -> None:
    regs, scores = write_lists(tmp_path / "in")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    code, output = run_import(regs, scores, url, "--hwb", RUTLAND, "--assessed-on", "2026-04-01")
    assert code == 0, output
    assert "Imported 1 of 2 people at risk" in output and "1 not on the registration" in output
    with session_factory(make_engine(url))() as db:
        patients = list(db.scalars(select(CarePatient)))
        assert [
            (p.nhs_number, p.given_name, p.hwb_code, p.gp_practice, p.sex) for p in patients
        ] == [(A, "Ann", RUTLAND, "C82001", "F")]
        assert patients[0].person_id == pseudonym(KEY.encode(), A)
        score = db.scalar(select(CareRiskAssessment))
        assert (score.tier, score.probability, score.assessed_on) == (
            "top 2%",
            0.61,
            dt.date(2026, 4, 1),
        )
        assert score.cohorts == "cohort_60_plus,cohort_dementia"
        logged = db.scalar(select(AuditEvent).where(AuditEvent.action == "register_import"))
        assert A not in (logged.after or "")  # counts only, no identifiers


def test_import_refuses_an_invalid_nhs_number_with_a_located_error(tmp_path: Path) -> None:
    bad = "9434765918"
    assert not nhs_numbers.is_valid(bad)
    regs, scores = write_lists(tmp_path / "in", bad_number=bad)
    db_file = tmp_path / "app.db"
    code, output = run_import(regs, scores, f"sqlite:///{db_file}", "--hwb", RUTLAND)
    assert code == 2
    assert output.startswith("error: gp_registrations.csv, row 4, nhs_number:"), output
    assert "modulus 11" in output and bad not in output  # masked
    assert "Traceback" not in output and not db_file.exists()  # nothing written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hwb", "Rutland"], "is not an HWB's ONS code"),
        (["--hwb", RUTLAND, "--store", "x.duckdb"], "exactly one of --scores"),
        (["--hwb", RUTLAND, "--assessed-on", "2026-13-01"], "is not a date"),
    ],
)
def test_import_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    regs, scores = write_lists(tmp_path / "in")
    code, output = run_import(regs, scores, f"sqlite:///{tmp_path / 'a.db'}", *args)
    assert code == 2 and message in output, output


def test_scores_file_errors_are_located(tmp_path: Path) -> None:
    regs, scores = write_lists(tmp_path / "in")
    text = scores.read_text().replace("0.61", "1.7")
    scores.write_text(text)
    code, output = run_import(regs, scores, f"sqlite:///{tmp_path / 'a.db'}", "--hwb", RUTLAND)
    assert code == 2
    assert output.startswith("error: scores.csv, row 2, probability:"), output


def test_demo_register_then_the_coordinator_page(app, client, login) -> None:
    with app.state.sessions() as db:
        made = demo_register(db, RUTLAND, 40, dt.date(2026, 11, 27), seed=3)
        db.commit()
        patients = care_register.hwb_patients(db, RUTLAND)
    assert made == 40 == len(patients)
    assert all(
        nhs_numbers.is_valid(p.nhs_number) and p.nhs_number.startswith("999") for p in patients
    )
    login("coordinator")
    page = client.get("/care")
    assert page.status_code == 200
    second = client.get("/care?page=2")  # 25 a page: 40 people on two pages
    assert page.text.count('href="/care/patients/') == 25
    assert second.text.count('href="/care/patients/') == 15
    first = patients[0].nhs_number
    assert f"{first[:3]} {first[3:6]} {first[6:]}" in page.text + second.text
    with app.state.sessions() as db:
        viewed = db.scalar(select(AuditEvent).where(AuditEvent.action == "view_care_list"))
        assert viewed is not None and viewed.actor == "coordinator"
    practice = patients[0].gp_practice
    filtered = client.get(f"/care?practice={practice}")
    expected = sum(p.gp_practice == practice for p in patients)
    assert filtered.text.count('href="/care/patients/') == min(expected, 25)


def test_care_list_is_for_the_coordinator_only(app, client, login) -> None:
    html = {"accept": "text/html"}
    assert client.get("/care", headers=html, follow_redirects=False).status_code == 303
    for user in ("analyst", "editor", "admin"):
        login(user)
        assert client.get("/care", headers=html).status_code == 403, user
    with app.state.sessions() as db:
        denied = list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.target == "care:list", AuditEvent.outcome == "denied"
                )
            )
        )
    assert [e.actor for e in denied] == ["anonymous", "analyst", "editor", "admin"]


def _coverage_people(app) -> None:
    """Nine people at risk in one practice, three with plan and lead (counts above 7)."""
    from bettercare.app.models import CarePlanRecord, CareTeamRecord
    from bettercare.domain.care import CarePlanStatus, CareTeam, CareTeamMember, JointCarePlan

    numbers = [n for n in range(9990000000, 9990000400) if nhs_numbers.is_valid(str(n))][:9]
    with app.state.sessions() as db:
        for i, number in enumerate(numbers):
            p = care_register.add_patient(
                db, nhs_number=str(number), hwb_code=RUTLAND, gp_practice="C82001"
            )
            care_register.add_assessment(db, p, 0.5, "top 2%", [], "m", dt.date(2025, 1, 1))
            if i < 3:
                plan = JointCarePlan(CarePlanStatus.ACTIVE, dt.date(2025, 1, 1))
                db.add(care_register.write_plan(CarePlanRecord(), p, plan, "t"))
                team = CareTeam(
                    (CareTeamMember("Sam", "Matron", "CHS", lead=True, start=dt.date(2025, 1, 1)),)
                )
                db.add(care_register.write_team(CareTeamRecord(), p, team, "t"))
        db.commit()


def test_coverage_page_exact_for_coordinator_suppressed_for_analyst(app, client, login) -> None:
    _coverage_people(app)
    login("coordinator")
    page = client.get("/care/coverage").text
    assert '<td class="num">9</td>' in page and "33%" in page
    login("analyst")
    page = client.get("/care/coverage").text
    # 9 at risk rounds to 10; 3 with a plan is suppressed: its share is not shown
    assert '<td class="num">10</td>' in page and "33%" not in page
    assert "/care/patients/" not in page  # aggregates only
    login("editor_leicester")
    assert "No people at risk" in client.get("/care/coverage").text  # their own HWB only
    with app.state.sessions() as db:
        care_register.ensure_hwb(db, LEICESTER)
    login("assurer")
    assert '<td class="num">10</td>' in client.get(f"/care/coverage?hwb={RUTLAND}").text


def test_demo_command_fills_an_empty_hwb_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    code, output = run("register", "demo", "--hwb", RUTLAND, "--n", "25", "--database", url)
    assert code == 0 and "Created 25 synthetic people" in output, output
    with session_factory(make_engine(url))() as db:
        patients = care_register.hwb_patients(db, RUTLAND)
        assert len(patients) == 25
        assert all(p.person_id == pseudonym(KEY.encode(), p.nhs_number) for p in patients)
    code, output = run("register", "demo", "--hwb", RUTLAND, "--database", url)
    assert code == 2 and "already holds 25 people" in output, output


def test_coverage_command_publishes_suppressed_aggregates(tmp_path: Path) -> None:
    """20 people at risk from 1 Jan 2025; 10 with a plan and a lead from 10 Feb 2025.

    Practice C82001 has 17 of them (all 10 covered), C82002 has 3 (none covered): its
    counts (3, 0, 0, 0) publish as suppressed and 0s. All practices, Feb: 20 at risk, 10
    with a plan, a lead, both: 50%. Jan: nobody covered yet.
    """
    from bettercare.app.models import CarePlanRecord, CareTeamRecord
    from bettercare.domain.care import CarePlanStatus, CareTeam, CareTeamMember, JointCarePlan

    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    numbers = [n for n in range(9990000000, 9990000400) if nhs_numbers.is_valid(str(n))][:20]
    start = dt.date(2025, 2, 10)
    with sessions() as db:
        care_register.ensure_hwb(db, RUTLAND)
        for i, number in enumerate(numbers):
            practice = "C82001" if i < 17 else "C82002"
            p = care_register.add_patient(
                db, nhs_number=str(number), hwb_code=RUTLAND, gp_practice=practice
            )
            care_register.add_assessment(db, p, 0.4, "top 5%", [], "m", dt.date(2025, 1, 1))
            if i < 10:
                plan = JointCarePlan(CarePlanStatus.ACTIVE, start)
                db.add(care_register.write_plan(CarePlanRecord(), p, plan, "t"))
                lead = CareTeamMember("Sam", "Matron", "CHS", lead=True, start=start)
                db.add(care_register.write_team(CareTeamRecord(), p, CareTeam((lead,)), "t"))
        db.commit()
    out = tmp_path / "coverage.csv"
    code, output = run(
        "register",
        "coverage",
        "--hwb",
        RUTLAND,
        "--database",
        url,
        "--as-of",
        "2025-02-28",
        "--months",
        "2",
        "--out",
        str(out),
    )
    assert code == 0, output
    rows = {(r["gp_practice"], r["month"], r["group"]): r for r in csv.DictReader(out.open())}
    feb = rows[("all", "2025-02-01", "all")]
    assert [feb[k] for k in ("at_risk", "with_plan", "with_lead", "with_both")] == [
        "20",
        "10",
        "10",
        "10",
    ]
    assert float(feb["both_share"]) == 0.5
    jan = rows[("all", "2025-01-01", "all")]
    assert (jan["at_risk"], jan["with_plan"], jan["plan_share"]) == ("20", "0", "0.0")
    small = rows[("C82002", "2025-02-01", "all")]
    assert (small["at_risk"], small["with_plan"], small["plan_share"]) == ("", "0", "")
    assert "50%" in output


def _two_patients(app) -> tuple[int, int]:
    with app.state.sessions() as db:
        care_register.ensure_hwb(db, LEICESTER)
        r = care_register.add_patient(
            db,
            nhs_number=A,
            hwb_code=RUTLAND,
            given_name="Ann",
            family_name="Smith",
            gp_practice="C82001",
        )
        care_register.add_assessment(
            db, r, 0.6, "top 2%", ["cohort_60_plus"], "logistic", dt.date(2026, 4, 1)
        )
        lei = care_register.add_patient(db, nhs_number=D, hwb_code=LEICESTER)
        db.commit()
        return r.id, lei.id


def test_patient_page_scope_and_audit(app, client, login) -> None:
    rutland, leicester = _two_patients(app)
    html = {"accept": "text/html"}
    login("coordinator")
    page = client.get(f"/care/patients/{rutland}")
    assert page.status_code == 200 and "Ann Smith" in page.text
    assert "Aged 60 and over" in page.text  # the cohort, named
    assert f"{A[:3]} {A[3:6]} {A[6:]}" in page.text and 'id="care-plan-form"' in page.text
    assert client.get(f"/care/patients/{leicester}", headers=html).status_code == 403
    assert client.get("/care/patients/99999").status_code == 404
    assert client.get("/care/patients/x").status_code == 404
    login("analyst")
    assert client.get(f"/care/patients/{rutland}", headers=html).status_code == 403
    with app.state.sessions() as db:
        events = [
            (e.actor, e.action, e.outcome)
            for e in db.scalars(select(AuditEvent).where(AuditEvent.target.like("care:patient/%")))
        ]
    assert events == [
        ("coordinator", "view_patient", "ok"),
        ("coordinator", "view_patients", "denied"),
        ("analyst", "view_patients", "denied"),
    ]


def test_coordinator_records_a_plan_and_a_lead(app, client, login) -> None:
    from bettercare.app.models import CarePlanRecord, CareTeamRecord

    from .conftest import csrf_of

    rutland, _ = _two_patients(app)
    login("coordinator")
    url = f"/care/patients/{rutland}"
    token = csrf_of(client.get(url).text)
    plan = {
        "csrf_token": token,
        "version": "",
        "status": "active",
        "title": "Joint plan",
        "period_start": "2026-10-01",
        "period_end": "",
        "review_due": "2027-01-01",
    }
    # invalid: an active plan without a start date -> 422, the error beside the field
    r = client.post(f"{url}/plan", data={**plan, "period_start": ""})
    assert r.status_code == 422 and 'id="period_start-error"' in r.text
    assert 'aria-describedby="period_start-error"' in r.text
    r = client.post(f"{url}/plan", data={**plan, "review_due": "31/02/2027"})
    assert r.status_code == 422 and 'id="review_due-error"' in r.text
    with app.state.sessions() as db:
        assert db.scalar(select(CarePlanRecord)) is None  # nothing stored
    r = client.post(f"{url}/plan", data=plan, follow_redirects=False)
    assert r.status_code == 303
    # update with the version the form showed, then a stale save is refused
    r = client.post(
        f"{url}/plan", data={**plan, "version": "1", "status": "on-hold"}, follow_redirects=False
    )
    assert r.status_code == 303
    r = client.post(f"{url}/plan", data={**plan, "version": "1", "status": "completed"})
    assert r.status_code == 409 and "Someone else saved this plan" in r.text
    with app.state.sessions() as db:
        stored = db.scalar(select(CarePlanRecord))
        assert (stored.status, stored.version, stored.review_due) == (
            "on-hold",
            2,
            dt.date(2027, 1, 1),
        )
    lead = {
        "csrf_token": token,
        "name": "Sam Reid",
        "role": "Community matron",
        "organisation": "",
        "start": "2026-10-01",
    }
    r = client.post(f"{url}/lead", data=lead)
    assert r.status_code == 422 and 'id="organisation-error"' in r.text
    r = client.post(
        f"{url}/lead", data={**lead, "organisation": "Rutland ASC"}, follow_redirects=False
    )
    assert r.status_code == 303
    with app.state.sessions() as db:
        team = db.scalar(select(CareTeamRecord))
        assert [(m.name, m.lead, m.organisation) for m in team.members] == [
            ("Sam Reid", True, "Rutland ASC")
        ]
        outcomes = [
            (e.action, e.outcome)
            for e in db.scalars(
                select(AuditEvent).where(
                    AuditEvent.action.in_(["edit_care_plan", "edit_care_team"])
                )
            )
        ]
    assert outcomes == [
        ("edit_care_plan", "invalid"),
        ("edit_care_plan", "invalid"),
        ("edit_care_plan", "ok"),
        ("edit_care_plan", "ok"),
        ("edit_care_plan", "conflict"),
        ("edit_care_team", "invalid"),
        ("edit_care_team", "ok"),
    ]
    login("coordinator")
    page = client.get("/care").text
    assert "Sam Reid, Community matron (Rutland ASC)" in page and "on-hold" in page


def test_plan_form_refused_for_another_hwb_and_without_csrf(app, client, login) -> None:
    from bettercare.app.models import CarePlanRecord

    from .conftest import csrf_of

    rutland, leicester = _two_patients(app)
    login("coordinator")
    token = csrf_of(client.get(f"/care/patients/{rutland}").text)
    plan = {
        "csrf_token": token,
        "version": "",
        "status": "draft",
        "title": "",
        "period_start": "",
        "period_end": "",
        "review_due": "",
    }
    r = client.post(f"/care/patients/{leicester}/plan", data=plan, headers={"accept": "text/html"})
    assert r.status_code == 403
    r = client.post(f"/care/patients/{rutland}/plan", data={**plan, "csrf_token": "forged"})
    assert r.status_code == 403
    with app.state.sessions() as db:
        assert db.scalar(select(CarePlanRecord)) is None
