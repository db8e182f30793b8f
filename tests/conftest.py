from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bettercare.domain.plan import Plan

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def valid_plan_data() -> dict:
    return yaml.safe_load((FIXTURES / "valid_plan.yaml").read_text())


@pytest.fixture
def make_plan(valid_plan_data) -> Callable[[Callable[[dict], None] | None], Plan]:
    """Build a Plan from the valid fixture after applying ``change`` to a copy of its data."""

    def build(change: Callable[[dict], None] | None = None) -> Plan:
        data = copy.deepcopy(valid_plan_data)
        if change:
            change(data)
        return Plan.model_validate(data)

    return build
