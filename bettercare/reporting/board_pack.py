"""The Health and Wellbeing Board report ("board pack") for one BCF plan, as HTML and PDF.

Owns what a board paper on a Better Care Fund plan holds and in what order, after the
board papers of the seeds (Leicester HWB, 3 April 2014, seed 001: a cover, an executive
summary, the recommendations the board is asked to agree, the plan, then appendices):

* cover and contents; summary of key figures and recommendations;
* the plan: pooled budget by funding source and year, schemes (spend, commissioner,
  provider, admissions avoided), national conditions, risk register with its likelihood
  x impact heatmap, risk share and contingency, payment for performance, partners and
  sign-offs;
* monitoring, when an analytics store is given: metrics against plan with RAG and Making
  Data Count (SPC) icons, each metric's chart, schemes' admissions avoided and the
  payment for performance earned to date;
* appendices: every planning-rule finding, the XmR charts, the basis of the figures.

:func:`build_board_pack` gives a :class:`BoardPack`: ``.html`` is one self-contained file
(charts are SVG data URIs, styles inline, print CSS for A4 with page numbers),
``.body`` the same content as a fragment for the web app's page template, and
``.pdf()`` renders it with WeasyPrint, fetching nothing but those data URIs. Both the CLI
(``bettercare report``) and the web app serve it. It computes no figure itself: the plan
models, :mod:`bettercare.domain.rules`, :mod:`bettercare.domain.p4p` and the analytics
layer do; :mod:`bettercare.reporting.charts` draws them. All aggregate: no person-level
data reaches the pack.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bettercare.analytics.care_coverage import ALL as ALL_PRACTICES
from bettercare.analytics.care_coverage import CoverageRow, published
from bettercare.analytics.engine.backends import Store
from bettercare.analytics.measure import MeasureError, measure_plan
from bettercare.analytics.performance import RagThresholds, spc_charts
from bettercare.analytics.published import (
    Comparison,
)
from bettercare.analytics.scheme_impact import (
    ALL_SCHEMES,
    P4PEarned,
)
from bettercare.data.geography import hwb_by_code
from bettercare.domain.findings import Finding, Severity
from bettercare.domain.labels import code_label, format_period
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.money import format_gbp
from bettercare.domain.p4p import PerformanceSum, performance_sum_or_reason
from bettercare.domain.plan import ConditionStatus, Plan
from bettercare.domain.risk import RiskBand, floor
from bettercare.domain.rules import check_plan, required_conditions
from bettercare.errors import BadInput
from bettercare.reporting import charts
from bettercare.reporting.metrics_report import ASSURANCE_MEANING, VARIATION_MEANING, board_rows
from bettercare.reporting.rendering import environment

if TYPE_CHECKING:
    from bettercare.analytics.evaluation import Evaluation

#: The grains the store is measured at: monthly for charts, SPC and P4P; yearly for plans
#: stated per year (the board table picks the finest grain a metric is judged at).
GRAINS = ("month", "year")
#: Risks scoring this (likelihood x impact) or more, the extreme band of
#: :mod:`bettercare.domain.risk`, are named in the recommendations.
HIGH_RISK = floor(RiskBand.EXTREME)


class BoardPackError(BadInput):
    """The board pack cannot be made from this input (a store that cannot be measured)."""


@dataclass(frozen=True)
class LinkedData:
    """The plan measured on an analytics store: what the monitoring sections show."""

    store: str
    hwb_code: str
    #: :func:`~bettercare.analytics.performance.plan_vs_actual` per grain of :data:`GRAINS`
    pva: dict[str, pd.DataFrame]
    #: :func:`~bettercare.analytics.scheme_impact.scheme_impact` at month grain
    schemes: pd.DataFrame
    p4p: P4PEarned | None
    warnings: tuple[str, ...] = ()
    #: the RAG's amber tolerance (% of the plan value) the metrics were rated with
    amber_tolerance_pct: float = RagThresholds().amber_tolerance_pct
    #: where the figures came from: "store", "published" or "store and published"
    source: str = "store"
    #: the board among its peers, per plan metric (published figures only)
    comparisons: tuple[Comparison, ...] = ()
    #: the peers compared with (HWB codes)
    peer_codes: tuple[str, ...] = ()


def measure(
    plan: Plan,
    store: Store | None = None,
    *,
    hwb_code: str | None = None,
    thresholds: RagThresholds | None = None,
    figures: Path | None = None,
    peers: Sequence[str] | None = None,
) -> LinkedData:
    """Measure ``plan`` on ``store`` and/or published ``figures``: metrics vs plan, P4P.

    A thin adapter over :func:`bettercare.analytics.measure.measure_plan` (at
    :data:`GRAINS`), the one measuring of a plan. With ``figures`` (a figures database,
    ``bettercare figures load``) the published figures of the plan's HWB are measured
    too, or alone when there is no store; each row of the results says its ``source``
    (``store`` or ``published``; the store's figure wins where both have one), and the
    board is compared with England, its region and ``peers`` (default: its NHS region).
    Raises :class:`BoardPackError` (one line) for a missing, locked or damaged store or
    figures database, a store of another HWB or one with nothing to measure.
    """
    try:
        m = measure_plan(
            plan,
            store,
            GRAINS,
            hwb_code=hwb_code,
            thresholds=thresholds,
            figures=figures,
            peers=peers,
            hwb_first=True,
        )
    except MeasureError as exc:
        raise BoardPackError(str(exc)) from None
    return LinkedData(
        m.store,
        m.hwb_code,
        m.pva,
        m.schemes["month"],
        m.p4p if plan.performance else None,
        m.warnings,
        m.amber_tolerance_pct,
        m.source,
        m.comparisons,
        m.peer_codes,
    )


@dataclass(frozen=True)
class BoardPack:
    """A board pack: the HTML page (self-contained) and its PDF on demand."""

    plan: Plan
    html: str
    #: What the reader should know about the input (e.g. periods the store cannot measure)
    warnings: tuple[str, ...] = field(default=())
    #: The same content as a fragment for a page template (the web app's NHS page): no
    #: document, styles, header or main of its own; the app's static board-pack.css styles it
    body: str = ""

    def pdf(self) -> bytes:
        """The pack as PDF (A4, WeasyPrint); only the page's own data URIs are fetched."""
        return html_to_pdf(self.html)


def html_to_pdf(html: str) -> bytes:
    """Render self-contained HTML to a tagged PDF with WeasyPrint, fetching no file or URL."""
    # imported here: it loads Pango, which the HTML alone does not need
    import weasyprint  # type: ignore[import-untyped]

    fetcher = weasyprint.URLFetcher(allowed_protocols=["data"])
    # a tagged PDF: headings, tables and figures (with their alt text) for screen readers
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_tags=True)
    return pdf


