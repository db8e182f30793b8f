"""What to evaluate: the evaluation spec (a pydantic model with a JSON Schema).

A spec names the change (a scheme or any dated change), the metric, who was exposed
(GP practices or HWBs, and/or enrolled people by pseudonym) and, optionally, the
comparison units. A staggered roll-out gives exposed units (``starts``) or enrolled
people (``enrolment_dates``) their own start dates. It is read from JSON or YAML by
:func:`load_spec`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bettercare.analytics.evaluation.results import EvaluationDataError

Method = Literal["its", "did", "matched", "synthetic"]
ALL_METHODS: tuple[Method, ...] = ("its", "did", "matched", "synthetic")


class EvaluationSpec(BaseModel):
    """One change to evaluate against a counterfactual."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("change", description="What changed, e.g. the scheme's name")
    change_date: date = Field(
        description="First day the change applied (its month is post); with a staggered "
        "roll-out, the start of exposed units and enrolled people without their own date"
    )
    metric: Literal["emergency_admissions", "ae_attendances"] = "emergency_admissions"
    level: Literal["practice", "hwb"] = Field(
        "practice", description="Units that were or were not exposed: GP practices or HWBs"
    )
    treated: list[str] = Field(
        default_factory=list,
        description="Codes of the exposed units (empty: every unit, for the time series)",
    )
    comparison: list[str] | None = Field(
        None, description="Codes of the comparison units (default: every unexposed unit)"
    )
    enrolled: list[str] = Field(
        default_factory=list,
        description="Pseudonyms (person_id) of people enrolled on the change date",
    )
    starts: dict[str, date] = Field(
        default_factory=dict,
        description="Staggered roll-out: exposed units' own start dates (code: date); "
        "each code must also be in treated",
    )
    enrolment_dates: dict[str, date] = Field(
        default_factory=dict,
        description="Enrolled people's own enrolment dates (pseudonym: date), each their "
        "index date in the matched cohort; each pseudonym must also be in enrolled",
    )
    methods: list[Method] = Field(default_factory=lambda: list(ALL_METHODS))

    @model_validator(mode="after")
    def _dated_ones_are_named(self) -> EvaluationSpec:
        stray = sorted(set(self.starts) - set(self.treated))
        if stray:
            raise ValueError(f"starts names unit(s) not in treated: {', '.join(stray[:5])}")
        if set(self.enrolment_dates) - set(self.enrolled):
            raise ValueError("enrolment_dates names people not in enrolled")
        return self

    def unit_start(self, code: str) -> date:
        """When exposed unit ``code`` started (its own date, else ``change_date``)."""
        return self.starts.get(code, self.change_date)

    def enrolled_on(self, person_id: str) -> date:
        """When ``person_id`` was enrolled (their own date, else ``change_date``)."""
        return self.enrolment_dates.get(person_id, self.change_date)

    @property
    def staggered(self) -> bool:
        """True when exposed units start in more than one month."""
        months = {(d.year, d.month) for d in (self.unit_start(c) for c in self.treated)}
        return len(months) > 1


def load_spec(path: Path) -> EvaluationSpec:
    """Read a spec from a JSON or YAML file; :class:`EvaluationDataError` naming the field."""
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise EvaluationDataError(f"cannot read spec {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EvaluationDataError(f"spec {path} is not valid JSON/YAML: {first}") from None
    try:
        return EvaluationSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise EvaluationDataError(f"spec {path}: field '{where}': {err['msg']}") from None
