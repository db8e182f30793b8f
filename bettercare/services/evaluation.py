"""The evaluation page's use case: the effect of a dated change in some practices.

Aggregate only (``VIEW_METRICS``, within the caller's HWB unless their role reads every
HWB): interrupted time series, difference-in-differences and synthetic control on the
analytics store (:func:`bettercare.analytics.evaluation.evaluate_store`); the matched
cohort, which needs enrolled people's pseudonyms, is for ``bettercare evaluate``. The
exposed practices must be practices of the HWB; the comparison units are the store's
other practices. A staggered roll-out gives some exposed practices their own start date
(``starts``, as ``bettercare evaluate --treated CODE=YYYY-MM-DD``): then only
difference-in-differences has an estimate and the other methods say why not. A refusal
is audit-logged.

A use case: session and principal in, view model out; no HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bettercare.domain.access import Action, Principal, allowed
from bettercare.domain.dates import parse_uk_date
from bettercare.errors import BadInput
from bettercare.services import audit
from bettercare.services.access import AccessRefused

if TYPE_CHECKING:
    from bettercare.analytics.evaluation import Evaluation
    from bettercare.analytics.evaluation.spec import Method

#: The methods the page runs (aggregate only).
PAGE_METHODS: tuple[Method, ...] = ("its", "did", "synthetic")


@dataclass
class EvaluationPage:
    """What the page shows: the form, the HWB's practices and the evaluation or an error."""

    hwb: str | None
    practices: list[str] = field(default_factory=list)
    name: str = ""
    change_date: str = ""
    treated: list[str] = field(default_factory=list)
    #: Exposed practices' own start dates as typed (blank = the change date).
    starts: dict[str, str] = field(default_factory=dict)
    evaluation: Evaluation | None = None
    error: str = ""


def evaluation_page(
    db: Session,
    principal: Principal,
    store: Path | None,
    *,
    hwb: str | None,
    name: str = "",
    change_date: str = "",
    treated: list[str] | None = None,
    starts: dict[str, str] | None = None,
    ip: str | None = None,
) -> EvaluationPage:
    """The form for ``hwb`` and, when a change date is given, the evaluation.

    ``starts``: practice code -> its own start date (YYYY-MM-DD) for a staggered
    roll-out; blank dates are dropped.
    """
    code = hwb or principal.hwb_code
    if not allowed(principal, Action.VIEW_METRICS, code):
        audit.record(
            db,
            principal,
            str(Action.VIEW_METRICS),
            "evaluation",
            audit.DENIED,
            ip=ip,
            hwb_code=code,
        )
        db.commit()
        raise AccessRefused(principal, str(Action.VIEW_METRICS), "evaluation")
    typed = {c: d.strip() for c, d in (starts or {}).items() if d.strip()}
    page = EvaluationPage(
        code, name=name, change_date=change_date, treated=list(treated or []), starts=typed
    )
    if store is None:
        page.error = "No analytics store is configured (bettercare serve --store FILE)."
        return page
    from bettercare.analytics.engine import open_store
    from bettercare.analytics.evaluation import EvaluationDataError, EvaluationSpec, evaluate_store
    from bettercare.analytics.evaluation.store import practices_by_hwb
    from bettercare.analytics.metrics import MetricDataError

    try:
        with open_store(store) as con:
            hwb_of = practices_by_hwb(con)
            page.practices = sorted(p for p, h in hwb_of.items() if code is None or h == code)
            if not change_date:
                return page
            try:  # as every form takes a date: 1/4/2024, 1 April 2024 or 2024-04-01
                when = parse_uk_date(change_date)
            except BadInput as exc:
                page.error = f"Change date: {exc}."
                return page
            outside = [p for p in page.treated if p not in page.practices]
            if outside:
                page.error = f"Practice {outside[0][:20]} is not a practice of this HWB."
                return page
            if not page.treated:
                page.error = "Choose the practices the change applied to."
                return page
            own: dict[str, dt.date] = {}
            for practice, text in page.starts.items():
                if practice not in page.treated:
                    page.error = (
                        f"Practice {practice[:20]} has a start date but is not ticked as "
                        "a practice the change applied to."
                    )
                    return page
                try:
                    own[practice] = parse_uk_date(text)
                except BadInput as exc:
                    page.error = f"Start date of practice {practice[:20]}: {exc}."
                    return page
            spec = EvaluationSpec(
                name=name or "change",
                change_date=when,
                treated=page.treated,
                starts=own,
                methods=list(PAGE_METHODS),
            )
            page.evaluation = evaluate_store(con, spec)
    except (EvaluationDataError, MetricDataError) as exc:
        page.error = f"The analytics store cannot answer: {exc}"
    return page
