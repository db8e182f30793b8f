"""Hostile or broken plan files are refused with one located finding.

Every case: a finding naming the file and line (and the path where there is one) and a
rule, exit code 2 from every command that reads a plan, no traceback, nothing written.
"""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import plan_files
from bettercare.data.plan_files import PlanFileError, load_plan, load_plan_with_lines, locate
from bettercare.domain.rules import check_plan
from bettercare.domain.text import printable

runner = CliRunner()
FIXTURE = Path(__file__).parents[1] / "fixtures" / "valid_plan.yaml"
EXAMPLES = Path(__file__).parents[2] / "examples"

# Nine levels of nine aliases each: 9**9 (387 million) strings once expanded.
BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def plan_text(old: str | None = None, new: str = "") -> str:
    """The valid fixture plan with one line's text replaced (so line numbers stay put)."""
    text = FIXTURE.read_text(encoding="utf-8")
    if old is not None:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def only_finding(path: Path):
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert len(info.value.findings) == 1, info.value.findings
    return info.value.findings[0]


def assert_refused_by_every_command(path: Path, tmp_path: Path, rule: str) -> None:
    """plan validate/show, p4p, synth --plan and metrics --plan: exit 2, one line, no output."""
    out = tmp_path / "out"
    commands = [
        ["plan", "validate", str(path)],
        ["plan", "show", str(path)],
        ["p4p", str(path)],
        ["synth", "-n", "100", "--plan", str(path), "--out", str(out)],
        ["metrics", "--plan", str(path), "--store", str(tmp_path / "s.duckdb"), "--out", str(out)],
    ]
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        shown = " ".join(result.output.split())  # metrics and synth wrap long errors
        assert f"{path.name}:" in shown, (args, result.output)
        assert rule in shown, (args, result.output)
        assert not out.exists(), args


# -- alias expansion ("billion laughs") -------------------------------------------------


def test_billion_laughs_refused_before_expansion(tmp_path):
    path = write(tmp_path, BILLION_LAUGHS)
    f = only_finding(path)
    assert f.rule == "node-count" and f.file == str(path)
    # a to f come to 672,610 values (f alone 1 + 9 x 66,430); g's first alias adds f's
    # 597,871 and passes 1,000,000: nothing beyond is composed, constructed or validated
    assert f.line == 7
    assert "1,000,000" in f.message


def test_billion_laughs_refused_by_every_command(tmp_path):
    assert_refused_by_every_command(write(tmp_path, BILLION_LAUGHS), tmp_path, "node-count")


def test_alias_counts_the_nodes_it_stands_for(tmp_path, monkeypatch):
    """One 3-item list (4 nodes) used 3 times is 4 + 3 x 4 values, plus the keys."""
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"  # root 1, keys 2, a 4, b 1 + 12 = 20
    monkeypatch.setattr(plan_files, "MAX_NODES", 20)
    with pytest.raises(PlanFileError) as info:  # read in full; then it is not a plan
        load_plan(write(tmp_path, text))
    assert "node-count" not in {f.rule for f in info.value.findings}
    monkeypatch.setattr(plan_files, "MAX_NODES", 19)
    f = only_finding(write(tmp_path, text))
    assert (f.rule, f.line) == ("node-count", 2)


def test_aliases_within_the_budget_are_allowed(tmp_path):
    text = plan_text(
        "    provider: Exampleshire Council\n    funding_source: ccg_minimum\n",
        "    provider: &council Exampleshire Council\n    funding_source: ccg_minimum\n",
    )
    text = text.replace("    provider: Exampleshire Council\n", "    provider: *council\n")
    plan = load_plan(write(tmp_path, text))
    assert {s.provider for s in plan.schemes if s.reference in ("EX01", "EX03")} == {
        "Exampleshire Council"
    }


def test_merge_keys_within_the_budget_are_allowed(tmp_path):
    """EX04 takes commissioner and area from EX03 (<<: *anchor) and keeps its own keys."""
    text = plan_text("  - reference: EX03\n", "  - &adaptations\n    reference: EX03\n")
    text = text.replace("  - reference: EX04\n", "  - <<: *adaptations\n    reference: EX04\n")
    text = text.replace("    area_of_spend: community_health\n    commissioner: joint\n", "")
    plan = load_plan(write(tmp_path, text))
    ex04 = plan.schemes[3]
    assert (ex04.reference, ex04.name) == ("EX04", "Falls prevention")
    assert (ex04.commissioner, ex04.area_of_spend) == ("local_authority", "social_care")
    assert (ex04.funding_source, ex04.recurrent) == ("additional_la", True)


def test_alias_inside_its_own_anchor_refused(tmp_path):
    f = only_finding(write(tmp_path, "plan_id: x\nhwb: &h\n  name: [*h]\n"))
    assert (f.rule, f.line) == ("yaml-alias", 3)


# -- size, depth and numbers -----------------------------------------------------------


def test_file_over_the_size_limit_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (plan_files.MAX_PLAN_BYTES + 1))
    f = only_finding(path)
    assert f.rule == "file-size" and "10 MB" in f.message


