"""The command line under hostile input: markup in a plan, weak keys, passwords in URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import pseudonymise

pytestmark = pytest.mark.hostile

runner = CliRunner()


def test_plan_show_prints_markup_in_a_plan_as_text(tmp_path: Path) -> None:
    data = yaml.safe_load((FIXTURES / "valid_plan.yaml").read_text())
    data["hwb"]["name"] = "[link=https://evil.example/]Click[/link] [red]Rutland"
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    r = runner.invoke(app, ["plan", "show", str(plan)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "[link=https://evil.example/]Click[/link] [red]Rutland" in r.output


@pytest.mark.parametrize(
    "text",
    [
        "abcdefgh" * 4,  # 3 bits a character, but an 8-character key repeated
        "0123456789" * 4,  # 3.3 bits, a 10-character block
        "aAbBcCdDeE" * 4,
        "abcdefghij" + "a" * 22,  # 11 distinct characters, no short period
    ],
)
def test_keys_with_a_short_period_or_few_characters_are_refused(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(pseudonymise.KEY_ENV, text)
    with pytest.raises(pseudonymise.PseudonymKeyError, match="too predictable"):
        pseudonymise.load_key()


def test_a_random_key_passes() -> None:
    pseudonymise.check_strength("3f9c2a7be1d04c5f8a6b9e2d7c1f0a4b")  # `key new` style
    assert pseudonymise.repeating_period("abcabcab") == 3
    assert pseudonymise.repeating_period("abcd") == 4


def test_serve_never_prints_the_database_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:s3cretpw@127.0.0.1:1/x"
    r = runner.invoke(app, ["serve", "--database", url, "--examples", str(tmp_path)])
    assert r.exit_code == 2
    assert "s3cretpw" not in r.output
    assert "nobody:***@127.0.0.1" in r.output


def test_an_unsupported_database_is_one_line_without_traceback(tmp_path: Path) -> None:
    r = runner.invoke(app, ["serve", "--database", "mysql://u:pw@127.0.0.1:1/x"])
    assert r.exit_code == 2
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output and "pw@" not in r.output
    assert r.output.strip().count("\n") == 0
    assert "'mysql' databases are not supported" in r.output


def test_ingest_prints_markup_in_a_file_name_as_text(tmp_path: Path, key_env: bytes) -> None:
    from conftest import write_feeds

    d = write_feeds(tmp_path / "in")
    (d / "[link=https:evil.example]x[blink].csv").write_text("a,b\n1,2\n")  # no "/" in a name
    store = tmp_path / "store" / "s.duckdb"
    r = runner.invoke(app, ["ingest", str(d), "--store", str(store)], env={"COLUMNS": "300"})
    assert "[link=https:evil.example]x[blink].csv" in r.output
