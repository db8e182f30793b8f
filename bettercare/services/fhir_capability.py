"""The server's CapabilityStatement (``GET /fhir/metadata``, public).

http://hl7.org/fhir/R4/capabilitystatement.html: what the API does, in FHIR's own terms,
so a client can discover the resources, interactions and search parameters.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from bettercare import __version__
from bettercare.services.fhir_resources import PROFILES

FHIR_VERSION = "4.0.1"

#: Search parameters per resource type: name -> (type, documentation).
SEARCH: dict[str, dict[str, tuple[str, str]]] = {
    "Patient": {
        "_id": ("token", "The patient's id"),
        "identifier": ("token", "NHS number: https://fhir.nhs.uk/Id/nhs-number|<10 digits>"),
        "general-practitioner": (
            "reference",
            "Registered GP practice: ODS code or Organization/<ODS code>",
        ),
        "organization": ("reference", "Same as general-practitioner (the GP practice)"),
    },
    "CarePlan": {
        "_id": ("token", "The care plan's id"),
        "patient": ("reference", "Patient/<id> or <id>"),
        "subject": ("reference", "Patient/<id> or <id>"),
        "status": ("token", "draft | active | on-hold | completed"),
        "patient.general-practitioner": ("reference", "The patients' GP practice (ODS code)"),
    },
    "CareTeam": {
        "_id": ("token", "The care team's id"),
        "patient": ("reference", "Patient/<id> or <id>"),
        "subject": ("reference", "Patient/<id> or <id>"),
        "patient.general-practitioner": ("reference", "The patients' GP practice (ODS code)"),
    },
    "RiskAssessment": {
        "_id": ("token", "The risk assessment's id"),
        "patient": ("reference", "Patient/<id> or <id>"),
        "subject": ("reference", "Patient/<id> or <id>"),
        "patient.general-practitioner": ("reference", "The patients' GP practice (ODS code)"),
    },
}
WRITABLE = frozenset({"CarePlan", "CareTeam"})
COMMON = {
    "_count": ("number", "Page size (1-1000, default 100)"),
    "_offset": ("number", "Entries to skip (paging)"),
}


def capability_statement(base: str) -> dict[str, Any]:
    """The CapabilityStatement of this server at ``base`` (validated with fhir.resources)."""
    resources = []
    for kind, params in SEARCH.items():
        interactions = ["read", "search-type"] + (["create", "update"] if kind in WRITABLE else [])
        entry: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": c} for c in interactions],
            "versioning": "versioned" if kind in WRITABLE else "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {"name": n, "type": t, "documentation": d}
                for n, (t, d) in {**params, **COMMON}.items()
            ],
        }
        if kind in PROFILES:
            entry["profile"] = PROFILES[kind]
        if kind in WRITABLE:
            entry["conditionalUpdate"] = False
        if kind == "Patient":  # one person's journey: app/fhir/everything.py
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "The person's journey across services. Parameters "
                    "start and end (YYYY, YYYY-MM or YYYY-MM-DD) keep the records whose care "
                    "overlaps the range; any other parameter is refused (400).",
                }
            ]
        resources.append(entry)
    data = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-27",
        "publisher": "bettercare",
        "kind": "instance",
        "software": {"name": "bettercare", "version": __version__},
        "implementation": {
            "description": "Better Care Fund care coordination register (direct care only)",
            "url": base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Patient-level resources are for direct care: only the care "
                "coordinators of the patient's Health and Wellbeing Board may read or write "
                "them, and every access is audit-logged.",
                "security": {
                    "cors": False,
                    "description": "Session cookie (sign in at /login) or a bearer token "
                    "from POST /auth/token (Authorization: Bearer <token>).",
                },
                "resource": resources,
            }
        ],
    }
    validated = CapabilityStatement.model_validate(data)
    out: dict[str, Any] = validated.model_dump(mode="json", exclude_none=True)
    return out
