"""BCF metric definitions, one module per metric, each keyed by its catalogue id.

See :mod:`bettercare.analytics.metrics.base` for the shared conventions (periods, ages,
HWB attribution, population denominators).
"""

from __future__ import annotations

from bettercare.analytics.metrics import (
    delayed_transfers_of_care,
    dementia_diagnosis_rate,
    falls_65,
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
    )
}

__all__ = ["GRAINS", "OUTPUT_COLUMNS", "SPECS", "Context", "MetricDataError", "MetricSpec"]
