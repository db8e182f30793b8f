"""Unplanned hospitalisation for chronic ambulatory care sensitive conditions.

Per 100,000 population (crude rate).

Specification: BCF 2023-25 metric on avoidable admissions (BCF policy framework 2023 to
2025, gov.uk/government/publications/better-care-fund-policy-framework-2023-to-2025),
which uses NHS Outcomes Framework indicator 2.3i: emergency admissions with a primary
diagnosis of a chronic condition that timely, effective care in the community should
keep out of hospital. The published indicator is an *indirectly standardised* rate; the
store holds no national age-sex reference rates, so the crude rate is reported.

* Numerator: spells with ``admission_method = 'non_elective'`` whose
  ``primary_diagnosis`` (dots removed) starts with a code of :data:`CHRONIC_ACSC`, all
  ages, in the period of ``admission_date``.
* Denominator: resident population, all ages (mid-year estimate; see ``base``).
* Not applied (not in the store): the indicator's procedure-based exclusions (e.g.
  angina or heart failure admissions with a cardiac procedure) and its COPD rule for
  acute bronchitis (J20) with a secondary COPD diagnosis.
* Exclusions: elective spells; people not in ``residents``.
* Direction: lower is better.

In national terms (HES/SUS+ APC): spells with admission method (``ADMIMETH``) other
than 11-13 whose primary diagnosis of the first episode (``DIAG_4_01``, e.g. ``J440``)
starts with a chronic ACSC code; denominator the ONS mid-year estimates, all ages.
"""

from __future__ import annotations

import ibis.expr.types as ir

from bettercare.analytics.metrics.base import (
    Context,
    MetricSpec,
    count_by_period,
    emergency,
    in_window,
    rate_output,
    with_hwb,
)

ID = "avoidable_admissions_acsc"

#: ICD-10 code prefixes (no dot) of the chronic ACSC groups of NHS Outcomes Framework
#: 2.3i, as we understand its specification (the code list could not be checked against
#: the indicator's own document; the groups are the published ones).
CHRONIC_ACSC: dict[str, tuple[str, ...]] = {
    "angina": ("I20", "I240", "I248", "I249", "I25", "Z034"),
    "asthma": ("J45", "J46"),
    "congestive heart failure": ("I110", "I130", "I50", "J81"),
    "convulsions and epilepsy": ("G253", "G40", "G41", "O15", "R56"),
    "COPD": ("J41", "J42", "J43", "J44", "J47"),
    "dementia": ("F00", "F01", "F02", "F03", "G30", "G31"),
    "diabetes complications": tuple(
        f"E1{t}{c}" for t in "01234" for c in "012345678"
    ),  # E10-E14 .0-.8 (not .9, without complications)
    "hypertension": ("I10", "I119"),
    "iron deficiency anaemia": ("D501", "D508", "D509"),
    "nutritional deficiencies": ("E40", "E41", "E42", "E43", "E550", "E643"),
    "atrial fibrillation and flutter": ("I48",),
}


def is_chronic_acsc(diagnosis: ir.StringValue) -> ir.BooleanValue:
    """True when an ICD-10 code (``J44.1``, ``I48X``, ``E119``) is a chronic ACSC."""
    code = diagnosis.replace(".", "").upper()
    prefixes = [p for group in CHRONIC_ACSC.values() for p in group]
    cond = code.startswith(prefixes[0])
    for p in prefixes[1:]:
        cond |= code.startswith(p)
    return cond


def build(ctx: Context) -> ir.Table:
    """Emergency admissions for chronic ACSC per 100,000 (all ages), per HWB and period."""
    s = ctx.table("hospital_spells")
    s = s.filter(
        emergency(s),
        is_chronic_acsc(s.primary_diagnosis),
        in_window(ctx, s.admission_date),
    )
    counts = count_by_period(with_hwb(ctx, s), "admission_date", ctx.grain)
    return rate_output(ctx, ID, counts, "all ages", 100_000.0)


SPEC = MetricSpec(
    id=ID,
    tables=("hospital_spells", "residents", "population"),
    build=build,
    population_base="all ages",
    zero_fill=True,
)
