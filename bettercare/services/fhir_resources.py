"""The register as FHIR R4 resources, and FHIR input back into the register's rules.

Output: :func:`patient`, :func:`care_plan`, :func:`care_team`, :func:`risk_assessment`,
:func:`bundle`. Input: :func:`parse` validates a body with ``fhir.resources.R4B``
(R4-compatible) and :func:`plan_from` / :func:`team_from` turn it into the domain's
:class:`~bettercare.domain.care.JointCarePlan` / :class:`~bettercare.domain.care.CareTeam`
(their rules broken -> 422).

UK Core profiles (``meta.profile``) where UK Core has one, canonical URLs as published by
HL7 UK (https://simplifier.net/hl7fhirukcorer4; the UK Core Access IG,
https://build.fhir.org/ig/HL7-UK/UK-Core-Access/StructureDefinition-UKCore-Patient.html,
gives the Patient URL): UKCore-Patient, UKCore-CarePlan, UKCore-CareTeam. UK Core has no
RiskAssessment profile, so RiskAssessment carries none. Claiming a profile here states
intent; the resources are validated against base R4 only (no UK Core validator is
installed).

Local definitions (no national equivalent found), under the placeholder namespace
:data:`LOCAL`: the review-due extension of a CarePlan and the code marking a CareTeam
participant as the accountable lead professional.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam as FhirCareTeam
from pydantic import ValidationError

from bettercare.data.tables import (
    CarePatient,
    CarePlanRecord,
    CareRiskAssessment,
    CareTeamRecord,
)
from bettercare.domain.care import (
    CarePlanStatus,
    CareRecordError,
    CareTeam,
    CareTeamMember,
    JointCarePlan,
)
from bettercare.errors import BettercareError

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
PROFILES = {
    "Patient": UK_CORE + "UKCore-Patient",
    "CarePlan": UK_CORE + "UKCore-CarePlan",
    "CareTeam": UK_CORE + "UKCore-CareTeam",
}
LOCAL = "https://fhir.bettercare.example/"  # placeholder namespace of local definitions
REVIEW_DUE_URL = LOCAL + "StructureDefinition/care-plan-review-due"
ROLE_SYSTEM = LOCAL + "CodeSystem/care-team-role"
LEAD_CODE = "accountable-lead-professional"
PLAN_CATEGORY = "Joint health and social care plan"
RISK_OUTCOME = "Emergency admission to hospital within 12 months"
MAX_BODY = 1_000_000  # bytes
_GENDER = {"M": "male", "F": "female", "U": "unknown"}


class FhirError(BettercareError):
    """A request the API refuses: HTTP status, IssueType code, what is wrong and where."""

    def __init__(
        self,
        status: int,
        code: str,
        diagnostics: str,
        expression: Sequence[str] = (),
        issues: Sequence[tuple[str, str, Sequence[str]]] = (),
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = tuple(expression)
        # further issues (code, diagnostics, expression) after the first
        self.issues = tuple(issues)


def _meta(
    kind: str, version: int | None = None, updated: dt.datetime | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if version is not None:
        meta["versionId"] = str(version)
    if updated is not None:
        when = updated if updated.tzinfo else updated.replace(tzinfo=dt.UTC)
        meta["lastUpdated"] = when.isoformat()
    if kind in PROFILES:
        meta["profile"] = [PROFILES[kind]]
    return meta


def _subject(patient: CarePatient) -> dict[str, Any]:
    name = " ".join(x for x in (patient.given_name, patient.family_name) if x)
    ref: dict[str, Any] = {"reference": f"Patient/{patient.id}"}
    if name:
        ref["display"] = name
    return ref


def patient(p: CarePatient) -> dict[str, Any]:
    """A Patient (UK Core): NHS number, name, gender, birth date, registered GP practice."""
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(p.id),
        "meta": _meta("Patient"),
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": p.nhs_number}],
    }
    if p.given_name or p.family_name:
        name: dict[str, Any] = {"use": "official"}
        if p.family_name:
            name["family"] = p.family_name
        if p.given_name:
            name["given"] = [p.given_name]
        res["name"] = [name]
    if p.sex:
        res["gender"] = _GENDER.get(p.sex, "unknown")
    if p.birth_date:
        res["birthDate"] = p.birth_date.isoformat()
    if p.gp_practice:
        res["generalPractitioner"] = [
            {"type": "Organization", "identifier": {"system": ODS_SYSTEM, "value": p.gp_practice}}
        ]
    return res


def care_plan(r: CarePlanRecord, p: CarePatient) -> dict[str, Any]:
    """A CarePlan (UK Core): the joint health and social care plan."""
    res: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(r.id),
        "meta": _meta("CarePlan", r.version, r.updated_at),
        "status": r.status,
        "intent": "plan",
        "category": [{"text": PLAN_CATEGORY}],
        "subject": _subject(p),
    }
    if r.title:
        res["title"] = r.title
    period = {k: v.isoformat() for k, v in (("start", r.period_start), ("end", r.period_end)) if v}
    if period:
        res["period"] = period
    if r.review_due:
        res["extension"] = [{"url": REVIEW_DUE_URL, "valueDate": r.review_due.isoformat()}]
    return res


def care_team(r: CareTeamRecord, p: CarePatient) -> dict[str, Any]:
    """A CareTeam (UK Core); the lead professional's role carries :data:`LEAD_CODE`."""
    participants = []
    for m in r.members:
        roles: list[dict[str, Any]] = [{"text": m.role}]
        if m.lead:
            roles.append(
                {
                    "coding": [
                        {
                            "system": ROLE_SYSTEM,
                            "code": LEAD_CODE,
                            "display": "Accountable lead professional",
                        }
                    ]
                }
            )
        part: dict[str, Any] = {"role": roles, "member": {"display": m.name}}
        if m.organisation:
            part["onBehalfOf"] = {"display": m.organisation}
        period = {k: v.isoformat() for k, v in (("start", m.start_date), ("end", m.end_date)) if v}
        if period:
            part["period"] = period
        participants.append(part)
    res: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": str(r.id),
        "meta": _meta("CareTeam", r.version, r.updated_at),
        "status": "active",
        "subject": _subject(p),
    }
    if r.name:
        res["name"] = r.name
    if participants:
        res["participant"] = participants
    return res


