"""The board pack and the impact model of a plan in the web app.

The pack is :func:`bettercare.reporting.board_pack.build_board_pack`'s, as ``bettercare
report`` writes it, measured on the plan's analytics store when its metrics are ready; a
plan without a store gets the plan sections only. The public may read the pack of a
published plan; everyone else as they may read the plan (their own HWB; assurers and
admins every HWB). The model is :func:`bettercare.analytics.modelling.impact.run_impact`
with :mod:`bettercare.reporting.modelling`'s charts, as ``bettercare model impact`` runs
it. The app makes packs and models in the background (:mod:`bettercare.app.analytics_store`)
and keeps them, and the PDFs, per plan version.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from bettercare.data.plan_store import plan_for_reading, plan_of
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Action
from bettercare.domain.money import format_gbp
from bettercare.domain.plan import Plan
from bettercare.services.access import Caller, may, permit
from bettercare.services.dashboard import CHARTS_LOCK, scoped_svg
from bettercare.services.plans import authorized_record, load_record

if TYPE_CHECKING:
    from bettercare.reporting.board_pack import BoardPack

CACHE_SIZE = 8
_PDF_LOCK = threading.Lock()


class MeasuredStore(Protocol):
    """What a pack needs of the app's measuring of a plan (a ``StoreStatus``)."""

    @property
    def linked(self) -> Any:
        """The measured figures (``LinkedData``), or None."""

    @property
    def run(self) -> Any:
        """Which measuring run produced them."""

    @property
    def state(self) -> Any:
        """Preparing, ready, ..."""


def pack_plan(db: Session, caller: Caller, plan_id: str) -> PlanRecord:
    """The plan, if the caller may read its pack (the public: once published)."""
    record = load_record(db, plan_id)
    if record.published and may(caller, Action.VIEW_PUBLISHED, record.hwb_code):
        return record
    permit(db, caller, Action.VIEW_PLAN, f"plan:{record.id}:board-pack", record.hwb_code)
    return record


def model_plan(db: Session, caller: Caller, plan_id: str) -> tuple[PlanRecord, Plan]:
    """The plan, if the caller may see its model (as its metrics)."""
    target = f"plan:{plan_id}:model"
    record = authorized_record(db, caller, plan_id, Action.VIEW_METRICS, target)
    return record, plan_for_reading(record)  # shared: read only


@dataclass(frozen=True)
class PlanVersion:
    """Which plan and version a model is of (what caches key on), without its database row."""

    id: str
    version: int


def build_pack(plan: Plan, linked: Any) -> BoardPack:
    """The plan's board pack, measured (``linked``) or not; one drawing at a time.

    Called by the app's background preparation, never in a request.
    """
    from bettercare.reporting.board_pack import build_board_pack  # slow to import

    with CHARTS_LOCK:  # matplotlib's style context is global: one drawing at a time
        return build_board_pack(plan, linked=linked)


def pack_key(record: PlanRecord, status: MeasuredStore) -> tuple[Any, ...]:
    """What the pack (and its PDF) of this plan version and measuring is cached under."""
    return (record.id, record.version, str(status.state), status.run)


#: Workflow states of a plan that has been through assurance: treated as published.
PUBLISHED_STATES = frozenset({"assured", "monitoring"})


def is_published(record: PlanRecord) -> bool:
    """True for a plan published as a board paper or in a published (assured) state."""
    return bool(record.published) or record.state in PUBLISHED_STATES


def plans_to_prepare(
    db: Session, every_plan: bool = False, first_hwb: str | None = None
) -> list[tuple[PlanVersion, Plan]]:
    """The plans whose reports the app prepares in the background, in the order to do them.

    Published plans (:func:`is_published`) first; with ``every_plan`` (the demo) the others
    after them, the plans of ``first_hwb`` (the demo users' board) first among each group.
    A system task: no caller (nothing is shown to anyone).
    """
    from bettercare.data.plan_store import list_plans

    chosen = [r for r in list_plans(db) if every_plan or is_published(r)]
    chosen.sort(key=lambda r: (not is_published(r), r.hwb_code != first_hwb, r.id))
    return [(PlanVersion(r.id, r.version), plan_of(r)) for r in chosen]


def plan_to_prepare(
    db: Session, plan_id: str, every_plan: bool = False
) -> tuple[PlanVersion, Plan] | None:
    """The plan if its reports are prepared in the background (published, or ``every_plan``)."""
    record = db.get(PlanRecord, plan_id)
    if record is None or not (every_plan or is_published(record)):
        return None
    return PlanVersion(record.id, record.version), plan_of(record)


