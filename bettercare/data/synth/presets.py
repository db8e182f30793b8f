"""Named parameter presets per Health and Wellbeing Board, calibrated to the seed plans.

Seeds are the real BCF plans in ``/work/shared/seeds`` (000/001 Leicester 2014,
002 Leicestershire 2017/18 refresh, 003 Rutland 2014, 004 Lancashire 2014). Each default
cites the seed figure it comes from; a figure the seeds do not give is marked
"not in seeds" with the public source it approximates. Event rates are BCF metric
definitions (per 100,000 of the ONS population base the metric uses).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bettercare.data.param_files import ParamsError, format_validation_error, read_params_file
from bettercare.data.schema import AGE_BANDS
from bettercare.data.synth import PRESETS as PRESETS  # the names, kept in the package
from bettercare.data.synth.params import SynthParams, deep_merge


def _age_sex(total_pct: list[float], male_pct: list[float] | None = None) -> dict[str, Any]:
    """Split band shares of the whole population into male/female weights.

    Without an explicit male list, men are 50% of each band up to 64 and a falling share
    above (ONS England mid-2016: ~47% at 65-74, 44% 75-84, 36% 85-89, 27% 90+).
    """
    male_share = [0.5] * 14 + [0.48, 0.47, 0.45, 0.42, 0.36, 0.27]
    if male_pct is not None:
        return {
            "male": dict(zip(AGE_BANDS, male_pct, strict=True)),
            "female": {b: t - m for b, t, m in zip(AGE_BANDS, total_pct, male_pct, strict=True)},
        }
    rows = list(zip(AGE_BANDS, total_pct, male_share, strict=True))
    return {
        "male": {b: round(t * s, 4) for b, t, s in rows},
        "female": {b: round(t * (1 - s), 4) for b, t, s in rows},
    }


def _bands(values: list[float], bands: tuple[str, ...] = AGE_BANDS) -> dict[str, float]:
    return dict(zip(bands, values, strict=True))


_B65 = AGE_BANDS[14:]

# England-wide shape of mortality, per 1,000 per year by age band (not in seeds;
# approximates ONS England & Wales 2016 death rates, both sexes).
_MORTALITY = _bands(
    [
        0.9,
        0.08,
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
        0.7,
        1.0,
        1.4,
        2.1,
        3.0,
        4.6,
        7.2,
        11,
        17.5,
        29,
        52,
        95,
        200,
    ]
)

# Mean count of long-term conditions by age band (not in seeds; approximates the
# multimorbidity gradient of Barnett et al., Lancet 2012). Seed 003 (POPPI 2015, Rutland)
# has 3,735 of ~9,100 people 65+ with a limiting long-term illness.
_LTC_MEAN = _bands(
    [
        0.05,
        0.08,
        0.1,
        0.15,
        0.2,
        0.25,
        0.3,
        0.35,
        0.45,
        0.55,
        0.7,
        0.9,
        1.1,
        1.4,
        1.7,
        2.1,
        2.5,
        2.9,
        3.2,
        3.4,
    ]
)

# Dementia prevalence by age, 65+ (not in seeds): the CFAS II rates (Matthews et al.,
# Lancet 2013) the dementia diagnosis rate metric uses for its expected prevalence,
# weighted by each band's sex mix, so the measured diagnosis rate is the configured one.
# Gives ~6.4% of all 65+ (Rutland preset), near seed 003: POPPI predicts 646 Rutland people 65+ with
# dementia in 2015 out of ~9,100 aged 65+ (7.1%; 7.8k 65-84 + 1.3k 85+).
_DEMENTIA = _bands([0.015, 0.027, 0.057, 0.100, 0.162, 0.300], _B65)

_RISK: dict[str, Any] = {
    # Gamma frailty (mean 1, shape 2): unobserved need, so past admissions predict future.
    "frailty_shape": 2.0,
    # Relative mean admission rate by age: not in seeds; shape of HES 2016/17 emergency
    # admissions per 1,000 (U-shaped, steep after 65). Seed 003: growth is in the over 75s.
    "non_elective": {
        "ltc_rr": 1.45,
        "imd_rr": 1.05,
        "dementia_rr": 1.8,
        "age_relative": _bands(
            [140, 35, 35, 50, 60, 60, 60, 60, 60, 65, 70, 80, 95, 115, 140, 180, 250, 340, 450, 560]
        ),
    },
    "elective": {
        "ltc_rr": 1.2,
        "imd_rr": 1.0,
        "dementia_rr": 0.8,
        "age_relative": _bands(
            [
                40,
                25,
                25,
                30,
                35,
                45,
                55,
                65,
                75,
                90,
                110,
                140,
                180,
                220,
                280,
                330,
                350,
                330,
                280,
                200,
            ]
        ),
    },
    # Falls admissions rise ~14-fold from 65-69 to 90+ (PHOF 2.24 age profile).
    "falls": {
        "ltc_rr": 1.15,
        "imd_rr": 1.03,
        "dementia_rr": 2.5,
        "age_relative": _bands([1, 1.7, 3, 5.5, 9, 14], _B65),
    },
    # Permanent care home admissions concentrate in the oldest and people with dementia.
    "permanent_admission": {
        "ltc_rr": 1.2,
        "imd_rr": 1.02,
        "dementia_rr": 5.0,
        "age_relative": _bands([1, 2, 4.5, 10, 20, 35], _B65),
    },
    "social_care": {
        "ltc_rr": 1.3,
        "imd_rr": 1.04,
        "dementia_rr": 3.0,
        "age_relative": _bands(
            [1, 1, 1, 1, 1.1, 1.2, 1.4, 1.6, 1.9, 2.3, 3, 4.5, 7, 12, 20, 32], AGE_BANDS[4:]
        ),  # adults 18+
    },
    "mortality_ltc_rr": 1.25,
    "mortality_imd_rr": 1.04,
    "mortality_dementia_rr": 2.5,
}

# Leicestershire 2016/17 "current" column of the BCF metrics table (seed 002, p.
# "BCF Metrics - Progress to Date").
_RATES_LEICESTERSHIRE: dict[str, Any] = {
    "non_elective_per_100k_per_month": 714.78,  # seed 002: current 714.78 (target 724.37)
    "elective_per_100k_per_year": 12_000,  # not in seeds; England 2016/17 ~12,000/100k
    "falls_65_per_100k_per_month": 118.05,  # seed 002: current 118.05 (target 139.76)
    "permanent_admissions_65_per_100k_per_year": 630.2,  # seed 002: current 630.2 (606.4)
    # Not in seeds (assumption): ~40% of permanent admissions are made on discharge from
    # hospital; seed 001/003 plans aim to cut admissions to care homes from hospital.
    "permanent_from_hospital_share": 0.4,
    "dtoc_days_per_100k_18_per_month": 351.1,  # seed 002: current 351.1 (target 214.66)
    "dtoc_mean_days_per_delay": 12.0,  # not in seeds; SitRep 2016/17 ~12 days per delay
    "reablement_share_of_65_discharges": 0.033,  # not in seeds; ASCOF 2B(2) 2016/17 ~3.3%
    "reablement_at_home_91_days": 0.88,  # seed 002: current 88% (target 84.2%)
    "social_care_episodes_per_1000_18_per_year": 40,  # not in seeds; SALT 2016/17 scale
    "survey_response_share_per_year": 0.03,  # not in seeds; GPPS samples ~1 in 30 adults
    "survey_positive_share": 0.636,  # seed 002: current 63.6% (target 62.2%)
    "in_hospital_death_share": 0.45,  # not in seeds; ONS 2016 ~46% of deaths in hospital
}

_AREA_DEFAULTS = {"residents_per_lsoa": 1600, "residents_per_practice": 7000}


def _leicestershire() -> dict[str, Any]:
    return {
        "area": {
            "name": "Leicestershire",
            "hwb_code": "E10000018",
            # Not in seeds: ONS mid-2016 ~680,000 ("Leicestershire ~650-680k").
            "population": 675_000,
            "postcode_districts": [
                "LE7",
                "LE8",
                "LE9",
                "LE10",
                "LE11",
                "LE12",
                "LE13",
                "LE14",
                "LE16",
                "LE17",
                "LE18",
                "LE65",
                "LE67",
            ],
            "gp_practice_prefix": "C82",
            # University Hospitals of Leicester (seed 001/002), George Eliot, Derby.
            "provider_codes": ["RWE", "RLT", "RTG"],
            "lsoa_start": 15_000,
            # Not in seeds: IMD 2015, Leicestershire is among the least deprived counties.
            "imd_decile_shares": [0.01, 0.02, 0.04, 0.06, 0.08, 0.11, 0.14, 0.16, 0.18, 0.20],
            **_AREA_DEFAULTS,
        },
        "demography": {
            # Not in seeds: approximates ONS mid-2016 Leicestershire (~20% aged 65+).
            "age_sex": _age_sex(
                [
                    5.3,
                    5.6,
                    5.5,
                    3.4,
                    2.5,
                    5.8,
                    5.6,
                    5.6,
                    5.7,
                    6.3,
                    7.5,
                    7.6,
                    6.5,
                    5.9,
                    6.4,
                    4.9,
                    3.8,
                    2.8,
                    1.7,
                    0.9,
                ]
            ),
            "births_per_1000_per_year": 10.5,  # not in seeds; ONS 2016 county ~10.5
            "mortality_per_1000_by_age": _MORTALITY,
            "male_mortality_rr": 1.25,
            "ltc_mean_by_age": _LTC_MEAN,
            "ltc_imd_rr": 1.05,
            "dementia_prevalence_by_age": _DEMENTIA,
            # Seed 001: national ambition "target is 66% by 2015" (Leicester had ~56%).
            "dementia_diagnosis_rate": 0.66,
        },
        "event_rates": dict(_RATES_LEICESTERSHIRE),
        "risk": copy.deepcopy(_RISK),
        "noise": {},
        "opt_out_share": 0.025,  # not in seeds; NHS Digital national data opt-out ~2.7% 2019
        # The five admissions-avoidance schemes of seed 002 (002:377-411) under the
        # references of examples/leicestershire_2016.yaml, with their 2016/17 targets, so
        # `synth` without --plan writes activity the example plan's schemes can be
        # tracked against (tests/cli/test_readme_path.py checks the references match).
        "schemes": [
            {"reference": "T3-CRISIS", "admissions_avoided_per_year": 396},  # 002:390
            {"reference": "T3-OPU", "admissions_avoided_per_year": 240},  # 002:396
            {"reference": "T3-LUCC", "admissions_avoided_per_year": 120},  # 002:400
            {"reference": "T3-7DAY", "admissions_avoided_per_year": 3258},  # 002:403
            {"reference": "T3-CDU", "admissions_avoided_per_year": 66},  # 002:407
        ],
    }


def _leicester() -> dict[str, Any]:
    p = _leicestershire()
    p["area"] = {
        "name": "Leicester",
        "hwb_code": "E06000016",
        # Seed 000/001: "approximately 7,200 people or 2% of the 360,000 residents of the
        # city"; seed 001 also quotes an ONS-based 350,000 for 2015/16.
        "population": 360_000,
        "postcode_districts": ["LE1", "LE2", "LE3", "LE4", "LE5"],
        "gp_practice_prefix": "C82",
        "provider_codes": ["RWE"],  # University Hospitals of Leicester (seed 001)
        "lsoa_start": 13_000,
        # Seed 000: "the health gap between affluent and more deprived areas within the
        # city is significant"; IMD 2015 ranks Leicester among the most deprived (not in seeds).
        "imd_decile_shares": [0.22, 0.17, 0.14, 0.11, 0.09, 0.08, 0.07, 0.05, 0.04, 0.03],
        **_AREA_DEFAULTS,
    }
    d = p["demography"]
    # Seed 000: "the city has a relatively young population"; shape approximates ONS
    # mid-2016 Leicester (~11% aged 65+, a student bulge at 18-24).
    d["age_sex"] = _age_sex(
        [
            7.4,
            6.7,
            5.8,
            3.4,
            3.6,
            10.0,
            8.7,
            7.6,
            6.5,
            6.0,
            5.8,
            5.4,
            4.5,
            3.6,
            3.3,
            2.6,
            2.1,
            1.6,
            0.9,
            0.4,
        ]
    )
    d["births_per_1000_per_year"] = 14.5  # not in seeds; ONS 2016 Leicester ~14-15
    d["dementia_diagnosis_rate"] = 0.56  # seed 001: CCG diagnosis rate "almost 56%"
    r = p["event_rates"]
    r["permanent_admissions_65_per_100k_per_year"] = 735.27  # seed 001: 12/13 735.27
    r["reablement_at_home_91_days"] = 0.838  # seed 001: 12/13 83.8%
    r["survey_positive_share"] = 0.613  # seed 001: LTC "in control" 12/13 61.3% (GPPS)
    # Not in seeds: the city's emergency admission rate is above the county's.
    r["non_elective_per_100k_per_month"] = 800.0
    p["schemes"] = []
    return p


def _rutland() -> dict[str, Any]:
    p = _leicestershire()
    p["area"] = {
        "name": "Rutland",
        "hwb_code": "E06000017",
        "population": 37_000,  # seed 003: "In 2012, the population of Rutland was 37,015"
        "postcode_districts": ["LE15", "PE9"],
        "gp_practice_prefix": "C82",
        "provider_codes": ["RWE", "RGN"],  # Leicester (seed 003 "LLR") and Peterborough
        "lsoa_start": 17_000,
        # Seed 003: "The whole population of Rutland falls within the least deprived 60%"
        # and "57% of the Rutland population live in the least deprived quintile".
        "imd_decile_shares": [0, 0, 0, 0, 0.05, 0.08, 0.12, 0.18, 0.27, 0.30],
        **_AREA_DEFAULTS,
    }
    # Seed 003, Table 1: mid-2012 population estimates for Rutland (15-19 split 3:2 into
    # 15-17 and 18-19).
    male = [
        873,
        978,
        1190,
        1583 * 0.6,
        1583 * 0.4,
        939,
        1035,
        936,
        1032,
        1258,
        1372,
        1292,
        1143,
        1275,
        1238,
        934,
        737,
        490,
        392 * 0.7,
        392 * 0.3,
    ]
    female = [
        863,
        932,
        1068,
        1342 * 0.6,
        1342 * 0.4,
        689,
        773,
        863,
        913,
        1294,
        1366,
        1284,
        1172,
        1306,
        1320,
        986,
        777,
        633,
        737 * 0.65,
        737 * 0.35,
    ]
    p["demography"]["age_sex"] = _age_sex([m + f for m, f in zip(male, female, strict=True)], male)
    p["demography"]["births_per_1000_per_year"] = 8.5  # not in seeds; ONS 2012 Rutland ~8-9
    p["schemes"] = []
    # Event rates: seed 003 plans jointly with Leicester and Leicestershire ("LLR") but
    # gives no Rutland metric values, so Leicestershire's 2016/17 figures (seed 002) apply.
    return p


def _lancashire() -> dict[str, Any]:
    p = _leicestershire()
    p["area"] = {
        "name": "Lancashire",
        "hwb_code": "E10000017",
        # Seed 004: Greater Preston and Chorley & South Ribble CCGs "serve a population
        # of just under half a million" (the Central Lancashire part of the HWB).
        "population": 480_000,
        "postcode_districts": ["PR1", "PR2", "PR3", "PR4", "PR5", "PR6", "PR7", "PR25", "PR26"],
        "gp_practice_prefix": "P81",
        "provider_codes": ["RXN"],  # Lancashire Teaching Hospitals (not in seeds)
        "lsoa_start": 25_000,
        # Not in seeds: IMD 2015 Central Lancashire spans all deciles (Preston deprived).
        "imd_decile_shares": [0.10, 0.10, 0.10, 0.09, 0.10, 0.10, 0.11, 0.10, 0.10, 0.10],
        **_AREA_DEFAULTS,
    }
    # Not in seeds: approximates ONS mid-2016 Preston + Chorley + South Ribble.
    p["demography"]["age_sex"] = _age_sex(
        [
            5.6,
            5.8,
            5.4,
            3.4,
            2.9,
            7.0,
            6.4,
            6.0,
            5.7,
            6.0,
            7.0,
            7.2,
            6.3,
            5.8,
            6.0,
            4.6,
            3.6,
            2.6,
            1.6,
            0.8,
        ]
    )
    p["demography"]["births_per_1000_per_year"] = 11.5  # not in seeds
    # Seed 004: "The CCG has set the participating practices a target to identify and
    # produce care plans for 2% of their registered patients" (high-risk share, as in
    # Leicester). Event rates: seed 004 gives none, so Leicestershire 2016/17 (seed 002).
    p["schemes"] = []
    return p


_BUILDERS = {
    "leicester": _leicester,
    "leicestershire": _leicestershire,
    "rutland": _rutland,
    "lancashire": _lancashire,
}


def preset_dict(name: str) -> dict[str, Any]:
    """A fresh (mutable) parameters mapping for a named preset; ``KeyError`` names them."""
    key = name.strip().lower()
    if key not in _BUILDERS:
        raise KeyError(f"unknown HWB preset '{name}' (known: {', '.join(PRESETS)})")
    return _BUILDERS[key]()


def preset(name: str) -> SynthParams:
    """The validated parameters of a named HWB preset (:data:`PRESETS`)."""
    return SynthParams.model_validate(preset_dict(name))


def load_params(path: Path | None = None, preset: str | None = "leicestershire") -> SynthParams:
    """Preset (if any) deep-merged with the file (if any), validated."""
    base = preset_dict(preset) if preset else {}
    override = read_params_file(path) if path is not None else {}
    source = str(path) if path is not None else f"preset {preset}"
    try:
        return SynthParams.model_validate(deep_merge(base, override))
    except ValidationError as exc:
        raise ParamsError(format_validation_error(exc, source)) from None