def risk_assessment(r: CareRiskAssessment, p: CarePatient) -> dict[str, Any]:
    """A RiskAssessment: probability of an emergency admission in 12 months, tier, cohorts."""
    prediction: dict[str, Any] = {
        "outcome": {"text": RISK_OUTCOME},
        "probabilityDecimal": round(r.probability, 6),
    }
    if r.tier:
        prediction["qualitativeRisk"] = {"text": r.tier}
    res: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": str(r.id),
        "status": "final",
        "subject": _subject(p),
        "occurrenceDateTime": r.assessed_on.isoformat(),
        "method": {"text": r.model},
        "prediction": [prediction],
    }
    if r.cohorts:
        res["note"] = [{"text": "Cohorts: " + ", ".join(r.cohorts.split(","))}]
    return res


def bundle(
    base: str,
    query: str,
    entries: Sequence[dict[str, Any]],
    total: int,
    next_query: str | None = None,
) -> dict[str, Any]:
    """A searchset Bundle of ``entries`` (resources) found by ``query``."""
    links = [{"relation": "self", "url": f"{base}?{query}" if query else base}]
    if next_query is not None:
        links.append({"relation": "next", "url": f"{base}?{next_query}"})
    root = base.rsplit("/", 1)[0]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{root}/{e['resourceType']}/{e['id']}",
                "resource": e,
                "search": {"mode": "match"},
            }
            for e in entries
        ],
    }


# --- input ------------------------------------------------------------------------------

_MODELS: dict[str, type[CarePlan] | type[FhirCareTeam]] = {
    "CarePlan": CarePlan,
    "CareTeam": FhirCareTeam,
}