def _remember(cache: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    cache[key] = value
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


def pack_pdf(
    pdfs: OrderedDict[tuple[Any, ...], bytes], key: tuple[Any, ...], pack: BoardPack
) -> bytes:
    """The pack as PDF (A4, WeasyPrint), made once per ``key`` and kept in ``pdfs``."""
    pdf = pdfs.get(key)
    if pdf is None:
        with _PDF_LOCK:  # one PDF at a time: WeasyPrint is CPU-heavy
            pdf = pdfs.get(key)
            if pdf is None:
                pdf = pack.pdf()
                _remember(pdfs, key, pdf)
    return pdf


_SVG_OPEN = re.compile(r"<svg\b")
_PROLOGUE = re.compile(r"\A(?:\s*<\?xml[^>]*\?>|\s*<!DOCTYPE[^>]*>|\s*<!--.*?-->)*\s*", re.S)


def labelled_svg(svg: str, label: str, prefix: str) -> str:
    """A chart's SVG ready to inline: no prologue, ``role="img"``, a label and a title."""
    text = _PROLOGUE.sub("", svg, count=1)
    safe = html.escape(label, quote=True)
    text = _SVG_OPEN.sub(f'<svg role="img" aria-label="{safe}"', text, count=1)
    text = re.sub(r"(<svg\b[^>]*>)", rf"\1<title>{safe}</title>", text, count=1)
    return scoped_svg(text, prefix)


def impact_model(
    models: OrderedDict[tuple[Any, ...], dict[str, Any]],
    record: PlanRecord | PlanVersion,
    plan: Plan,
    fit_to: Path | None,
) -> dict[str, Any]:
    """The scheme impact Monte Carlo of the plan, as ``bettercare model impact`` runs it.

    Default parameters (10,000 draws, fixed seed: the same page every time); ``fit_to``
    a store: each scheme fitted to its performance to date there (``--store``). Kept in
    ``models`` per plan version. Raises ``ModellingInputError`` for a plan that cannot be modelled.
    """
    key = (record.id, record.version, str(fit_to))
    found = models.get(key)
    if found is not None:
        return found
    from bettercare.analytics.modelling.impact import (
        PERCENTILES,
        ImpactParams,
        modelled_year,
        run_impact,
    )
    from bettercare.analytics.modelling.store_inputs import fitted_from_store
    from bettercare.reporting.modelling import impact_charts, impact_context

    params = ImpactParams()
    notes: list[str] = []
    fitted = None
    if fit_to is not None:
        fitted, notes = fitted_from_store(fit_to, plan, modelled_year(plan, params))
    with CHARTS_LOCK:  # pyplot draws these: one drawing at a time
        found = models.get(key)
        if found is not None:
            return found
        result = run_impact(plan, params, fitted)
        svgs = impact_charts(result, fmt="svg")
    result.notes[:0] = notes
    p = result.probability_meeting_target
    labels = {
        "admissions_avoided": (
            f"Distribution of admissions avoided in {result.financial_year} over "
            f"{params.draws:,} draws: probability of meeting the target of "
            f"{result.target:,} is {p:.0%}"
        ),
        "tornado": "Which schemes matter most: "
        + "; ".join(
            f"{b.reference} {b.low:.0%} at its P10 to {b.high:.0%} at its P90"
            for b in result.tornado[:15]
        ),
        "partner_shortfall": "Shortfall each partner bears: "
        + "; ".join(
            f"{result.partner_names.get(pid, pid)} expected {format_gbp(round(float(d.mean())))}"
            for pid, d in result.partner_shortfall.items()
        ),
    }
    model = impact_context(result) | {
        "charts": {
            name: labelled_svg(str(svg), labels[name], f"m-{record.id}-{name}")
            for name, svg in svgs.items()
        },
        "shortfall": [
            {
                "partner": result.partner_names.get(pid, pid),
                "mean": format_gbp(round(float(d.mean()))),
                "p90": format_gbp(round(float(np.percentile(d, 90)))),
            }
            for pid, d in result.partner_shortfall.items()
        ],
        "percentiles": PERCENTILES,
    }
    _remember(models, key, model)
    return model


def model_view(
    models: OrderedDict[tuple[Any, ...], dict[str, Any]],
    record: PlanRecord | PlanVersion,
    plan: Plan,
    store: Path | None,
    basis: str,
) -> tuple[dict[str, Any] | None, str | None]:
    """The model page's model and message: fitted to ``store`` when ``basis`` is observed.

    Falls back to the plan's stated ranges, saying why, when there is no measured store
    or it cannot be read; a plan that cannot be modelled gets only the message.
    """
    import duckdb

    from bettercare.analytics.metrics import MetricDataError
    from bettercare.analytics.modelling.errors import ModellingInputError
    from bettercare.data.schema import StoreOutdated

    error = None
    if basis == "observed" and store is None:
        error = (
            "No measured store for this plan yet (see the metrics page): modelled from the "
            "plan's stated ranges."
        )
    try:
        try:
            return impact_model(models, record, plan, store if basis == "observed" else None), error
        # the store could not be read to fit (or predates a column the fit needs)
        except (MetricDataError, StoreOutdated, duckdb.Error) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            error = f"The store could not be read to fit the schemes ({first}): "
            error += "modelled from the plan's stated ranges."
            return impact_model(models, record, plan, None), error
    except ModellingInputError as exc:
        return None, f"This plan cannot be modelled: {exc}"