# -- what the pages show -----------------------------------------------------------------------


def _schemes_to_date(schemes: pd.DataFrame) -> list[Any]:
    """The latest row of each scheme, schemes by reference and the all-schemes total last."""
    if schemes.empty:
        return []
    to_date = schemes.groupby("scheme_reference").tail(1)
    to_date = to_date.assign(_all=to_date.scheme_reference == ALL_SCHEMES)
    return list(to_date.sort_values(["_all", "scheme_reference"]).itertuples())


def _rule_counts(findings: Sequence[Finding]) -> list[tuple[str, int, int]]:
    """(rule, errors, warnings) for each rule with a finding, errors first."""
    errors = Counter(f.rule for f in findings if f.severity == Severity.ERROR)
    warnings = Counter(f.rule for f in findings if f.severity != Severity.ERROR)
    rules = sorted(set(errors) | set(warnings), key=lambda r: (-errors[r], -warnings[r], r))
    return [(r, errors[r], warnings[r]) for r in rules]


def _key_figures(plan: Plan) -> list[dict[str, Any]]:
    """Per year: minimum, agreed, funding, scheme spend, protected ASC, admissions avoided."""
    return [
        {
            "year": fy,
            "minimum": plan.minimum_pooled_budget.get(fy),
            "agreed": plan.agreed_pooled_budget.get(fy),
            "funding": plan.funding_total(fy)
            if any(f.financial_year == fy and f.amount is not None for f in plan.funding)
            else None,
            "schemes": plan.scheme_total(fy)
            if any(plan.scheme_spend(s, fy) is not None for s in plan.schemes)
            else None,
            "protected": plan.protected_social_care.get(fy),
            "admissions": sum(s.admissions_avoided.get(fy) or 0 for s in plan.schemes)
            if any(s.admissions_avoided.get(fy) is not None for s in plan.schemes)
            else None,
        }
        for fy in plan.financial_years
    ]


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def recommendations(
    plan: Plan,
    findings: Sequence[Finding],
    p4p: PerformanceSum | None,
    linked: LinkedData | None,
    red_metrics: Sequence[str],
) -> list[str]:
    """What the board is asked to do, from the state of the plan and its monitoring."""
    years = " and ".join(format_period(fy) for fy in plan.financial_years)
    errors = sum(f.severity == Severity.ERROR for f in findings)
    out = []
    if errors:
        out.append(
            f"Note that the plan has {errors} planning-rule error(s) (section 1 and "
            "Appendix A), and ask the partners to resolve them before the plan is approved."
        )
    elif plan.status in ("draft", "agreed"):
        out.append(f"Approve the Better Care Fund plan for {years} for submission to NHS England.")
    else:
        when = f" on {plan.date_agreed:%d %B %Y}" if plan.date_agreed else ""
        status = code_label(plan.status, "plan_status").lower()
        out.append(f"Note the Better Care Fund plan for {years}, {status}{when}.")
    unmet = [
        charts.code_label(c.id, capitalise=False)
        for c in plan.national_conditions
        if c.id in required_conditions(plan) and c.status != ConditionStatus.MET
    ]
    unmet += [
        charts.code_label(cid, capitalise=False)
        for cid in required_conditions(plan)
        if cid not in {c.id for c in plan.national_conditions}
    ]
    if unmet:
        out.append(
            f"Note the national condition(s) not yet shown as met: {_and(unmet)} (section 4)."
        )
    high = [r.id for r in plan.risks if r.band is RiskBand.EXTREME]
    if high:
        out.append(
            f"Note the {len(high)} risk(s) in the extreme band (scored {HIGH_RISK} or more: "
            f"{_and(high)}) and their mitigations (section 5)."
        )
    if p4p is not None and p4p.national_scheme:
        earned = linked.p4p.earned if linked and linked.p4p else None
        text = (
            f"Note the {format_gbp(p4p.performance_linked_sum)} of the fund linked to reducing "
            f"non-elective admissions in {format_period(p4p.financial_year)}"
        )
        if earned is not None:
            text += f", of which {format_gbp(earned)} is earned to date"
        out.append(text + " (section 6).")
    if red_metrics:
        out.append(
            f"Seek assurance on the recovery of the metric(s) rated RED against plan: "
            f"{_and(list(red_metrics))} (section 7)."
        )
    elif linked is None:
        out.append("Note that metrics are shown as planned and reported: no linked data given.")
    return out