def _loc(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def parse(body: bytes, kind: str) -> dict[str, Any]:
    """The validated resource of ``kind`` in ``body`` as JSON data (400 when not valid)."""
    if len(body) > MAX_BODY:
        raise FhirError(413, "too-long", f"the body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except RecursionError:
        raise FhirError(
            400, "structure", "the body is nested too deeply to be a resource"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FhirError(400, "structure", f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise FhirError(400, "structure", f"the body is not a FHIR {kind} resource (a JSON object)")
    if data.get("resourceType") != kind:
        raise FhirError(
            400,
            "invalid",
            f"resourceType must be '{kind}', not {json.dumps(data.get('resourceType'))[:60]}",
            ["resourceType"],
        )
    try:
        model = _MODELS[kind].model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        issues = [
            ("structure", f"{_loc(e['loc']) or kind}: {e['msg']}", [f"{kind}.{_loc(e['loc'])}"])
            for e in errors[:20]
        ]
        code, diag, expr = issues[0]
        raise FhirError(
            400, code, f"not a valid FHIR R4 {kind}: {diag}", expr, issues[1:]
        ) from None
    except (ValueError, TypeError, RecursionError) as exc:  # fhir.resources, for some input
        raise FhirError(400, "structure", f"not a valid FHIR R4 {kind}: {exc}") from None
    result: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return result


def _date(value: Any, where: str) -> dt.date | None:
    """A FHIR date or dateTime as a date (its first 10 characters)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise FhirError(
            422, "value", f"{where} '{value}' is not a full date (YYYY-MM-DD)", [where]
        ) from None


def _domain(build: Any, kind: str) -> Any:
    try:
        return build()
    except CareRecordError as exc:
        raise FhirError(422, "business-rule", f"{kind}: {exc}", [f"{kind}.{exc.field}"]) from None


def plan_from(data: dict[str, Any]) -> JointCarePlan:
    """The register's plan of a validated CarePlan (422 when a register rule is broken)."""
    statuses = [s.value for s in CarePlanStatus]
    if data.get("status") not in statuses:
        raise FhirError(
            422,
            "business-rule",
            f"CarePlan.status '{data.get('status')}' is not "
            f"one the register keeps ({', '.join(statuses)})",
            ["CarePlan.status"],
        )
    if data.get("intent") != "plan":
        raise FhirError(
            422,
            "business-rule",
            "CarePlan.intent must be 'plan' (a joint care plan agreed with the person)",
            ["CarePlan.intent"],
        )
    period = data.get("period") or {}
    review = [e for e in data.get("extension") or [] if e.get("url") == REVIEW_DUE_URL]
    review_due = (
        _date(review[0].get("valueDate"), "CarePlan.extension(review-due)") if review else None
    )
    start = _date(period.get("start"), "CarePlan.period.start")
    end = _date(period.get("end"), "CarePlan.period.end")
    title = data.get("title")
    if title is not None and len(title) > 200:
        raise FhirError(
            422, "too-long", "CarePlan.title is longer than 200 characters", ["CarePlan.title"]
        )
    plan: JointCarePlan = _domain(
        lambda: JointCarePlan(CarePlanStatus(data["status"]), start, end, review_due, title),
        "CarePlan",
    )
    return plan


def _text(value: Any, where: str) -> str:
    text = str(value or "").strip()
    if len(text) > 200:
        raise FhirError(422, "too-long", f"{where} is longer than 200 characters", [where])
    return text


def team_from(data: dict[str, Any]) -> CareTeam:
    """The register's team of a validated CareTeam (422 when a register rule is broken)."""
    members = []
    for i, part in enumerate(data.get("participant") or []):
        where = f"CareTeam.participant[{i}]"
        roles = part.get("role") or []
        lead = any(
            c.get("system") == ROLE_SYSTEM and c.get("code") == LEAD_CODE
            for r in roles
            for c in r.get("coding") or []
        )
        role = next(
            (r.get("text") for r in roles if r.get("text")),
            next(
                (
                    c.get("display")
                    for r in roles
                    for c in r.get("coding") or []
                    if c.get("display") and c.get("code") != LEAD_CODE
                ),
                "",
            ),
        )
        member = part.get("member") or {}
        org = part.get("onBehalfOf") or {}
        org_name = org.get("display") or (org.get("identifier") or {}).get("value")
        period = part.get("period") or {}
        name = _text(member.get("display"), f"{where}.member.display")
        role_text = _text(role, f"{where}.role")
        org_text = _text(org_name, f"{where}.onBehalfOf") or None
        start = _date(period.get("start"), f"{where}.period.start")
        end = _date(period.get("end"), f"{where}.period.end")
        members.append(
            _domain(
                lambda n=name, r=role_text, o=org_text, ld=lead, s=start, e=end: CareTeamMember(
                    n, r, o, ld, s, e
                ),
                where.replace("CareTeam.", "CareTeam "),
            )
        )
    team_name = _text(data.get("name"), "CareTeam.name") or None
    team: CareTeam = _domain(lambda: CareTeam(tuple(members), team_name), "CareTeam")
    return team


def subject_of(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """The ``subject`` reference of a validated CarePlan or CareTeam (422 when absent)."""
    subject = data.get("subject")
    if not isinstance(subject, dict) or not (subject.get("reference") or subject.get("identifier")):
        raise FhirError(
            422,
            "business-rule",
            f"{kind}.subject must reference the Patient (Patient/<id> or an NHS number identifier)",
            [f"{kind}.subject"],
        )
    return subject
