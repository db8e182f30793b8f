"""The CLI maps each kind of bettercare error to its exit code once (cli/main.py)."""

from __future__ import annotations

import pytest
import typer

from bettercare.cli import main as cli_main
from bettercare.errors import BadInput, BettercareError, Conflict, NotFound, NotPermitted


class _Stale(Conflict):
    """A subclass is mapped by its kind."""


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BadInput("plan.yaml: row 3: amount: not a number"), 2),
        (NotFound("no plan HWB-X"), 3),
        (_Stale("plan was changed by someone else"), 4),
        (NotPermitted("analyst may not sign off"), 5),
        (BettercareError("something else"), 1),
    ],
)
def test_an_escaping_error_ends_in_one_line_and_its_kinds_exit_code(
    monkeypatch, capsys, error, code
):
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise error

    monkeypatch.setattr(cli_main, "app", app)
    with pytest.raises(SystemExit) as ended:
        cli_main.main([])
    assert ended.value.code == code
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"error: {error.args[0]}"]
    assert "Traceback" not in err


def test_other_exceptions_are_not_swallowed(monkeypatch):
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli_main, "app", app)
    with pytest.raises(RuntimeError):
        cli_main.main([])


def test_a_successful_command_exits_zero(monkeypatch):
    app = typer.Typer()

    @app.command()
    def fine() -> None:
        typer.echo("ok")

    monkeypatch.setattr(cli_main, "app", app)
    with pytest.raises(SystemExit) as ended:
        cli_main.main([])
    assert ended.value.code == 0


def test_every_project_exception_derives_from_one_base():
    """Each exception class defined in bettercare is a BettercareError (one of its kinds)."""
    import importlib
    import inspect
    import pkgutil

    import bettercare

    outside = []
    for info in pkgutil.walk_packages(bettercare.__path__, "bettercare."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, BaseException)
                and cls.__module__ == info.name
                and not issubclass(cls, BettercareError)
            ):
                outside.append(f"{info.name}.{name}")
    assert outside == []
