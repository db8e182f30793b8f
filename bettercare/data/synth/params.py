"""Parameters of the synthetic population: validated, loadable from JSON or YAML.

A :class:`SynthParams` document fixes everything the generator needs except the run
options (seed, years, output directory). Named presets per Health and Wellbeing Board
live in :mod:`bettercare.data.synth.presets`; a parameters *file* is deep-merged over a
preset, so a file may override a single rate::

    event_rates:
      non_elective_per_100k_per_month: 800

Every rate is a *population mean*; the generator redistributes it over people with
the log-linear model described in :mod:`bettercare.data.synth.risk`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

# re-exported: the generator's parameters are read by the shared parameter-file reader
from bettercare.data.param_files import ParamsError as ParamsError
from bettercare.data.param_files import format_validation_error as format_validation_error
from bettercare.data.schema import AGE_BANDS, DTOC_REASON, HWB_CODE
from bettercare.domain.plan import Plan

Share = Annotated[float, Field(ge=0, le=1)]
PositiveRate = Annotated[float, Field(gt=0)]
RateRatio = Annotated[float, Field(gt=0, le=20)]

BANDS_65 = AGE_BANDS[AGE_BANDS.index("65-69") :]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_bands(value: dict[str, float], bands: tuple[str, ...], what: str) -> dict[str, float]:
    unknown = sorted(set(value) - set(bands))
    if unknown:
        raise ValueError(f"{what}: unknown age band(s) {unknown}; use {list(bands)}")
    missing = [b for b in bands if b not in value]
    if missing:
        raise ValueError(f"{what}: missing age band(s) {missing}")
    if any(v < 0 for v in value.values()):
        raise ValueError(f"{what}: values must be >= 0")
    return {b: float(value[b]) for b in bands}


class AgeSexStructure(_Model):
    """Relative size of each age band by sex (counts or percentages; normalised)."""

    male: dict[str, float]
    female: dict[str, float]

    @field_validator("male", "female")
    @classmethod
    def _bands(cls, v: dict[str, float]) -> dict[str, float]:
        v = _check_bands(v, AGE_BANDS, "age band weights")
        if sum(v.values()) <= 0:
            raise ValueError("age band weights must not all be zero")
        return v


class Area(_Model):
    """The HWB footprint: codes and the geography residents are placed in."""

    name: str = Field(min_length=1)
    hwb_code: str = Field(pattern=HWB_CODE, description="ONS code of the HWB area, e.g. E06000016")
    population: int = Field(ge=100, le=8_000_000, description="Residents at the first 1 April")
    postcode_districts: list[Annotated[str, Field(pattern=r"^[A-Z]{1,2}\d[A-Z\d]?$")]] = Field(
        min_length=1
    )
    gp_practice_prefix: str = Field(pattern=r"^[A-Z]\d{2}$", description="e.g. C82 (Leicester)")
    provider_codes: list[Annotated[str, Field(pattern=r"^[A-Z0-9]{3,5}$")]] = Field(min_length=1)
    lsoa_start: int = Field(
        ge=0, le=999_000, description="First synthetic LSOA number (E01 + 6 digits)"
    )
    imd_decile_shares: list[Annotated[float, Field(ge=0)]] = Field(
        min_length=10,
        max_length=10,
        description="Share of LSOAs in IMD deciles 1 (most deprived) to 10",
    )
    residents_per_lsoa: int = Field(1600, ge=200, le=5000)
    residents_per_practice: int = Field(7000, ge=500, le=50_000)

    @field_validator("imd_decile_shares")
    @classmethod
    def _some_decile(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("imd_decile_shares must not all be zero")
        return v


class Demography(_Model):
    """The area's age-sex structure, births and mortality by age."""

    age_sex: AgeSexStructure
    births_per_1000_per_year: float = Field(12.0, ge=0, le=40)
    mortality_per_1000_by_age: dict[str, float]
    male_mortality_rr: RateRatio = 1.25
    ltc_mean_by_age: dict[str, float] = Field(
        description="Mean number of long-term conditions per person (Poisson) by age band"
    )
    ltc_imd_rr: RateRatio = Field(1.05, description="LTC mean ratio per decile more deprived")
    dementia_prevalence_by_age: dict[str, Share] = Field(description="65+ bands only")
    dementia_diagnosis_rate: Share

    @field_validator("mortality_per_1000_by_age")
    @classmethod
    def _mort(cls, v: dict[str, float]) -> dict[str, float]:
        v = _check_bands(v, AGE_BANDS, "mortality_per_1000_by_age")
        if any(x > 1000 for x in v.values()):
            raise ValueError("mortality_per_1000_by_age: values must be <= 1000")
        return v

    @field_validator("ltc_mean_by_age")
    @classmethod
    def _ltc(cls, v: dict[str, float]) -> dict[str, float]:
        v = _check_bands(v, AGE_BANDS, "ltc_mean_by_age")
        if any(x > 10 for x in v.values()):
            raise ValueError("ltc_mean_by_age: values must be <= 10")
        return v

    @field_validator("dementia_prevalence_by_age")
    @classmethod
    def _dem(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_bands(v, BANDS_65, "dementia_prevalence_by_age")


class EventRisk(_Model):
    """Log-linear rate ratios: rate = base(age band) x ltc_rr^LTC x imd_rr^(10-decile) x ..."""

    ltc_rr: RateRatio = Field(description="Rate ratio per long-term condition")
    imd_rr: RateRatio = Field(description="Rate ratio per IMD decile more deprived")
    dementia_rr: RateRatio = 1.0
    age_relative: dict[str, float] = Field(
        description="Relative mean rate by age band (bands absent from the dict: not eligible)"
    )

    @field_validator("age_relative")
    @classmethod
    def _age(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(AGE_BANDS))
        if unknown:
            raise ValueError(f"age_relative: unknown age band(s) {unknown}")
        if any(x < 0 for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError("age_relative: values must be >= 0 and not all zero")
        return {b: float(v[b]) for b in AGE_BANDS if b in v}


class RiskModel(_Model):
    """Person-level risk: frailty spread and rate ratios for each kind of event."""

    frailty_shape: float = Field(
        2.0, gt=0, le=1000, description="Gamma frailty shape (mean 1); larger = less overdispersion"
    )
    non_elective: EventRisk
    elective: EventRisk
    falls: EventRisk
    permanent_admission: EventRisk
    social_care: EventRisk
    mortality_ltc_rr: RateRatio = 1.25
    mortality_imd_rr: RateRatio = 1.04
    mortality_dementia_rr: RateRatio = 2.5


class EventRates(_Model):
    """Area-level event rates the generator calibrates to (per 100,000 or shares)."""

    non_elective_per_100k_per_month: PositiveRate
    elective_per_100k_per_year: PositiveRate
    falls_65_per_100k_per_month: PositiveRate
    permanent_admissions_65_per_100k_per_year: PositiveRate
    permanent_from_hospital_share: Share = Field(
        0.4, description="Share of permanent care home admissions made on hospital discharge"
    )
    dtoc_days_per_100k_18_per_month: float = Field(ge=0)
    dtoc_mean_days_per_delay: float = Field(12.0, ge=1, le=120)
    reablement_share_of_65_discharges: Share
    reablement_at_home_91_days: Share
    social_care_episodes_per_1000_18_per_year: PositiveRate
    survey_response_share_per_year: Share = Field(
        description="Share of adults with a long-term condition answering the GP Patient Survey"
    )
    survey_positive_share: Share
    in_hospital_death_share: Share = 0.45
    dtoc_reason_weights: dict[str, float] | None = None

    @field_validator("dtoc_reason_weights")
    @classmethod
    def _reasons(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        unknown = sorted(set(v) - set(DTOC_REASON))
        if unknown:
            raise ValueError(f"unknown DToC reason(s) {unknown}; use {list(DTOC_REASON)}")
        if any(x < 0 for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError("dtoc_reason_weights must be >= 0 and not all zero")
        return v


class Noise(_Model):
    """Identifier quality of the council social care feed (shares of council clients).

    The identifier error model (for robust linkage); each share is drawn independently
    per client record.
    Anchors from published English linkage-quality studies, the rest assumed (marked):

    * NHS number missing 15%, mistyped 2%: assumed, in line with councils' reported NHS
      number completeness of roughly 85-95% before client-level data collection.
    * Date of birth wrong or missing in 0.11% of HES records against the PDS (Harron et
      al. 2017, BMC Med Res Methodol 17:23); council records are keyed by hand, so
      higher here (assumed 1-3% error, 0.5-2% missing).
    * Postcode disagreeing or missing in 53% of HES records against the PDS for children
      and young adults (Harron et al. 2017); older adults move far less: assumed 8-10%
      changed, 2-5% missing.
    * Names: typos, OCR-like misreads, nicknames, a different recorded given name and
      swapped given/family names are assumed (a few per cent, name swaps ~1%); HESID
      linkage by exact identifiers misses 4.1% of true matches (Hagger-Johnson et al.
      2015, BMJ Open 5:e008118), which bounds how often identifiers disagree.
    * Duplicate client records (a second record for the same person in the council
      system, with its own errors): assumed 1-8%.

    The defaults keep the demo data's calibration (the extra kinds are off);
    :data:`NOISE_LEVELS` names three levels for the linkage benchmark.
    """

    missing_nhs_number: Share = 0.15
    mistyped_nhs_number: Share = 0.02
    name_typo: Share = Field(0.05, description="One keying error in a name")
    ocr_error: Share = Field(
        0.0, description="An OCR-like misreading in a name (rn/m, cl/d, e/c, ...)"
    )
    name_variant: Share = Field(
        0.05, description="Given name recorded as a common variant (Bill/William), if it has one"
    )
    given_name_different: Share = Field(
        0.0, description="Another given name recorded (a middle or known-as name)"
    )
    name_swap: Share = Field(0.0, description="Given and family names swapped")
    upper_case_names: Share = Field(0.1, description="Names keyed in capitals")
    dob_error: Share = Field(
        0.03, description="Day/month swapped, off by a day or the year mis-keyed"
    )
    dob_missing: Share = Field(0.0, description="No date of birth recorded")
    postcode_change: Share = Field(0.08, description="An older or newer address (a move)")
    postcode_missing: Share = 0.02
    postcode_not_uk: Share = Field(
        0.0, description="A postcode that is not UK-shaped (e.g. 'NFA', an overseas code)"
    )
    duplicate_client: Share = Field(
        0.0,
        description="A second client record for the person, with its own errors; about "
        "half of the person's services are recorded under it",
    )

    @model_validator(mode="after")
    def _nhs_shares(self) -> Noise:
        if self.missing_nhs_number + self.mistyped_nhs_number > 1:
            raise ValueError("missing_nhs_number + mistyped_nhs_number must be <= 1")
        return self


NOISE_LEVELS: dict[str, Noise] = {
    "low": Noise.model_validate(
        {
            "name_typo": 0.02,
            "ocr_error": 0.0,
            "name_variant": 0.02,
            "given_name_different": 0.01,
            "name_swap": 0.002,
            "dob_error": 0.01,
            "dob_missing": 0.005,
            "postcode_change": 0.03,
            "postcode_missing": 0.01,
            "duplicate_client": 0.01,
        }
    ),
    "realistic": Noise.model_validate(
        {
            "name_typo": 0.05,
            "ocr_error": 0.01,
            "name_variant": 0.05,
            "given_name_different": 0.03,
            "name_swap": 0.01,
            "dob_error": 0.03,
            "dob_missing": 0.02,
            "postcode_change": 0.10,
            "postcode_missing": 0.05,
            "postcode_not_uk": 0.002,
            "duplicate_client": 0.03,
        }
    ),
    "high": Noise.model_validate(
        {
            "name_typo": 0.12,
            "ocr_error": 0.03,
            "name_variant": 0.10,
            "given_name_different": 0.06,
            "name_swap": 0.03,
            "dob_error": 0.08,
            "dob_missing": 0.08,
            "postcode_change": 0.25,
            "postcode_missing": 0.15,
            "postcode_not_uk": 0.005,
            "duplicate_client": 0.08,
        }
    ),
}


class SchemeTarget(_Model):
    """A BCF scheme and the admissions it is to avoid per year."""

    reference: str = Field(min_length=1)
    admissions_avoided_per_year: float = Field(ge=0, le=1_000_000)


class SynthParams(_Model):
    """Everything the generator needs, apart from seed and years."""

    area: Area
    demography: Demography
    event_rates: EventRates
    risk: RiskModel
    noise: Noise = Noise()
    opt_out_share: Share = Field(0.025, description="National data opt-out, ~2-3% in 2018-19")
    schemes: list[SchemeTarget] = Field(default_factory=list)

    def with_plan_schemes(self, plan: Plan) -> SynthParams:
        """Scheme activity for the plan's own schemes.

        Each scheme's stated admissions avoided per year (the mean where it states several
        years).
        """
        targets = []
        for scheme in plan.schemes:
            stated = [n for n in scheme.admissions_avoided.values() if n is not None]
            if stated:
                targets.append(
                    {
                        "reference": scheme.reference,
                        "admissions_avoided_per_year": sum(stated) / len(stated),
                    }
                )
        data = self.model_dump()
        data["schemes"] = targets
        return SynthParams.model_validate(data)

    def with_population(self, population: int) -> SynthParams:
        """These parameters for an area of ``population`` residents."""
        data = self.model_dump()
        data["area"]["population"] = population
        return SynthParams.model_validate(data)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in, nested mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def json_schema() -> dict[str, Any]:
    """JSON Schema of a complete parameters document."""
    return SynthParams.model_json_schema()
