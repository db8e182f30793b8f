"""Risk model outputs people read: the calibration plot and the evaluation/stratification files.

Owns the calibration plot (PNG, matplotlib Agg) and the files ``bettercare risk evaluate``
and ``bettercare risk stratify`` write into a folder (CSV, JSON, PNG, written whole or not
at all with :func:`bettercare.data.atomic.staged_entries`). It does not own the figures
(:mod:`bettercare.analytics.risk`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pyarrow as pa

from bettercare.analytics.risk.cohorts import Scored, counts_by
from bettercare.analytics.risk.evaluate import Evaluation
from bettercare.data import safe_csv
from bettercare.data.atomic import staged_entries

#: Files ``risk evaluate --out`` writes.
EVALUATION_FILES: tuple[str, ...] = (
    "evaluation.json",
    "top_k.csv",
    "calibration.csv",
    "subgroups.csv",
    "coefficients.csv",
    "calibration.png",
)
#: Files ``risk stratify --out`` writes (the patient list only with ``--direct-care``).
STRATIFY_FILES: tuple[str, ...] = ("by_practice.csv", "by_hwb.csv", "stratify.json")
DIRECT_CARE_FILE = "direct_care_list.csv"


def calibration_png(evaluation: Evaluation) -> bytes:
    """Observed admission rate against mean predicted risk by tenth, model and baseline."""
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    try:
        top = 0.0
        for name, style in (("model", "o-"), ("baseline", "s--")):
            bins = evaluation.calibration[name]
            label = evaluation.model if name == "model" else "baseline (age + prior admissions)"
            ax.plot(bins["mean_predicted"], bins["observed"], style, label=label)
            top = max(top, float(bins["mean_predicted"].max()), float(bins["observed"].max()))
        top = min(1.0, top * 1.05 + 0.01)
        ax.plot([0, top], [0, top], color="grey", linewidth=1, label="perfect calibration")
        slope = evaluation.summaries["model"]["calibration_slope"]
        ax.set_title(
            f"Calibration, test year from {evaluation.test_index} (slope {slope:.2f})"
            if slope is not None
            else "Calibration"
        )
        ax.set_xlabel("mean predicted risk of emergency admission (tenths of risk)")
        ax.set_ylabel("observed share admitted in the next 12 months")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.legend(loc="upper left")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    """JSON-safe: NaN becomes None (recursively)."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_evaluation(evaluation: Evaluation, out_dir: Path) -> list[Path]:
    """Write :data:`EVALUATION_FILES` into ``out_dir`` (all or none); return their paths."""
    calibration = pd.concat(
        [b.assign(model=name) for name, b in evaluation.calibration.items()], ignore_index=True
    )
    with staged_entries(out_dir) as staged:
        (staged / "evaluation.json").write_text(_json(_finite(evaluation.to_json())))
        safe_csv.to_csv(evaluation.top, staged / "top_k.csv")
        safe_csv.to_csv(calibration, staged / "calibration.csv")
        safe_csv.to_csv(evaluation.subgroups, staged / "subgroups.csv")
        safe_csv.to_csv(evaluation.coefficients, staged / "coefficients.csv")
        (staged / "calibration.png").write_bytes(calibration_png(evaluation))
    return [out_dir / f for f in EVALUATION_FILES]


def stratify_summary(scored: Scored) -> dict[str, Any]:
    """Index date, training date, model and the suppression rule, for ``stratify.json``."""
    return {
        "index_date": scored.index_date.isoformat(),
        "trained_on_index_date": scored.trained_on.isoformat(),
        "model": scored.model,
        "adults_scored": scored.table.num_rows,
        "suppression": "counts 1-7 suppressed (empty), others rounded to the nearest 5 "
        "(HES small-number rule); people who opted out are not in the store",
    }


def write_stratification(scored: Scored, out_dir: Path, direct_care: bool = False) -> list[Path]:
    """Write the aggregate counts (and, for direct care, the patient list) into ``out_dir``."""
    names = [*STRATIFY_FILES, *([DIRECT_CARE_FILE] if direct_care else [])]
    with staged_entries(out_dir) as staged:
        safe_csv.to_csv(counts_by(scored.table, ("hwb_code", "gp_practice")), staged / names[0])
        safe_csv.to_csv(counts_by(scored.table, ("hwb_code",)), staged / names[1])
        (staged / names[2]).write_text(_json(stratify_summary(scored)))
        if direct_care:
            safe_csv.to_csv(direct_care_list(scored.table), staged / DIRECT_CARE_FILE)
    return [out_dir / n for n in names]


def direct_care_list(table: pa.Table) -> pd.DataFrame:
    """People in a tier or a cohort, highest risk first (pseudonyms: for direct care only)."""
    frame = table.to_pandas()
    cohorts = [c for c in frame.columns if c.startswith("cohort_")]
    keep = frame["tier"].notna() | frame[cohorts].any(axis=1)
    return frame[keep].sort_values("probability", ascending=False, kind="stable")
