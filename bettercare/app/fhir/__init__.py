"""The FHIR R4 API at ``/fhir``: Patient, CarePlan, CareTeam, RiskAssessment.

Owns the API's routes (:mod:`.router`), the mapping between the care coordination
register and FHIR resources, validated with ``fhir.resources.R4B`` (:mod:`.resources`),
the CapabilityStatement (:mod:`.capability`) and OperationOutcome errors
(:mod:`.errors`). Security is the app's: only care coordinators of the patient's Health
and Wellbeing Board see or change patient-level resources, and every access, allowed or
refused, is written to the audit log. JSON only (``application/fhir+json``).
"""
