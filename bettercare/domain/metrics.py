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
            specification="BCF 2014/15 planning template, NHS Outcomes Framework 2.3i + 2.3ii",
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
            specification="BCF Technical Guidance metric 4; ASCOF 2C(1) (Delayed Transfers SitRep)",
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
    ]
}


def get_metric(metric_id: str) -> MetricDefinition:
    """The catalogue entry for ``metric_id``; ``KeyError`` lists the known ids."""
    try:
        return CATALOGUE[metric_id]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise KeyError(f"unknown metric '{metric_id}' (known: {known})") from None
