"""FHIR errors: an OperationOutcome with the right 4xx status for every refused request.

http://hl7.org/fhir/R4/operationoutcome.html; issue codes from the IssueType value set
(http://hl7.org/fhir/R4/valueset-issue-type.html): ``invalid``, ``structure``,
``required``, ``value``, ``business-rule``, ``not-found``, ``conflict``, ``security``,
``login``, ``forbidden``, ``not-supported``, ``too-long``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from bettercare.services.fhir_resources import FhirError

__all__ = ["FHIR_JSON", "FhirError", "FhirResponse", "csrf_response", "denied_response"]

FHIR_JSON = "application/fhir+json"


class FhirResponse(JSONResponse):
    """JSON with the FHIR media type."""

    media_type = FHIR_JSON


def outcome(
    code: str,
    diagnostics: str,
    expression: Sequence[str] = (),
    severity: str = "error",
    more: Sequence[tuple[str, str, Sequence[str]]] = (),
) -> dict[str, Any]:
    """An OperationOutcome resource (dict) with one or more issues."""
    issues = []
    for c, d, e in ((code, diagnostics, expression), *more):
        issue: dict[str, Any] = {"severity": severity, "code": c, "diagnostics": d}
        if e:
            issue["expression"] = list(e)
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


def error_response(exc: FhirError, headers: dict[str, str] | None = None) -> FhirResponse:
    """The response for a :class:`FhirError`."""
    body = outcome(exc.code, exc.diagnostics, exc.expression, more=exc.issues)
    return FhirResponse(body, status_code=exc.status, headers=headers)


def denied_response(status: int) -> FhirResponse:
    """401 (sign in: session cookie or ``Authorization: Bearer``) or 403 (role or HWB)."""
    if status == 401:
        return FhirResponse(
            outcome(
                "login",
                "authentication required: sign in or send a bearer token from POST /auth/token",
            ),
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="bettercare"'},
        )
    return FhirResponse(
        outcome(
            "forbidden",
            "not allowed: patient-level resources are for the care coordinators of the "
            "patient's Health and Wellbeing Board (direct care only); the attempt has "
            "been recorded",
        ),
        status_code=403,
    )


def csrf_response() -> FhirResponse:
    """403 for an unsafe cookie-authenticated request without the session's CSRF token."""
    return FhirResponse(
        outcome(
            "security",
            "CSRF token missing or invalid: send application/fhir+json or use a bearer token",
        ),
        status_code=403,
    )
