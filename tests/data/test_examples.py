"""The seed plans transcribed in examples/: each validates with exactly the expected errors.

Every expected error is a gap or contradiction in the seed itself (see the YAML comments
citing seed lines), not a transcription fault. Every finding, warnings included, is
pinned in a reviewed snapshot (``tests/snapshots/example_findings.txt``).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from bettercare.data.plan_files import load_plan, validate_plan_file
from bettercare.domain.findings import Severity
from bettercare.domain.p4p import performance_sum
from bettercare.domain.rules import check_plan

EXAMPLES = Path(__file__).parents[2] / "examples"

EXPECTED_ERRORS = {
    # 004 is Part 1 only: no protection amount; sign-offs blank but the plan is a draft.
    # (2014/15 is not asked: the fund was pooled from 2015/16, one total was asked.)
    "central_lancashire_2015.yaml": {
        ("protected-social-care", "protected_social_care.2015/16"),
    },
    # 002 gives no money figures and no sign-off block for the agreed 2016/17 plan
    "leicestershire_2016.yaml": {
        ("pooled-budget-minimum", "agreed_pooled_budget.2016/17"),
        ("protected-social-care", "protected_social_care.2016/17"),
        ("sign-off", "sign_offs"),
        ("sign-off", "date_agreed"),
    },
    # 000:561 says a protection amount was "agreed" but never states it
    "leicester_city_2014.yaml": {
        ("protected-social-care", "protected_social_care.2015/16"),
    },
    # Part 2 (finance) is not in seed 003; the risk log scores R2 and R3 as 3 for 1x2 and 2x1
    "rutland_2014.yaml": {
        ("pooled-budget-minimum", "agreed_pooled_budget.2014/15"),
        ("pooled-budget-minimum", "agreed_pooled_budget.2015/16"),
        ("risk-score", "risks[1].score"),
        ("risk-score", "risks[2].score"),
    },
    # fictional 2025-26 example (every figure illustrative): valid under 2025-26 rules
    "marlbury_2025.yaml": set(),
    # the same board moved on a year: valid under 2026-27 rules (warnings only)
    "marlbury_2026.yaml": set(),
}


#: Every finding of every example plan (errors and warnings, with file, line, plan path,
#: rule and message): the reviewed record. A change to a rule, a message or an example
#: shows here line by line. Review the diff before accepting it:
#:     UPDATE_SNAPSHOTS=1 pytest tests/data/test_examples.py   # rewrite, then `git diff` it
SNAPSHOT = Path(__file__).parents[1] / "snapshots" / "example_findings.txt"
SNAPSHOT_HEADER = (
    "# Findings of examples/*.yaml, reviewed by eye; compared exactly by "
    "tests/data/test_examples.py.\n"
    "# Regenerate: UPDATE_SNAPSHOTS=1 pytest tests/data/test_examples.py, then review `git diff`.\n"
    "# file:line<TAB>severity<TAB>rule<TAB>path<TAB>message\n"
)


def example_findings() -> str:
    """The snapshot text of the findings of every example plan, in file and line order."""
    rows = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        plan, findings = validate_plan_file(path)
        assert plan is not None, path
        for f in findings:
            assert f.file == str(path), f
            where = f"{path.name}:{f.line if f.line is not None else '-'}"
            rows.append((path.name, f.line or 0, where, str(f.severity), f.rule, f.path, f.message))
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[5], r[6]))
    return SNAPSHOT_HEADER + "".join("\t".join(r[2:]) + "\n" for r in rows)


def test_every_example_is_covered():
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == set(EXPECTED_ERRORS)


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_example_has_only_the_expected_errors(name):
    plan = load_plan(EXAMPLES / name)
    errors = {(f.rule, f.path) for f in check_plan(plan) if f.severity == Severity.ERROR}
    assert errors == EXPECTED_ERRORS[name]


def test_example_findings_match_the_reviewed_snapshot():
    found = example_findings()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(found, encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8")
    # compared line by line, so a failure shows only the findings that changed
    assert found.splitlines() == expected.splitlines()


def test_rutland_p4p_reproduces_its_own_figure():
    """Seed 003:1588: '£154k (... 103 multiplied by the unit saving of £1490)'."""
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    r = performance_sum(plan)
    assert r.planned_reduction == 103
    assert r.performance_linked_sum == Decimal(153_470)  # 103 x £1,490, worked by hand
    # the plan states "£154k": a figure rounded to thousands, within £1k of ours
    assert abs(r.performance_linked_sum - plan.performance.stated_p4p_amount) < 1000
    # 003:1588 "the performance related element is £591k": the rest is released up front
    assert r.released_up_front == Decimal(437_530)
    # 003:1590/1801: shared 50:50, no contingency fund ("a maximum total of £75k")
    assert r.maximum_exposure["rutland_county_council"] == Decimal(76_735)
