"""The one ``error:`` line every CLI command ends bad input with."""

from __future__ import annotations

import pytest
import typer

from bettercare.cli.common import EXIT_ERROR, fail, parse_date


def test_fail_prints_one_line_with_control_characters_escaped(capsys) -> None:
    exit_ = fail("plan \x1b[2Jevil.yaml: not found")
    assert isinstance(exit_, typer.Exit) and exit_.exit_code == EXIT_ERROR == 2
    err = capsys.readouterr().err
    assert err == "error: plan \\x1b[2Jevil.yaml: not found\n"


def test_parse_date(capsys) -> None:
    assert str(parse_date("2026-11-27", "--as-of")) == "2026-11-27"
    with pytest.raises(typer.Exit):
        parse_date("27/11/2026", "--as-of")
    assert "--as-of '27/11/2026' is not a date (YYYY-MM-DD)" in capsys.readouterr().err