def test_file_at_the_size_limit_is_read(tmp_path):
    text = plan_text()
    path = write(tmp_path, text + "#" * (plan_files.MAX_PLAN_BYTES - len(text.encode())))
    assert path.stat().st_size == plan_files.MAX_PLAN_BYTES
    assert load_plan(path).plan_id == "exampleshire_2015"


@pytest.mark.parametrize("depth", [65, 20_000])
def test_deep_nesting_refused_without_recursion_error(tmp_path, depth):
    path = write(tmp_path, "plan_id: x\nhwb: " + "[" * depth + "]" * depth + "\n")
    f = only_finding(path)
    assert (f.rule, f.line) == ("nesting-depth", 2)


def test_nesting_at_the_limit_is_read(tmp_path):
    # root mapping (1) > hwb value: 63 lists = 64 levels; the model then refuses the shape
    path = write(tmp_path, "plan_id: x\nhwb: " + "[" * 63 + "]" * 63 + "\n")
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert "nesting-depth" not in {f.rule for f in info.value.findings}


def test_deep_nesting_refused_by_every_command(tmp_path):
    path = write(tmp_path, "plan_id: x\nhwb: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert_refused_by_every_command(path, tmp_path, "nesting-depth")


def test_five_thousand_digit_integer_refused_with_path(tmp_path):
    path = write(tmp_path, plan_text("  population: 250000\n", f"  population: {'9' * 5000}\n"))
    f = only_finding(path)
    assert (f.rule, f.path, f.line) == ("number", "hwb.population", 7)
    assert "5,000 digits" in f.message


def test_huge_integer_refused_by_every_command(tmp_path):
    path = write(tmp_path, plan_text("  population: 250000\n", f"  population: {'9' * 5000}\n"))
    assert_refused_by_every_command(path, tmp_path, "number")


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        ("1" + "0" * 400, "number"),  # 10^400 written out: 401 digits
        ("1e400", "out-of-range"),  # YAML 1.1 reads this as text, a Decimal of 10^400
        ("1.0e+400", "number"),  # a float: infinity
        (".inf", "number"),
        (".nan", "number"),
        ("100000000000", "out-of-range"),  # £100bn, the first amount refused
        ("-5", "out-of-range"),
    ],
)
def test_money_out_of_bounds_is_a_located_finding(tmp_path, amount, rule):
    old = '"2015/16": 10000000}'
    path = write(
        tmp_path,
        plan_text(
            f'minimum_pooled_budget: {{"2014/15": 1000000, {old}\n',
            f'minimum_pooled_budget: {{"2014/15": 1000000, "2015/16": {amount}}}\n',
        ),
    )
    f = only_finding(path)
    assert (f.rule, f.path, f.line) == (rule, "minimum_pooled_budget.2015/16", 16), f


def test_money_just_below_the_maximum_is_accepted(tmp_path):
    path = write(
        tmp_path, plan_text("contingency_reserve: 200000", "contingency_reserve: 99999999999.99")
    )
    assert load_plan(path).risk_share.contingency_reserve == Decimal("99999999999.99")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            "shares: {exampleshire_council: 50, exampleshire_ccg: 50}",
            "shares: {exampleshire_council: .inf, exampleshire_ccg: 50}",
            "risk_share.shares.exampleshire_council",
        ),
        (
            'baseline: {period: "2013-04..2014-03", value: 8000}',
            'baseline: {period: "2013-04..2014-03", value: .nan}',
            "metrics[0].baseline.value",
        ),
    ],
)
def test_infinite_or_nan_percentage_and_metric_value_refused(tmp_path, old, new, where):
    f = only_finding(write(tmp_path, plan_text(old, new)))
    assert (f.rule, f.path) == ("number", where)


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("date_agreed: 2014-09-10", "date_agreed: 2014-02-30", "date_agreed"),
        ("date_submitted: 2014-09-19", "date_submitted: 2015-02-29", "date_submitted"),
        ("role: Chair, date: 2014-09-10", "role: Chair, date: 2014-13-01", "sign_offs[2].date"),
    ],
)
def test_a_date_that_does_not_exist_is_a_located_finding(tmp_path, old, new, where):
    path = write(tmp_path, plan_text(old, new))
    f = only_finding(path)
    assert (f.rule, f.path, f.line) == ("date", where, line_of(path, new))
    assert new.split(": ")[-1] in f.message and "not a date that exists" in f.message


