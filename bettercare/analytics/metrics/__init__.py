"""BCF metric definitions, one module per metric, each keyed by its catalogue id.

See :mod:`bettercare.analytics.metrics.base` for the shared conventions (periods, ages,
HWB attribution, population denominators).
"""

from __future__ import annotations

from bettercare.analytics.metrics import (
    avoidable_admissions_acsc,
    delayed_transfers_of_care,
    dementia_diagnosis_rate,
    discharge_delay_days,
    discharge_usual_residence,
    emergency_admissions_65,
    falls_65,
    falls_65_dsr,
    long_term_admissions_care_homes_65,
    non_elective_admissions,
    patient_experience,
    permanent_admissions_care_homes_65,
    reablement_91_days,
)
from bettercare.analytics.metrics.base import (
    GRAINS,
    OUTPUT_COLUMNS,
    Context,
    MetricDataError,
    MetricSpec,
)

SPECS: dict[str, MetricSpec] = {
    m.SPEC.id: m.SPEC
    for m in (
        non_elective_admissions,
        delayed_transfers_of_care,
        permanent_admissions_care_homes_65,
        reablement_91_days,
        patient_experience,
        falls_65,
        dementia_diagnosis_rate,
        # BCF 2025-26 headline metrics
        emergency_admissions_65,
        discharge_delay_days,
        long_term_admissions_care_homes_65,
        # BCF 2023-25 metrics
        avoidable_admissions_acsc,
        falls_65_dsr,
        discharge_usual_residence,
    )
}

__all__ = ["GRAINS", "OUTPUT_COLUMNS", "SPECS", "Context", "MetricDataError", "MetricSpec"]
