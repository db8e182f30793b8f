"""The BCF metric catalogue: what each national and local metric means.

Each entry cites the specification it follows (BCF planning guidance 2014/15 and
2015/16 Technical Guidance annex, ASCOF / NHS Outcomes Framework / PHOF indicator
numbers). The *computation* of each metric from linked person-level data lives in
``bettercare.analytics.metrics`` (one module per metric, keyed by the same ``id``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Direction(StrEnum):
    """Whether a lower or a higher value of a metric is an improvement."""

    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"


class Unit(StrEnum):
    """How a metric's value is expressed (rate per 100,000, percent, count, ...)."""

    PER_100K = "per_100k"
    PERCENT = "percent"
    COUNT = "count"
    RATE = "rate"
    SCORE = "score"


class MetricDefinition(BaseModel):
    """A catalogue entry: what a metric counts, over whom, and its specification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    unit: Unit
    direction: Direction
    national: bool
    numerator: str
    denominator: str
    population_base: str
    specification: str


CATALOGUE: dict[str, MetricDefinition] = {
    m.id: m
    for m in [
        MetricDefinition(
            id="non_elective_admissions",
            name="Total non-elective admissions into hospital (general and acute)",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator="Non-elective (emergency) admissions, all ages, general and acute",
            denominator="Resident population, all ages (ONS mid-year estimate)",
            population_base="all ages",
            specification=(
                "BCF 2015/16 Technical Guidance, metric 1 (non-elective admissions, "
                "MAR/SUS); basis of the payment-for-performance element"
            ),
        ),
        MetricDefinition(
            id="avoidable_emergency_admissions",
            name="Avoidable emergency admissions (composite measure)",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator=(
                "Emergency admissions for ambulatory care sensitive conditions and acute "
                "conditions that should not usually require admission"
            ),
            denominator="Resident population, all ages (ONS mid-year estimate)",
            population_base="all ages",
            # The composite sums four NHS Outcomes Framework indicators, not two: 2.3i
            # (chronic ACSC, all ages) and 3a (acute conditions that should not usually
            # need admission) as tabulated in BMJ Qual Saf (qualitysafety.bmj.com, "NHS
            # Outcomes Framework indicator ... 3a ... 2.3.i"), with 2.3ii (asthma,
            # diabetes, epilepsy in under-19s) and 3.2 (lower respiratory tract infection
            # in children): the last two are not confirmed from a source read here.
            specification=(
                "BCF 2014/15 planning template (before the July 2014 revision): composite "
                "of NHS Outcomes Framework 2.3i, 2.3ii, 3a and 3.2 (2.3ii and 3.2 "
                "unconfirmed here)"
            ),
        ),
        MetricDefinition(
            id="delayed_transfers_of_care",
            name="Delayed transfers of care (delayed days) from hospital",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator="Delayed days, patients 18+, all attributions (NHS, social care, both)",
            denominator="Resident population aged 18+ (ONS mid-year estimate)",
            population_base="18+",
            # Delayed *days*: the monthly DToC SitRep's total delayed days for all patients
            # in the month (LG Inform metric 3632, "Delayed days during the month, all,
            # per 100,000 population aged 18+"). ASCOF 2C(1) is not this metric: it is the
            # average number of delayed transfers (patients) on a particular day (LG
            # Inform metric 10764 for its part 2; NHS Digital ASCOF 2C indicator file).
            specification=(
                "BCF Technical Guidance metric 4: total delayed days in the month, all "
                "patients 18+ (Monthly Delayed Transfers of Care SitRep, MSitDT), per "
                "100,000 population 18+; not ASCOF 2C(1), which counts delayed patients "
                "on a day. The SitRep ended in February 2020"
            ),
        ),
        MetricDefinition(
            id="permanent_admissions_care_homes_65",
            name="Permanent admissions of older people (65+) to residential and nursing care homes",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator="Council-supported permanent admissions to residential or nursing care, 65+",
            denominator="Resident population aged 65+ (ONS mid-year estimate)",
            population_base="65+",
            specification="BCF Technical Guidance metric 2; ASCOF 2A(2) (SALT LTS001b)",
        ),
        MetricDefinition(
            id="reablement_91_days",
            name=(
                "Proportion of older people (65+) still at home 91 days after discharge "
                "from hospital into reablement / rehabilitation services"
            ),
            unit=Unit.PERCENT,
            direction=Direction.HIGHER_IS_BETTER,
            national=True,
            numerator="People 65+ discharged into reablement who are at home 91 days later",
            denominator="People 65+ discharged from hospital into reablement in Oct-Dec",
            population_base="65+ discharged into reablement",
            specification="BCF Technical Guidance metric 3; ASCOF 2B(1)",
        ),
        MetricDefinition(
            id="patient_experience",
            name="Patient / service user experience",
            unit=Unit.PERCENT,
            direction=Direction.HIGHER_IS_BETTER,
            national=True,
            numerator="Survey respondents giving a positive answer",
            denominator="Survey respondents answering the question",
            population_base="survey respondents",
            specification=(
                "BCF Technical Guidance metric 5 (local choice, e.g. GP Patient Survey or "
                "ASCOF 3A/3D user survey)"
            ),
        ),
        MetricDefinition(
            id="falls_65",
            name="Emergency admissions due to falls, people aged 65+",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=False,
            numerator="Emergency admissions of people 65+ with an injury due to a fall",
            denominator="Resident population aged 65+ (ONS mid-year estimate)",
            population_base="65+",
            specification="Local metric; PHOF 2.24 (injuries due to falls in people aged 65+)",
        ),
        MetricDefinition(
            id="dementia_diagnosis_rate",
            name="Estimated diagnosis rate for people with dementia",
            unit=Unit.PERCENT,
            direction=Direction.HIGHER_IS_BETTER,
            national=False,
            numerator="People on GP dementia registers (QOF)",
            denominator="Estimated prevalence of dementia in the population 65+",
            population_base="65+",
            specification="Local metric; NHS Outcomes Framework 2.6i",
        ),
        # --- BCF 2025-26 headline metrics -----------------------------------------
        # Policy framework: https://www.gov.uk/government/publications/
        # better-care-fund-policy-framework-2025-to-2026 (30 January 2025), read with
        # the BCF planning requirements 2025 to 2026 (NHS England). The framework page
        # names the objectives the metrics serve (avoidable admissions, timely discharge,
        # fewer long-term care home admissions); the exact metric wording below follows
        # the planning requirements as we understand them and could not be confirmed
        # against the planning requirements text itself (not in our reference corpus).
        MetricDefinition(
            id="emergency_admissions_65",
            name="Emergency admissions to hospital for people aged 65+",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator="Emergency (non-elective) admissions of people aged 65+ at admission",
            denominator="Resident population aged 65+ (ONS mid-year estimate)",
            population_base="65+",
            specification=(
                "BCF 2025-26 headline metric (avoidable admissions), BCF policy framework "
                "2025 to 2026, gov.uk/government/publications/better-care-fund-policy-"
                "framework-2025-to-2026; source SUS+ admitted patient care. Not confirmed: "
                "any exclusion (e.g. zero-length-of-stay admissions) in the planning "
                "requirements; none applied"
            ),
        ),
        MetricDefinition(
            id="discharge_delay_days",
            name="Average length of discharge delay for adult acute patients (days)",
            unit=Unit.RATE,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator=(
                "Sum over discharges of adults (18+) from acute hospital of the days from "
                "the discharge ready date to the discharge date (0 when discharged on the "
                "discharge ready date)"
            ),
            denominator="Adult (18+) acute hospital discharges with a discharge ready date",
            population_base="adult acute discharges with a discharge ready date",
            specification=(
                "BCF 2025-26 headline metric (timely discharge), BCF policy framework 2025 "
                "to 2026; built from the two Discharge Ready Date measures: the proportion "
                "of adult acute patients discharged on their discharge ready date and, for "
                "those not, the average days from discharge ready date to discharge. Their "
                "product is the average delay over all discharges. Discharge Ready Date: "
                "NHS England, 'New Discharge Ready Date' (PRN00603_i), "
                "england.nhs.uk/long-read/new-discharge-ready-date/ (time between no "
                "longer meeting the criteria to reside and actual discharge). The exact "
                "combination used in the 2025-26 template is not confirmed"
            ),
        ),
        MetricDefinition(
            id="long_term_admissions_care_homes_65",
            name="Long-term admissions to residential and nursing care homes, people aged 65+",
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator=(
                "Council-supported long-term (permanent) admissions to residential or "
                "nursing care, people aged 65+ (same measure as "
                "permanent_admissions_care_homes_65)"
            ),
            denominator="Resident population aged 65+ (ONS mid-year estimate)",
            population_base="65+",
            specification=(
                "BCF 2025-26 headline metric (fewer long-term care home admissions), BCF "
                "policy framework 2025 to 2026; the ASCOF 2A(2) measure (long-term support "
                "needs of older adults met by admission to residential and nursing care "
                "homes per 100,000), i.e. the same definition as "
                "permanent_admissions_care_homes_65. Source in 2025-26 (adult social care "
                "client level data vs SALT) not confirmed"
            ),
        ),
        # --- BCF 2023-25 metrics -------------------------------------------------
        # Policy framework: https://www.gov.uk/government/publications/
        # better-care-fund-policy-framework-2023-to-2025 ("sets the national conditions,
        # metrics and funding arrangements ... 2023 to 2024 and 2024 to 2025"); details
        # from the BCF planning requirements 2023-25 and its metrics handbook (NHS
        # England), which are not in our reference corpus: unconfirmed details noted.
        MetricDefinition(
            id="avoidable_admissions_acsc",
            name=("Unplanned hospitalisation for chronic ambulatory care sensitive conditions"),
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator=(
                "Emergency admissions, all ages, with a primary diagnosis of a chronic "
                "ambulatory care sensitive condition"
            ),
            denominator="Resident population, all ages (ONS mid-year estimate)",
            population_base="all ages",
            specification=(
                "BCF 2023-25 metric (avoidable admissions), BCF policy framework 2023 to "
                "2025; NHS Outcomes Framework 2.3i. The published indicator is an "
                "indirectly standardised rate; bettercare reports the crude rate per "
                "100,000 (no national age-sex reference rates held)"
            ),
        ),
        MetricDefinition(
            id="falls_65_dsr",
            name=(
                "Emergency hospital admissions due to falls in people aged 65+ "
                "(directly age-standardised)"
            ),
            unit=Unit.PER_100K,
            direction=Direction.LOWER_IS_BETTER,
            national=True,
            numerator="Emergency admissions of people 65+ with an injury due to a fall",
            denominator=(
                "Resident population aged 65+ by five-year age band (65-69 ... 90+), "
                "weighted by the 2013 European Standard Population"
            ),
            population_base="65+",
            specification=(
                "BCF 2023-25 metric (falls), BCF policy framework 2023 to 2025; OHID "
                "Public Health Outcomes Framework indicator C29 / 2.24i (22401), directly "
                "age-standardised rate per 100,000 using the 2013 European Standard "
                "Population (Eurostat, 'Revision of the European Standard Population', "
                "2013 edition): weights 65-69 5,500; 70-74 5,000; 75-79 4,000; 80-84 "
                "2,500; 85-89 1,500; 90+ 1,000 (see also lincolnshire.ckan.io dataset "
                "emergency-hospital-admissions-for-falls-age-65-and-over)"
            ),
        ),
        MetricDefinition(
            id="discharge_usual_residence",
            name="Discharges to the person's usual place of residence",
            unit=Unit.PERCENT,
            direction=Direction.HIGHER_IS_BETTER,
            national=True,
            numerator="Discharges from acute hospital to the person's usual place of residence",
            denominator="Discharges from acute hospital (excluding deaths)",
            population_base="acute hospital discharges",
            specification=(
                "BCF 2023-25 metric (discharge to normal place of residence), BCF policy "
                "framework 2023 to 2025; SUS discharge destination 19 (usual place of "
                "residence). Not confirmed: the handbook's age restriction and exclusions; "
                "bettercare uses all ages, excluding spells ending in death"
            ),
        ),
    ]
}


def get_metric(metric_id: str) -> MetricDefinition:
    """The catalogue entry for ``metric_id``; ``KeyError`` lists the known ids."""
    try:
        return CATALOGUE[metric_id]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise KeyError(f"unknown metric '{metric_id}' (known: {known})") from None
