"""What ``bettercare demo`` prints: metric names with units, BCF periods, RAG as shown."""

from __future__ import annotations

import io
import re

import pandas as pd
from rich.console import Console

from bettercare.analytics.performance import plan_vs_actual
from bettercare.cli import demo
from bettercare.domain.plan import Plan


def _plan() -> Plan:
    return Plan.model_validate(
        {
            "plan_id": "marlbury",
            "hwb": {
                "name": "Marlbury",
                "local_authority": "marlbury_council",
                "ons_code": "E10000001",
            },
            "financial_years": ["2016/17"],
            "partners": [
                {"id": "marlbury_council", "name": "Marlbury Council", "type": "local_authority"}
            ],
            "metrics": [
                {
                    "metric": "delayed_transfers_of_care",
                    "time_basis": "month",
                    "planned": [{"period": "2016/17", "value": 280.0}],
                },
                {"metric": "reablement_91_days", "planned": [{"period": "2016/17", "value": 62.2}]},
            ],
        }
    )


def _actuals() -> pd.DataFrame:
    rows = [
        # 280.0249 is shown "280.0", as its plan: on plan (GREEN), never AMBER
        ("delayed_transfers_of_care", "2017-03", 448.0, 159_985.8, 280.0249),
        ("reablement_91_days", "2016/17", 311.0, 500.0, 62.2),
    ]
    return pd.DataFrame(
        [
            {
                "metric": m,
                "hwb_code": "E10000001",
                "period": p,
                "breakdown": "all",
                "numerator": n,
                "denominator": d,
                "value": v,
            }
            for m, p, n, d, v in rows
        ]
    )


def test_print_board_explains_its_numbers(monkeypatch) -> None:
    buf = io.StringIO()
    monkeypatch.setattr(demo, "out", Console(file=buf, width=300))
    plan = _plan()
    actuals = _actuals()
    pva = {
        "month": plan_vs_actual(actuals[actuals.period == "2017-03"], plan),
        "year": plan_vs_actual(actuals[actuals.period == "2016/17"], plan),
    }
    demo.print_board(plan, pva)
    text = buf.getvalue()
    dtoc = next(line for line in text.splitlines() if "Delayed transfers" in line)
    assert "per 100,000 population aged 18+, per month" in dtoc
    assert "March 2017 (monthly)" in dtoc and "2017-03" not in dtoc
    assert re.search(r"│\s*280\.0\s*│\s*280\.0\s*│\s*GREEN", dtoc)  # was "280.02 ... AMBER"
    reablement = next(line for line in text.splitlines() if "still at home 91 days" in line)
    assert "62.2%" in reablement and "2016-17 (annual)" in reablement
    assert not re.search(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", text)  # no raw codes


def test_plan_show_reads_as_words(monkeypatch) -> None:
    """``bettercare plan show``: funding, commissioners, partners and years as people say them."""
    from pathlib import Path

    from bettercare.cli import plan as plan_cli

    # the console is made at import (maybe by an earlier test, 80 columns): wide, so no
    # label is wrapped inside its cell
    monkeypatch.setattr(plan_cli.out, "width", 300)

    from shown_codes import raw_codes
    from typer.testing import CliRunner

    from bettercare.cli.main import app

    examples = Path(__file__).parents[2] / "examples"
    r = CliRunner().invoke(
        app, ["plan", "show", str(examples / "marlbury_2025.yaml")], env={"COLUMNS": "300"}
    )
    assert r.exit_code == 0, r.output
    assert raw_codes(r.output, {"marlbury_icb", "marlbury_county_council"}) == []
    assert "Local Authority Better Care Grant" in r.output and "2025-26" in r.output
    assert "per 100,000 population aged 65+" in r.output
