"""Edit forms for the parts of a plan: schemes, funding, risks, conditions, metrics, sign-offs.

A form edits one item of one of the plan's lists. Its fields are named by their path
inside the item (``spend.2015/16``, ``planned[0].value``), so a validation error or a
rule finding at ``schemes[2].spend.2015/16`` lands next to the field named
``spend.2015/16`` of scheme 2. Saving builds the whole new plan through the domain model
(:func:`apply_item`): the model decides what is valid, never the form.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import ValidationError

from bettercare.data.plan_files import parse_path, validation_findings
from bettercare.domain.dates import format_uk_date, parse_uk_date
from bettercare.domain.findings import Finding, Severity
from bettercare.domain.money import parse_gbp
from bettercare.domain.plan import (
    AreaOfSpend,
    Commissioner,
    ConditionStatus,
    FundingSource,
    GoalBasis,
    Plan,
)
from bettercare.domain.rules import required_conditions
from bettercare.errors import BadInput

#: Blank rows offered for new planned values of a metric trajectory.
NEW_ROWS = 2
#: The hint under every date field (:func:`bettercare.domain.dates.parse_uk_date`).
DATE_HINT = "For example, 12/03/2026 or 12 March 2026"


@dataclass(frozen=True)
class FormField:
    """One input: its path inside the item, label and kind (how it is drawn and read)."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, money, int, number, select, checkbox, date
    options: tuple[str, ...] = ()
    required: bool = False
    hint: str | None = None

    @property
    def id(self) -> str:
        """A stable HTML id (browser tests find fields by it)."""
        return "f-" + re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def _values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(str(e.value) for e in enum)


def _scheme_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    years = plan.financial_years
    return [
        FormField("reference", "Reference", required=True, hint="Unique in the plan, e.g. S1"),
        FormField("name", "Name", required=True),
        FormField("scheme_type", "Scheme type"),
        FormField("area_of_spend", "Area of spend", "select", _values(AreaOfSpend)),
        FormField("commissioner", "Commissioner", "select", _values(Commissioner)),
        FormField("provider", "Provider"),
        FormField("funding_source", "Funding source", "select", _values(FundingSource)),
        *[FormField(f"spend.{fy}", f"Spend {fy} (£)", "money") for fy in years],
        *[FormField(f"admissions_avoided.{fy}", f"Admissions avoided {fy}", "int") for fy in years],
        FormField(
            "protects_social_care", "Counts towards protecting adult social care", "checkbox"
        ),
        FormField("theme", "Theme or work stream"),
        FormField("description", "Description", "textarea"),
    ]


def _partner_ids(plan: Plan) -> tuple[str, ...]:
    return tuple(p.id for p in plan.partners)


def _funding_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    return [
        FormField("source", "Funding source", "select", _values(FundingSource), required=True),
        FormField(
            "financial_year", "Financial year", "select", tuple(plan.financial_years), required=True
        ),
        FormField("amount", "Amount (£)", "money"),
        FormField("contributor", "Contributor (partner)", "select", _partner_ids(plan)),
        FormField("note", "Note", "textarea"),
    ]


_SCORES = ("1", "2", "3", "4", "5")


def _risk_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    return [
        FormField("id", "Risk id", required=True, hint="Unique in the register, e.g. R4"),
        FormField("description", "Description", "textarea", required=True),
        FormField("likelihood", "Likelihood (1-5)", "select", _SCORES),
        FormField("impact", "Impact (1-5)", "select", _SCORES),
        FormField("rating", "Rating", hint="As the plan words it, e.g. High"),
        FormField("owner", "Owner"),
        FormField("mitigation", "Mitigation", "textarea"),
    ]


def _condition_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    return [
        FormField(
            "id",
            "Condition",
            "select",
            tuple(required_conditions(plan)),
            required=True,
            hint="The national conditions of the plan's framework",
        ),
        FormField("status", "Status", "select", _values(ConditionStatus), required=True),
        FormField("evidence", "Narrative and evidence", "textarea"),
    ]


def _metric_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    rows = len((item or {}).get("planned") or []) + NEW_ROWS
    out = [
        FormField("metric", "Metric id", required=True),
        FormField("name", "Name as the plan words it"),
        FormField("baseline.period", "Baseline period", hint="e.g. 2013/14 or 2014-Q1"),
        FormField("baseline.value", "Baseline value", "number"),
    ]
    for j in range(rows):
        out += [
            FormField(f"planned[{j}].period", f"Planned period {j + 1}"),
            FormField(f"planned[{j}].value", f"Planned value {j + 1}", "number"),
        ]
    return [*out, *GOAL_FIELDS, FormField("note", "Note", "textarea")]


