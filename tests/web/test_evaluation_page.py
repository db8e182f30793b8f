"""``/evaluation`` over HTTP: the analyst of the HWB gets the effects, others are refused."""

from __future__ import annotations

import pytest
from analytics.synthetic_store import CHANGE, tables, write_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("evaluation-web") / "store.duckdb"
    write_store(tables(population=3000), path).close()
    return path


def test_analyst_runs_an_evaluation(app, client, login, store):
    app.state.settings = app.state.settings.model_copy(update={"store": store})
    login("analyst")
    r = client.get("/evaluation")
    assert r.status_code == 200 and 'id="evaluation-form"' in r.text and "C82001" in r.text
    r = client.get(
        "/evaluation",
        params={"change_date": CHANGE.isoformat(), "treated": ["C82001"], "name": "Home <first>"},
    )
    assert r.status_code == 200
    assert 'id="evaluation"' in r.text and "interrupted time series" in r.text
    assert "Home &lt;first&gt;" in r.text


def test_public_and_other_hwb_refused(app, client, login, store):
    app.state.settings = app.state.settings.model_copy(update={"store": store})
    r = client.get("/evaluation", follow_redirects=False)
    assert r.status_code in (303, 401)
    login("editor")
    assert client.get("/evaluation", params={"hwb": "E06000016"}).status_code == 403


def test_analyst_runs_a_staggered_rollout(app, client, login, store):
    app.state.settings = app.state.settings.model_copy(update={"store": store})
    login("analyst")
    r = client.get("/evaluation")
    assert 'name="start_date"' in r.text and 'id="start-C82001"' in r.text
    # the form sends one (practice, date) pair per practice, blank for most
    r = client.get(
        "/evaluation",
        params={
            "change_date": CHANGE.isoformat(),
            "treated": ["C82001", "C82002"],
            "start_practice": ["C82001", "C82002", "C82003"],
            "start_date": ["", "2023-10-01", ""],
        },
    )
    assert r.status_code == 200 and 'id="evaluation"' in r.text
    assert 'value="2023-10-01"' in r.text  # the typed date is kept on the form
    assert "cannot be estimated: a staggered roll-out" in r.text
    r = client.get(
        "/evaluation",
        params={
            "change_date": CHANGE.isoformat(),
            "treated": ["C82001"],
            "start_practice": ["C82001"],
            "start_date": ["2023-13-01"],
        },
    )
    assert "has no month 13" in r.text and 'id="evaluation"' not in r.text
