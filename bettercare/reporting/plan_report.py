"""HTML summary of BCF plans for a Health and Wellbeing Board pack.

One page per plan (budget by source and scheme, planning-rule results, payment for
performance, risk heatmap, national conditions, metrics, sign-off) and an index page.
Charts are PNG images embedded in the page, so each file stands alone.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bettercare.data.atomic import staged_directory
from bettercare.domain.findings import Finding, Severity
from bettercare.domain.labels import code_label, format_period
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.p4p import performance_sum_or_reason
from bettercare.domain.plan import Plan
from bettercare.domain.risk import band_of, score
from bettercare.domain.rules import required_conditions
from bettercare.reporting.rendering import data_uri, environment


@dataclass
class PlanResult:
    """What the report needs to know about one plan file."""

    source: Path
    plan: Plan | None
    findings: list[Finding]
    extra_sections: list[tuple[str, str]] = field(default_factory=list)  # (title, html)

    @property
    def errors(self) -> int:
        """Number of ERROR findings."""
        return sum(f.severity == Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        """Number of WARNING findings."""
        return sum(f.severity == Severity.WARNING for f in self.findings)

    @property
    def page(self) -> str:
        """File name of the plan's HTML page."""
        return f"{self.plan.plan_id if self.plan else self.source.stem}.html"


def png_data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return data_uri(buf.getvalue())


def budget_by_source_chart(plan: Plan) -> str | None:
    """Stacked bar: funding by source for each financial year."""
    by: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in plan.funding:
        if f.amount is not None:
            by[str(f.source)][f.financial_year] += float(f.amount)
    if not by:
        return None
    years = plan.financial_years
    shown_years = [format_period(fy) for fy in years]
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    bottom = [0.0] * len(years)
    for source, amounts in sorted(by.items()):
        values = [amounts.get(fy, 0) / 1e6 for fy in years]
        ax.bar(shown_years, values, bottom=bottom, label=code_label(source, "funding_source"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("£ million")
    ax.set_title("Pooled budget by funding source")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    return png_data_uri(fig)


def risk_heatmap(plan: Plan) -> list[list[dict[str, Any]]]:
    """5 x 5 grid (impact rows 5..1, likelihood columns 1..5) of scored risks.

    Scores and bands are :mod:`bettercare.domain.risk`'s (NPSA 2008 bands).
    """
    grid = []
    for impact in range(5, 0, -1):
        row = []
        for likelihood in range(1, 6):
            ids = [r.id for r in plan.risks if r.likelihood == likelihood and r.impact == impact]
            row.append(
                {
                    "score": score(likelihood, impact),
                    "band": str(band_of(likelihood, impact)),
                    "ids": ids,
                }
            )
        grid.append(row)
    return grid


def render_plan(result: PlanResult) -> str:
    """The HTML page of one plan: budget, rules, P4P, risks and any extra sections."""
    plan = result.plan
    ctx: dict[str, Any] = {"r": result, "plan": plan, "Severity": Severity}
    if plan is not None:
        p4p, p4p_note = performance_sum_or_reason(plan)
        given = {c.id: c for c in plan.national_conditions}
        ctx |= {
            "budget_chart": budget_by_source_chart(plan),
            "heatmap": risk_heatmap(plan),
            "unscored": [r for r in plan.risks if r.likelihood is None or r.impact is None],
            "p4p": p4p,
            "p4p_note": p4p_note,
            "conditions": [(cid, given.get(cid)) for cid in required_conditions(plan)],
            "catalogue": CATALOGUE,
            "partner_names": {p.id: p.name for p in plan.partners},
        }
    return environment().get_template("plan.html.j2").render(**ctx)


def render_index(results: list[PlanResult], title: str, sections: list[tuple[str, str]]) -> str:
    """The HTML index of all plans, with the given extra sections."""
    return (
        environment()
        .get_template("index.html.j2")
        .render(results=results, title=title, sections=sections)
    )


def write_report(
    out_dir: Path,
    results: list[PlanResult],
    title: str = "Better Care Fund plans",
    sections: list[tuple[str, str]] | None = None,
    assets: dict[str, bytes] | None = None,
) -> Path:
    """Write index.html and one page per plan; all or nothing (atomic directory swap)."""
    out_dir = Path(out_dir)
    with staged_directory(out_dir) as tmp:
        for r in results:
            (tmp / r.page).write_text(render_plan(r), encoding="utf-8")
        for name, data in (assets or {}).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
        (tmp / "index.html").write_text(
            render_index(results, title, sections or []), encoding="utf-8"
        )
    return out_dir / "index.html"
