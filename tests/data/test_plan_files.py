"""Bad plan files: a clear finding naming file, line, path and rule; exit code 2."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import PlanFileError, load_plan

runner = CliRunner()


def write(tmp_path, data_or_text, name="plan.yaml"):
    path = tmp_path / name
    text = data_or_text if isinstance(data_or_text, str) else yaml.safe_dump(data_or_text)
    path.write_text(text)
    return path


def only_finding(path):
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert len(info.value.findings) == 1, info.value.findings
    return info.value.findings[0]


def test_malformed_yaml(tmp_path):
    path = write(tmp_path, "plan_id: x\nhwb: [unclosed\n")
    f = only_finding(path)
    assert (f.rule, f.file, f.line) == ("yaml-syntax", str(path), 3)


def test_duplicate_key(tmp_path):
    f = only_finding(write(tmp_path, "plan_id: a\nplan_id: b\n"))
    assert f.rule == "yaml-syntax" and "duplicate key 'plan_id' (first at line 1)" in f.message


def test_unknown_field_names_path_and_line(tmp_path, valid_plan_data):
    data = {**valid_plan_data}
    data["schemes"] = [dict(s) for s in data["schemes"]]
    data["schemes"][1]["spnd"] = 5
    path = write(tmp_path, data)
    f = only_finding(path)
    assert (f.rule, f.path) == ("unknown-field", "schemes[1].spnd")
    assert path.read_text().splitlines()[f.line - 1].strip().startswith("spnd:")


def test_negative_amount(tmp_path, valid_plan_data):
    data = {**valid_plan_data, "funding": [dict(x) for x in valid_plan_data["funding"]]}
    data["funding"][2]["amount"] = -5
    f = only_finding(write(tmp_path, data))
    assert (f.rule, f.path) == ("out-of-range", "funding[2].amount")


def test_wrong_financial_year(tmp_path, valid_plan_data):
    data = {**valid_plan_data, "agreed_pooled_budget": {"2014/16": 1}}
    f = only_finding(write(tmp_path, data))
    assert f.rule == "value" and "not consecutive" in f.message
    assert f.path.startswith("agreed_pooled_budget")


def test_unknown_partner_reference(tmp_path, valid_plan_data):
    data = {**valid_plan_data, "sign_offs": [{"body": "nobody"}]}
    f = only_finding(write(tmp_path, data))
    assert "sign_offs[0].body = 'nobody'" in f.message


def test_cli_validate_exit_codes(tmp_path, valid_plan_data):
    good = write(tmp_path, valid_plan_data, "good.yaml")
    result = runner.invoke(app, ["plan", "validate", str(good)])
    assert result.exit_code == 0, result.output
    risks = [{**valid_plan_data["risks"][0], "score": 11}]
    bad = write(tmp_path, {**valid_plan_data, "risks": risks}, "bad.yaml")
    result = runner.invoke(app, ["plan", "validate", str(bad)])
    assert result.exit_code == 2
    assert "risks[0].score" in result.output and "risk-score" in result.output
    assert "Traceback" not in result.output


def test_cli_missing_and_garbage_files_exit_2_without_traceback(tmp_path):
    for args in (
        ["plan", "validate", str(tmp_path / "nope.yaml")],
        ["plan", "show", str(write(tmp_path, "- just\n- a list\n"))],
        ["p4p", str(write(tmp_path, b"\xff\xfe".decode("latin-1"), "bin.yaml"))],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_json_schema_export(tmp_path):
    out = tmp_path / "plan.schema.json"
    result = runner.invoke(app, ["plan", "schema", "-o", str(out)])
    assert result.exit_code == 0
    schema = yaml.safe_load(out.read_text())
    assert "schemes" in schema["properties"] and "Scheme" in schema["$defs"]


def test_committed_schema_is_current():
    """schemas/plan.schema.json must be regenerated when the models change."""
    from pathlib import Path

    from bettercare.data.plan_files import plan_json_schema

    committed = Path(__file__).parents[2] / "schemas" / "plan.schema.json"
    assert committed.read_text().strip() == plan_json_schema().strip(), (
        "run: bettercare plan schema -o schemas/plan.schema.json"
    )