def test_impossible_date_exits_2_as_the_acceptance_check_does(tmp_path):
    """acceptance/5-core: sed 's/^date_agreed:.*/date_agreed: 2014-02-30/' on an example."""
    text = (EXAMPLES / "leicester_city_2014.yaml").read_text(encoding="utf-8")
    lines = [
        "date_agreed: 2014-02-30" if line.startswith("date_agreed:") else line
        for line in text.splitlines()
    ]
    path = write(tmp_path, "\n".join(lines) + "\n", "baddate.yaml")
    result = runner.invoke(app, ["plan", "validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    n = line_of(path, "date_agreed: 2014-02-30")
    assert f"{path}:{n}: date_agreed: 2014-02-30 is not a date that exists" in result.output


def test_dates_must_be_written_iso(tmp_path):
    path = write(tmp_path, plan_text("date_agreed: 2014-09-10", "date_agreed: 10/09/2014"))
    f = only_finding(path)
    assert (f.rule, f.path) == ("date", "date_agreed") and "YYYY-MM-DD" in f.message


def test_real_dates_still_read_as_dates(tmp_path):
    plan = load_plan(write(tmp_path, plan_text()))
    assert plan.date_agreed == dt.date(2014, 9, 10)
    assert plan.sign_offs[0].date == dt.date(2014, 9, 10)


# -- control characters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "shown"),
    [
        (
            "  name: Exampleshire Health and Wellbeing Board",
            '  name: "Exampleshire \\e[31mHWB"',
            "hwb.name",
            "\\x1b",
        ),
        (
            "    name: Falls prevention",
            '    name: "Falls\\e]0;pwned\\a prevention"',
            "schemes[3].name",
            "\\x07 \\x1b",
        ),
        (
            "    metrics: [non_elective_admissions]",
            '    metrics: ["non_elective\\x9badmissions"]',
            "schemes[1].metrics",
            "\\x9b",
        ),
        (
            "  arrangement: Shortfall shared",
            '  arrangement: "\\u202eShortfall shared',
            "risk_share.arrangement",
            "\\u202e",
        ),
    ],
)
def test_control_characters_in_text_are_a_finding(tmp_path, old, new, where, shown):
    text = plan_text()
    line = next(x for x in text.splitlines() if x.startswith(old))
    path = write(tmp_path, plan_text(line, new + ('"' if new.count('"') == 1 else "")))
    f = only_finding(path)
    needle = new.strip()[:20]
    assert (f.rule, f.path, f.line) == ("control-character", where, line_of(path, needle))
    assert f"({shown})" in f.message and "\x1b" not in str(f)


def test_tabs_and_line_breaks_in_descriptions_are_text(tmp_path):
    path = write(
        tmp_path,
        plan_text(
            "    name: Falls prevention", '    name: Falls prevention\n    description: "a\\tb\\nc"'
        ),
    )
    assert load_plan(path).schemes[3].description == "a\tb\nc"


def test_escape_codes_never_reach_the_terminal(tmp_path):
    """Text echoed back from a bad file (an unknown key, a duplicate key) is escaped."""
    for text in (
        plan_text("  population: 250000", '  "pop\\e[2J": 250000'),
        plan_text("  population: 250000", '  population: 1\n  "pop\\e[2J": 2\n  "pop\\e[2J": 3'),
    ):
        path = write(tmp_path, text)
        for args in (
            ["plan", "validate", str(path)],
            ["plan", "show", str(path)],
            ["p4p", str(path)],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 2, result.output
            assert "\x1b" not in result.output and "pop\\x1b[2J" in result.output, result.output


def test_printable_escapes_controls_and_keeps_text():
    assert printable("Rutland\x1b[31m £1,490\u202e\x00\x7f") == (
        "Rutland\\x1b[31m £1,490\\u202e\\x00\\x7f"
    )
    assert printable("tab\tand\nnewline café") == "tab\tand\nnewline café"


# -- other YAML that used to crash ---------------------------------------------------------


def test_unhashable_key_is_a_finding(tmp_path):
    f = only_finding(write(tmp_path, "plan_id: x\n[a, b]: 1\n"))
    assert (f.rule, f.line) == ("yaml-syntax", 2)


def test_raw_control_character_is_a_yaml_finding(tmp_path):
    f = only_finding(write(tmp_path, "plan_id: x\nhwb:\n  name: a\x1bb\n"))
    assert (f.rule, f.line) == ("yaml-syntax", 3) and "\x1b" not in str(f)


def test_rule_findings_are_located_from_the_same_read(tmp_path):
    path = write(tmp_path, plan_text("    likelihood: 3", "    likelihood: 2"))
    plan, lines = load_plan_with_lines(path)
    [f] = [f for f in locate(check_plan(plan), path, lines) if f.rule == "risk-score"]
    assert (f.path, f.file, f.line) == ("risks[0].score", str(path), line_of(path, "score: 12"))
    assert lines.line(("schemes", 2, "spend")) == line_of(path, 'spend: {"2015/16": 1000000}')
    assert lines.line(("schemes", 99)) == line_of(path, "schemes:")  # deepest part found


def test_garbage_collector_is_running_again_after_reading(tmp_path):
    """Reading pauses the cyclic collector for speed; it must come back, even on error."""
    assert gc.isenabled()
    load_plan(write(tmp_path, plan_text()))
    assert gc.isenabled()
    with pytest.raises(PlanFileError):
        load_plan(write(tmp_path, BILLION_LAUGHS))
    assert gc.isenabled()
    with pytest.raises(PlanFileError):
        load_plan(write(tmp_path, plan_text("date_agreed: 2014-09-10", "date_agreed: 2014-02-30")))
    assert gc.isenabled()
