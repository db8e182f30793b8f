"""A demo store written under an older store contract is built afresh, not reused.

For example one whose ``scheme_activity`` predates its ``hwb_code`` column: reused, it
could not be measured (its rows cannot be told apart by board).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bettercare.data.plan_files import load_plan
from bettercare.pipelines import demo_store

PLAN = Path(__file__).resolve().parents[2] / "examples" / "leicestershire_2016.yaml"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The demo stores built (the generator itself replaced by a recorder)."""
    from bettercare.pipelines import synthetic

    made: list[Path] = []

    def record(params: object, years: object, seed: object, work: Path, **kw: object) -> None:
        work.mkdir(parents=True, exist_ok=True)
        made.append(work)

    monkeypatch.setattr(synthetic, "run_synthetic", record)
    return made


def test_a_store_of_the_current_layout_is_reused(tmp_path: Path, builds: list[Path]) -> None:
    plan = load_plan(PLAN)
    demo_store.ensure_demo_store(plan, tmp_path / "w", 500, 1)
    demo_store.ensure_demo_store(plan, tmp_path / "w", 500, 1)
    assert builds == [tmp_path / "w"]


def test_a_store_of_an_older_layout_is_rebuilt(tmp_path: Path, builds: list[Path]) -> None:
    plan = load_plan(PLAN)
    work = tmp_path / "w"
    demo_store.ensure_demo_store(plan, work, 500, 1)
    marker = work / demo_store.READY_FILE
    written = json.loads(marker.read_text(encoding="utf-8"))
    assert "hwb_code" in written["store_columns"]["scheme_activity"]
    # the marker as stores were marked before the store's columns were recorded
    del written["store_columns"]
    marker.write_text(json.dumps(written), encoding="utf-8")
    demo_store.ensure_demo_store(plan, work, 500, 1)
    assert builds == [work, work]