#: The goal and its basis (kind "goal": drawn by the goal options panel,
#: ``plan_goal_options.html.j2``, and filled on save by :mod:`bettercare.services.plan_goals`).
GOAL_FIELDS = (
    FormField("goal.basis", "Set the goal from", "goal", _values(GoalBasis)),
    FormField("goal.period", "Goal for the period", "goal", hint="A planned period, e.g. 2025/26"),
    FormField("goal.value", "Goal value", "goal"),
    FormField("goal.figures_period", "Published figures of", "goal"),
    FormField("goal.note", "What the goal means", "goal"),
)


def _sign_off_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    return [
        FormField("body", "Signing body (partner)", "select", _partner_ids(plan), required=True),
        FormField("person", "Person"),
        FormField("role", "Role"),
        FormField("date", "Date", "date", hint=DATE_HINT),
        FormField("note", "Note", "textarea"),
    ]


def _budget_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    years = plan.financial_years
    return [
        *[
            FormField(f"minimum_pooled_budget.{fy}", f"Minimum pooled budget {fy} (£)", "money")
            for fy in years
        ],
        *[
            FormField(f"agreed_pooled_budget.{fy}", f"Agreed pooled budget {fy} (£)", "money")
            for fy in years
        ],
        *[
            FormField(
                f"protected_social_care.{fy}", f"Protection of adult social care {fy} (£)", "money"
            )
            for fy in years
        ],
        *[
            FormField(
                f"nhs_minimum_social_care.{fy}",
                f"NHS minimum contribution to adult social care {fy} (£)",
                "money",
                hint="2023-25 frameworks on",
            )
            for fy in years
        ],
    ]


def _risk_share_fields(plan: Plan, item: dict[str, Any] | None) -> list[FormField]:
    return [
        FormField(
            "arrangement",
            "Arrangement",
            "textarea",
            hint="How partners share an overspend or a shortfall",
        ),
        *[
            FormField(f"shares.{p.id}", f"Share borne by {p.name} (%)", "number")
            for p in plan.partners
            if p.signatory
        ],
        FormField("contingency_reserve", "Contingency reserve (£)", "money"),
        FormField("note", "Note", "textarea"),
    ]


def _computed_score(item: dict[str, Any]) -> dict[str, Any]:
    """A risk saved from the form states no score: it is likelihood x impact, computed.

    (:mod:`bettercare.domain.risk`.) A score stated in an imported plan file is dropped
    the first time the risk is saved here, so it can never disagree with the form.
    """
    return {k: v for k, v in item.items() if k != "score"}


def _drop_blank_rows(item: dict[str, Any]) -> dict[str, Any]:
    """A metric's trajectory without the blank rows the form offers for new values."""
    item["planned"] = [
        v for v in item.get("planned", []) if v and any(x is not None for x in v.values())
    ]
    if not item["planned"]:
        item.pop("planned")
    if "baseline" in item and not any(v is not None for v in item["baseline"].values()):
        item.pop("baseline")
    if "goal" in item and not (item["goal"] or {}).get("basis"):
        item.pop("goal")  # no basis chosen: no goal stated
    return item


@dataclass(frozen=True)
class Collection:
    """One editable list of the plan: its URL segment, attribute and form."""

    key: str  # URL segment
    attr: str  # Plan attribute
    singular: str
    title: str
    fields: Callable[[Plan, dict[str, Any] | None], list[FormField]]
    label: Callable[[dict[str, Any]], str]
    tidy: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda item: item)
    #: One object, not a list: ``attr`` names it ("" for fields of the plan itself)
    single: bool = False
    #: The field whose value no two items of the list may share ("" for none)
    unique: str = ""


COLLECTIONS: dict[str, Collection] = {
    c.key: c
    for c in (
        Collection(
            "schemes",
            "schemes",
            "scheme",
            "Schemes",
            _scheme_fields,
            lambda i: f"{i.get('reference', '')} {i.get('name', '')}",
            unique="reference",
        ),
        Collection(
            "funding",
            "funding",
            "funding contribution",
            "Funding",
            _funding_fields,
            lambda i: f"{i.get('source', '')} {i.get('financial_year', '')}",
        ),
        Collection(
            "risks",
            "risks",
            "risk",
            "Risks",
            _risk_fields,
            lambda i: str(i.get("id", "")),
            tidy=_computed_score,
            unique="id",
        ),
        Collection(
            "conditions",
            "national_conditions",
            "national condition",
            "National conditions",
            _condition_fields,
            lambda i: str(i.get("id", "")),
        ),
        Collection(
            "metrics",
            "metrics",
            "metric trajectory",
            "Metric trajectories",
            _metric_fields,
            lambda i: str(i.get("metric", "")),
            _drop_blank_rows,
        ),
        Collection(
            "sign_offs",
            "sign_offs",
            "sign-off",
            "Sign-offs",
            _sign_off_fields,
            lambda i: str(i.get("body", "")),
        ),
        Collection(
            "budget",
            "",
            "pooled budget",
            "Pooled budget",
            _budget_fields,
            lambda i: "pooled budget",
            single=True,
        ),
        Collection(
            "risk_share",
            "risk_share",
            "risk share and contingency",
            "Risk share and contingency",
            _risk_share_fields,
            lambda i: "risk share",
            single=True,
        ),
    )
}


