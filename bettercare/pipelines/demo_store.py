"""The web app's demo analytics store: a plan's HWB generated, ingested and measured.

For a plan whose HWB has a synthetic preset (:data:`bettercare.data.synth.presets.PRESETS`,
matched on the ONS code), the preset's population is generated for the plan's years and
the year before, with the plan's schemes driving the synthetic scheme activity, then
ingested into a store (:func:`bettercare.pipelines.synthetic.run_synthetic`). The app
(:mod:`bettercare.app.analytics_store`) decides when; this module owns how, so the app
imports no generator module.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from bettercare.domain.periods import fy_start_year
from bettercare.domain.plan import Plan

#: Written in a demo store's folder once it is complete: what it was generated from.
READY_FILE = "ready.json"


@functools.cache
def _preset_codes() -> dict[str, str]:
    """HWB code -> synthetic preset (validated once, not on every page view)."""
    from bettercare.data.synth.presets import PRESETS, preset

    return {preset(name).area.hwb_code: name for name in PRESETS}


def preset_for(plan: Plan) -> str | None:
    """The synthetic preset of the plan's HWB (matched on the ONS code), if there is one."""
    return _preset_codes().get(plan.hwb.ons_code) if plan.hwb.ons_code else None


def synthetic_years(plan: Plan) -> list[str]:
    """The plan's financial years and the year before (the baseline, more SPC points)."""
    first = fy_start_year(sorted(plan.financial_years)[0])
    before = f"{first - 1}/{str(first)[2:]}"
    return [before, *sorted(plan.financial_years)]


def ensure_demo_store(plan: Plan, work: Path, population: int, seed: int) -> tuple[str, ...]:
    """The plan's demo store in ``work``: reused when a finished one matches, else generated.

    Returns the financial years generated. The plan's HWB must have a preset
    (:func:`preset_for`).
    """
    from bettercare.data.file_lock import exclusive
    from bettercare.data.schema import FEEDS, store_columns
    from bettercare.data.synth.presets import preset
    from bettercare.pipelines.synthetic import run_synthetic

    marker = work / READY_FILE
    years = synthetic_years(plan)
    name = preset_for(plan)
    if name is None:
        raise ValueError(f"no synthetic preset for HWB {plan.hwb.ons_code or plan.hwb.name}")
    params = preset(name).with_population(population).with_plan_schemes(plan)
    # the schemes' targets drive the synthetic scheme activity: edited targets, new data
    targets = [s.model_dump(mode="json") for s in params.schemes]
    # a store written under an older store contract (e.g. scheme activity before it
    # carried its HWB) is built afresh, not reused
    layout = {
        f.store_table: [c.name for c in store_columns(f)] for f in FEEDS.values() if f.store_table
    }
    wanted = {
        "population": population,
        "seed": seed,
        "years": years,
        "schemes": targets,
        "store_columns": layout,
    }
    # server workers share the folder: one builds, the others wait and reuse it
    with exclusive(work.parent / f"{work.name}.lock"):
        if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return tuple(years)
        marker.unlink(missing_ok=True)
        run_synthetic(params, years, seed, work, grains=())
        marker.write_text(json.dumps(wanted), encoding="utf-8")
    return tuple(years)
