"""Property tests (hypothesis) for reading plan files (data/plan_files.py).

Whatever the bytes, reading a plan file ends in a plan or in a :class:`PlanFileError`
(bad input) whose findings name the file: never another exception, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bettercare.data.plan_files import PlanFileError, load_plan
from bettercare.errors import BadInput

FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "valid_plan.yaml").read_text()
LINES = FIXTURE.splitlines(keepends=True)

yaml_like = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.from_regex(r"\A([a-z_]{1,12}: [^\n]{0,20}\n){0,6}\Z"),
)


def _outcome(path: Path) -> str:
    try:
        load_plan(path)
    except PlanFileError as exc:
        assert isinstance(exc, BadInput)
        assert exc.findings, "a refusal says why"
        assert all(f.file is None or Path(f.file).name == path.name for f in exc.findings)
        return "refused"
    return "plan"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(yaml_like)
def test_any_text_is_a_plan_or_a_located_refusal(tmp_path, text):
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert _outcome(path) in {"plan", "refused"}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(LINES) - 1), st.integers(1, 5))
def test_the_valid_plan_with_lines_cut_out_is_a_plan_or_a_refusal(tmp_path, first, count):
    path = tmp_path / "plan.yaml"
    path.write_text("".join(LINES[:first] + LINES[first + count :]), encoding="utf-8")
    assert _outcome(path) in {"plan", "refused"}


def test_the_fixture_itself_is_a_plan(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(FIXTURE, encoding="utf-8")
    assert _outcome(path) == "plan"
