"""Plans parsed once per stored version for the pages that only read them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bettercare.data.plan_files import load_plan
from bettercare.data.plan_store import body_of, plan_for_reading, plan_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_same_stored_plan_is_parsed_once_and_an_edit_afresh() -> None:
    plan = load_plan(EXAMPLES / "marlbury_2025.yaml")
    stored = SimpleNamespace(id="marlbury_2025", body=body_of(plan))
    first = plan_for_reading(stored)  # type: ignore[arg-type]
    again = plan_for_reading(SimpleNamespace(id="marlbury_2025", body=str(stored.body)))  # type: ignore[arg-type]
    assert again is first and first == plan_of(stored)  # type: ignore[arg-type]
    edited = plan.model_copy(update={"risks": plan.risks[:1]})
    changed = plan_for_reading(SimpleNamespace(id="marlbury_2025", body=body_of(edited)))  # type: ignore[arg-type]
    assert changed is not first and len(changed.risks) == 1 != len(first.risks)