def _care_coverage(rows: Sequence[CoverageRow]) -> list[dict[str, Any]]:
    """Coverage for all practices by month, as published (1-7 suppressed, others to 5)."""

    def pct(x: float | int | None) -> str:
        return "suppressed" if x is None else f"{100 * x:.0f}%"

    out = []
    for r in sorted(rows, key=lambda r: r.month):
        if r.gp_practice != ALL_PRACTICES or r.group != ALL_PRACTICES:
            continue
        shown = published(r)
        out.append(
            {
                "month": f"{r.month:%b %Y}",
                "at_risk": "suppressed" if shown["at_risk"] is None else f"{shown['at_risk']:,}",
                "plan": pct(shown["plan_share"]),
                "lead": pct(shown["lead_share"]),
                "both": pct(shown["both_share"]),
            }
        )
    return out


def _funnel_charts(linked: LinkedData) -> list[tuple[str, str]]:
    """(metric name, funnel SVG data URI) for each compared metric with a funnel."""
    from bettercare.reporting.charts import funnel_svg

    areas = hwb_by_code()
    names = {c: a.hwb_name for c, a in areas.items()}
    peers = set(linked.peer_codes)
    return [
        (
            CATALOGUE[c.benchmark.metric].name,
            charts.svg_data_uri(funnel_svg(c.funnel, linked.hwb_code, peers, names)),
        )
        for c in linked.comparisons
        if c.funnel is not None
    ]