def get_in(item: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` inside ``item`` (None where it is absent)."""
    node = item
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
            node = node[part]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _set_in(item: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    node: Any = item
    for part, nxt in itertools.pairwise(path):
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            node = node[part]
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
    last = path[-1]
    if isinstance(last, str) and value is None:
        node.pop(last, None)  # a blank field: the value is not stated
    elif isinstance(last, str):
        node[last] = value


def display(value: Any) -> str:
    """A stored value as a form shows it."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return format_uk_date(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def form_values(fields: list[FormField], item: dict[str, Any] | None) -> dict[str, Any]:
    """What each field shows for a stored item (checkboxes as booleans)."""
    out: dict[str, Any] = {}
    for f in fields:
        value = get_in(item or {}, parse_path(f.name))
        out[f.name] = bool(value) if f.kind == "checkbox" else display(value)
    return out


def read_form(fields: list[FormField], form: Mapping[str, Any]) -> dict[str, Any]:
    """The user's input, as typed (for showing back), one entry per field."""
    out: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        if f.kind == "checkbox":
            out[f.name] = raw in ("on", "true", "1", "yes")
        else:
            out[f.name] = raw if isinstance(raw, str) else ""
    return out


def _parsed(f: FormField, text: Any) -> Any:
    if f.kind == "checkbox":
        return bool(text)
    value = str(text).strip()
    if not value:
        return None
    if f.kind == "money":
        return parse_gbp(value)  # strict en-GB (typed_notes has told the user what is wrong)
    if f.kind == "date":
        return parse_uk_date(value).isoformat()  # day first (typed_notes, as for money)
    return value  # the model converts (and refuses) numbers, dates and codes


def typed_notes(fields: list[FormField], values: Mapping[str, Any]) -> FieldNotes:
    """A note by each money or date field whose text cannot be read.

    Money is strict en-GB (:func:`~bettercare.domain.money.parse_gbp`), dates are UK
    dates (:func:`~bettercare.domain.dates.parse_uk_date`); each message names the field.
    """
    notes = FieldNotes()
    for f in fields:
        text = str(values.get(f.name) or "").strip()
        if f.kind not in ("money", "date") or not text:
            continue
        try:
            parse_gbp(text) if f.kind == "money" else parse_uk_date(text)
        except BadInput as exc:
            rule = "money-format" if f.kind == "money" else "date-format"
            notes.add(Finding(rule, Severity.ERROR, f.name, f"{f.label}: {exc}"), f.name)
    return notes


def unique_notes(
    coll: Collection,
    fields: list[FormField],
    values: Mapping[str, Any],
    items: list[dict[str, Any]],
    index: int | None,
) -> FieldNotes:
    """A note by the list's unique field when another item already holds the typed value.

    The unique field is a risk's id, a scheme's reference (compared without case or
    outer spaces); the message names the field.
    """
    notes = FieldNotes()
    if not coll.unique or coll.single:
        return notes
    wanted = str(values.get(coll.unique) or "").strip()
    taken = {
        str(item.get(coll.unique) or "").strip().casefold()
        for i, item in enumerate(items)
        if i != index
    }
    if wanted and wanted.casefold() in taken:
        label = next((f.label for f in fields if f.name == coll.unique), coll.unique)
        message = (
            f"{label}: {wanted} is already used by another {coll.singular} in this plan; "
            f"each {coll.singular} needs its own {label.lower()}"
        )
        notes.add(Finding("unique-id", Severity.ERROR, coll.unique, message), coll.unique)
    return notes


def _root_keys(fields: list[FormField]) -> list[str]:
    return list(dict.fromkeys(str(parse_path(f.name)[0]) for f in fields))


def items_of(
    data: dict[str, Any], coll: Collection, fields: list[FormField] | None = None
) -> list[dict[str, Any]]:
    """The items of ``coll`` in a dumped plan (a single object: a list of one).

    For fields of the plan itself (``attr`` ""), the one item holds just the plan keys the
    form edits, so the audit log shows those, not the whole plan.
    """
    if not coll.single:
        items: list[dict[str, Any]] = data[coll.attr]
        return items
    if coll.attr:
        return [dict(data.get(coll.attr) or {})]
    return [{k: data.get(k) for k in _root_keys(fields or [])}]


def apply_item(
    plan: Plan,
    coll: Collection,
    index: int | None,
    values: dict[str, Any],
    fields: list[FormField],
) -> tuple[Plan, int, dict[str, Any] | None, dict[str, Any]]:
    """The new plan with item ``index`` of ``coll`` replaced by the form's values.

    ``index`` None appends a new item (a single object is always item 0). Fields the form
    does not show are kept from the stored item. Returns (plan, index, item before, item
    after); raises pydantic's ``ValidationError`` when the new plan does not fit the model.
    """
    data = plan.model_dump(mode="python")
    items = items_of(data, coll, fields)
    if coll.single:
        index = 0
    before = copy.deepcopy(items[index]) if index is not None else None
    item = copy.deepcopy(before) if before is not None else {}
    for f in fields:
        _set_in(item, parse_path(f.name), _parsed(f, values.get(f.name)))
    item = coll.tidy(item)
    if coll.single and coll.attr:
        stated = any(v not in (None, {}, []) for v in item.values())
        data[coll.attr] = item if stated else None
    elif coll.single:
        for key in _root_keys(fields):
            if key in item:
                data[key] = item[key]
            else:
                data.pop(key, None)
    elif index is None:
        items.append(item)
    else:
        items[index] = item
    position = len(items) - 1 if index is None else index
    return Plan.model_validate(data), position, before, item


def delete_item(plan: Plan, coll: Collection, index: int) -> tuple[Plan, dict[str, Any]]:
    """The plan without item ``index`` of ``coll`` (and the item removed)."""
    data = plan.model_dump(mode="python")
    removed: dict[str, Any] = data[coll.attr].pop(index)
    return Plan.model_validate(data), removed


def restore_item(
    plan: Plan, coll: Collection, index: int, item: dict[str, Any]
) -> tuple[Plan, int]:
    """The plan with a deleted ``item`` put back at ``index`` (last, if the list is shorter).

    Raises pydantic's ``ValidationError`` if it no longer fits the model.
    """
    data = plan.model_dump(mode="python")
    items: list[dict[str, Any]] = data[coll.attr]
    position = min(index, len(items))
    items.insert(position, item)
    return Plan.model_validate(data), position


@dataclass
class FieldNotes:
    """Messages for a form: by field name, and those that belong to no one field."""

    by_field: dict[str, list[Finding]] = field(default_factory=dict)
    general: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding, name: str | None) -> None:
        """File ``finding`` under field ``name`` (None: the form as a whole)."""
        if name is None:
            self.general.append(finding)
        else:
            self.by_field.setdefault(name, []).append(finding)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def all(self) -> list[Finding]:
        """Every message: the form's own, then each field's."""
        return [*self.general, *(f for fs in self.by_field.values() for f in fs)]


def field_for(path: str, coll: Collection, index: int, fields: list[FormField]) -> str | None:
    """The form field a plan path names (``schemes[2].spend.2015/16`` -> ``spend.2015/16``).

    A path inside the item that is no field's (``schemes[2].sources``) goes to the first
    field under it, else to the form as a whole (""); a path outside the item gives None.
    For a form of the plan's own fields, only paths of those fields belong to it.
    """
    names = [f.name for f in fields]
    prefix = coll.attr if coll.single else f"{coll.attr}[{index}]"
    if not prefix:
        rest = path
    elif path == prefix or path.startswith((prefix + ".", prefix + "[")):
        rest = path[len(prefix) :].lstrip(".")
    else:
        return None
    if rest in names:
        return rest
    under = [n for n in names if n.startswith((rest + ".", rest + "["))] if rest else []
    if under:
        return under[0]
    return "" if prefix else None


def notes_for(
    findings: list[Finding],
    coll: Collection,
    index: int | None,
    fields: list[FormField],
    *,
    item_only: bool = False,
) -> FieldNotes:
    """Findings placed next to their fields; those about the whole plan go to ``general``.

    With ``item_only``, findings about other parts of the plan are left out (rule
    findings after a save); validation errors are always shown, wherever they are.
    """
    notes = FieldNotes()
    for f in findings:
        name = field_for(f.path, coll, index, fields) if index is not None else None
        if name:
            notes.add(f, name)
        elif name == "" or not item_only:
            notes.add(f, None)
    return notes


def invalid_notes(
    exc: ValidationError, coll: Collection, index: int, fields: list[FormField]
) -> FieldNotes:
    """A model validation failure as messages next to the fields that caused it."""
    return notes_for(validation_findings(exc), coll, index, fields)
