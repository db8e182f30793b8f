"""The one table of display units and code labels, and the one formatter."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.domain import labels
from bettercare.domain.dates import format_uk_date
from bettercare.domain.frameworks import FRAMEWORKS
from bettercare.domain.labels import (
    Kind,
    code_label,
    format_count,
    format_metric,
    format_number,
    format_percent,
    format_period,
    metric_display,
)
from bettercare.domain.metrics import CATALOGUE, Unit
from bettercare.domain.plan import (
    AreaOfSpend,
    Commissioner,
    ConditionStatus,
    FundingSource,
    PartnerType,
    PlanStatus,
)
from bettercare.domain.workflow import Outcome, State, Step


def test_every_metric_of_every_framework_has_a_unit_and_bounds() -> None:
    metrics = {m for f in FRAMEWORKS for m in f.metric_ids()} | set(CATALOGUE)
    for metric in metrics:
        assert metric in labels.METRIC_DISPLAY, metric
        d = metric_display(metric)
        assert d.unit and d.basis and d.count_noun and d.specification, metric
        assert d.lower == 0.0, metric  # no BCF measure is negative
        if CATALOGUE[metric].unit is Unit.PERCENT:
            assert (d.kind, d.unit, d.upper) == (Kind.PERCENT, "%", 100.0), metric
        if CATALOGUE[metric].unit is Unit.PER_100K:
            assert d.unit.startswith("per 100,000 population"), metric


def test_units_state_the_population_base() -> None:
    assert metric_display("permanent_admissions_care_homes_65").unit == (
        "per 100,000 population aged 65+"
    )
    assert metric_display("delayed_transfers_of_care").basis == (
        "delayed days per 100,000 population aged 18+"
    )
    assert metric_display("discharge_delay_days").unit == "days"


@pytest.mark.parametrize(
    ("family", "codes"),
    [
        ("funding_source", FundingSource),
        ("partner_type", PartnerType),
        ("state", State),
        ("step", Step),
        ("outcome", Outcome),
        ("plan_status", PlanStatus),
        ("area_of_spend", AreaOfSpend),
        ("commissioner", Commissioner),
        ("condition_status", ConditionStatus),
    ],
)
def test_every_code_of_a_family_has_words(family, codes) -> None:
    for code in codes:
        words = code_label(code, family)
        assert words and "_" not in words and words != code.value, (family, code)


def test_every_condition_and_scheme_type_of_every_framework_has_words() -> None:
    for f in FRAMEWORKS:
        for c in f.conditions:
            assert c.id in labels.CONDITIONS, (f.id, c.id)
        for s in f.scheme_types:
            assert s in labels.SCHEME_TYPES, (f.id, s)
        for src in f.funding_sources:
            assert src in labels.FUNDING_SOURCES, (f.id, src)


def test_codes_read_as_words() -> None:
    assert code_label("local_authority_bcf_grant") == "Local Authority Better Care Grant"
    assert code_label("hwb_approved", "state") == "Approved by the HWB"
    assert code_label("submitted", "state") == "Submitted to NHS England"
    assert code_label("social_care", "area_of_spend") == "Social care"
    assert code_label(State.HWB_APPROVED) == "Approved by the HWB"
    # a partner id reads as the plan's partner name
    names = {"marlbury_county_council": "Marlbury County Council"}
    assert code_label("marlbury_county_council", partners=names) == "Marlbury County Council"
    # a code no table holds still reads as words; free text is left alone
    assert code_label("marlbury_icb") == "Marlbury ICB"
    assert code_label("Falls prevention service") == "Falls prevention service"
    assert code_label(None) == ""
    assert code_label("GREEN") == "GREEN"


def test_numbers() -> None:
    assert format_number(23800.0) == "23,800"
    assert format_number(1234.5678, 2) == "1,234.57"
    assert format_number(-0.04, 1) == "0.0"  # never "-0.0"
    assert format_number(None) == format_number(float("nan")) == "—"
    assert format_percent(62.2) == "62.2%"


def test_counts_are_whole_and_estimates_say_about() -> None:
    assert format_count(8747) == "8,747"
    assert format_count(8747.75, "admissions") == "about 8,748 admissions"
    assert format_count(12.0, "admissions") == "12 admissions"


def test_metric_values_carry_their_unit() -> None:
    assert format_metric(280.0249, "delayed_transfers_of_care") == (
        "280.0 per 100,000 population aged 18+"
    )
    assert format_metric(62.2, "reablement_91_days") == "62.2%"
    assert format_metric(62.2, "reablement_91_days", unit=False) == "62.2"
    assert format_metric(4.25, "discharge_delay_days") == "4.2 days"  # half to even
    assert format_metric(8747.75, "non_elective_admissions", count=True) == (
        "about 8,748 admissions"
    )


def test_one_period_notation() -> None:
    assert format_period("2016/17") == "2016-17"
    assert format_period("2016/17 Q3") == "Q3 2016-17"
    assert format_period("2017-03") == "March 2017"
    assert format_period("2013-04..2014-03") == "April 2013 to March 2014"
    assert format_period("2013") == "2013"
    assert format_period("latest") == "latest"
    assert format_uk_date(dt.date(2026, 3, 12)) == "12 March 2026"  # the one date format


def test_clamp_to_bounds() -> None:
    assert labels.clamp_to_bounds(-3.0, "delayed_transfers_of_care") == 0.0
    assert labels.clamp_to_bounds(104.0, "reablement_91_days") == 100.0
    assert labels.clamp_to_bounds(50.0, "reablement_91_days") == 50.0


def test_messages_and_paths_in_words() -> None:
    text = "national condition 'impact_on_acute_sector' is in progress; care_act for 2015/16"
    assert labels.in_words(text) == (
        "national condition 'Agreed impact on the acute sector' is in progress; "
        "Care Act funding for 2015-16"
    )
    assert labels.in_words("2016/17 Q3 return") == "Q3 2016-17 return"
    names = {"marlbury_icb": "NHS Marlbury ICB"}
    assert labels.in_words("marlbury_icb bears 40%", names) == "NHS Marlbury ICB bears 40%"
    # a field path is left to path_in_words, which reads it as words
    assert labels.in_words("funding[2].care_act") == "funding[2].care_act"
    assert labels.path_in_words("schemes[0].spend.2014/15") == "Schemes 1, spend, 2014-15"
    assert labels.path_in_words("nhs_minimum_social_care.2023/24") == (
        "NHS minimum social care, 2023-24"
    )