def _scheme_impact(plan: Plan) -> tuple[str | None, str | None]:
    """The Monte Carlo section as HTML, or why the plan cannot be modelled."""
    from bettercare.analytics.modelling import ImpactParams, ModellingInputError, run_impact
    from bettercare.reporting.modelling import impact_charts, impact_section_html

    try:
        result = run_impact(plan, ImpactParams())
    except ModellingInputError as exc:
        return None, str(exc)
    images = {
        name: charts.svg_data_uri(str(svg)) for name, svg in impact_charts(result, "svg").items()
    }
    return impact_section_html(result, images), None


def build_board_pack(
    plan: Plan,
    *,
    store: Store | None = None,
    findings: Sequence[Finding] | None = None,
    hwb_code: str | None = None,
    linked: LinkedData | None = None,
    generated_on: dt.date | None = None,
    board_recommendations: Sequence[str] | None = None,
    care_coverage: Sequence[CoverageRow] | None = None,
    figures: Path | None = None,
    peers: Sequence[str] | None = None,
    evaluation: Evaluation | None = None,
) -> BoardPack:
    """The board pack of ``plan``, measured on ``store`` (or ``linked``) when given.

    ``findings``: the planning rules' findings as the caller located them (file and
    line); default :func:`~bettercare.domain.rules.check_plan`. ``hwb_code`` names the HWB
    to measure when the store's differs (as ``bettercare metrics --hwb``).
    ``board_recommendations`` replaces the recommendations worked out from the plan.
    ``care_coverage``: the care coordination register's coverage
    (:func:`bettercare.analytics.care_coverage.coverage`), shown for all practices with
    small numbers suppressed.
    ``figures``: a figures database of published figures, measured with (or instead of)
    the store, and the board compared with its ``peers`` (default: its NHS region).
    ``evaluation``: effects of a scheme or change against a counterfactual
    (:func:`bettercare.analytics.evaluation.evaluate_store`), shown beside "Will the
    schemes deliver?".
    Raises :class:`BoardPackError` when the store or figures cannot be measured.
    """
    found = list(check_plan(plan) if findings is None else findings)
    if linked is None and (store is not None or figures is not None):
        linked = measure(plan, store, hwb_code=hwb_code, figures=figures, peers=peers)
    p4p, p4p_note = performance_sum_or_reason(plan)
    given = {c.id: c for c in plan.national_conditions}
    conditions = [(cid, given.get(cid)) for cid in required_conditions(plan)]
    conditions += [(c.id, c) for c in plan.national_conditions if c.id not in dict(conditions)]
    ctx: dict[str, Any] = {
        "plan": plan,
        "generated_on": generated_on or dt.date.today(),
        "findings": found,
        "errors": [f for f in found if f.severity == Severity.ERROR],
        "warnings": [f for f in found if f.severity != Severity.ERROR],
        "rule_counts": _rule_counts(found),
        "figures": _key_figures(plan),
        "partner_names": {p.id: p.name for p in plan.partners},
        "budget_chart": charts.svg_data_uri(charts.budget_by_source_svg(plan))
        if charts.funding_by_source(plan)
        else None,
        "funding": sorted(plan.funding, key=lambda f: (f.financial_year, str(f.source))),
        "conditions": conditions,
        "conditions_met": sum(1 for _, c in conditions if c and c.status == ConditionStatus.MET),
        "risk_chart": charts.svg_data_uri(charts.risk_heatmap_svg(plan)) if plan.risks else None,
        "unscored": [r for r in plan.risks if r.likelihood is None or r.impact is None],
        "high_risks": [r for r in plan.risks if r.band is RiskBand.EXTREME],
        "high_risk": HIGH_RISK,
        "p4p": p4p,
        "p4p_note": p4p_note,
        "catalogue": CATALOGUE,
        "linked": linked,
        "Severity": Severity,
        "label": charts.code_label,
    }
    red: list[str] = []
    if linked is not None:
        rows = board_rows(plan, linked.pva)
        red = [r["name"] for r in rows if r["row"] is not None and r["row"].rag == "RED"]
        # each metric charted at the finest grain it was measured at (published figures
        # are often annual only)
        chart_of: dict[str, pd.DataFrame] = {}
        for grain in ("month", "quarter", "year"):
            frame = linked.pva.get(grain)
            if frame is None or frame.empty:
                continue
            for m in plan.metrics:
                if m.metric not in chart_of and m.metric in set(frame.metric):
                    chart_of[m.metric] = frame
        shown = [m.metric for m in plan.metrics if m.metric in chart_of]
        ctx |= {
            "metric_rows": rows,
            "rag_counts": Counter(
                r["row"].rag for r in rows if r["row"] is not None and isinstance(r["row"].rag, str)
            ),
            "metric_charts": [
                (
                    CATALOGUE[m].name,
                    charts.svg_data_uri(charts.metric_plan_vs_actual_svg(chart_of[m], m)),
                )
                for m in shown
            ],
            "spc_charts": [
                (
                    CATALOGUE[m].name,
                    charts.svg_data_uri(
                        charts.xmr_chart_svg(
                            spc_charts(chart_of[m])[m],
                            list(chart_of[m].period[chart_of[m].metric == m]),
                            CATALOGUE[m].name,
                            metric=m,
                        )
                    ),
                )
                for m in shown
                if m in spc_charts(chart_of[m])
            ],
            "schemes_to_date": _schemes_to_date(linked.schemes),
            "scheme_chart": charts.svg_data_uri(charts.scheme_admissions_svg(linked.schemes))
            if not linked.schemes.empty
            else None,
            "all_schemes": ALL_SCHEMES,
            "variation_meaning": VARIATION_MEANING,
            "assurance_meaning": ASSURANCE_MEANING,
            "peer_rows": [c.benchmark for c in linked.comparisons],
            "peer_bands": {
                c.benchmark.metric: c.point.band.value if c.point else c.note
                for c in linked.comparisons
            },
            "funnel_charts": _funnel_charts(linked),
        }
    if p4p is not None:
        ctx["p4p_chart"] = charts.svg_data_uri(
            charts.p4p_svg(p4p, linked.p4p if linked is not None else None)
        )
    ctx["impact_html"], ctx["impact_note"] = _scheme_impact(plan)
    ctx["care_coverage"] = _care_coverage(care_coverage) if care_coverage is not None else None
    ctx["evaluation"] = evaluation
    ctx["recommendations"] = (
        list(board_recommendations)
        if board_recommendations is not None
        else recommendations(plan, found, p4p, linked, red)
    )
    template = environment().get_template("board_pack.html.j2")
    html = template.render(**ctx, embedded=False)
    body = template.render(**ctx, embedded=True)
    return BoardPack(plan, html, linked.warnings if linked else (), body)
