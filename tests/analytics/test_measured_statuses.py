"""The latest judged period per metric, for a return's metric section."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bettercare.analytics.published import measured_statuses


def _pva(rows: list[tuple[str, str, float, float, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["metric", "period", "actual", "planned", "rag"])


def test_finest_grain_and_latest_period_ending_in_time() -> None:
    pva = {
        "month": _pva(
            [
                ("delayed_transfers_of_care", "2016-04", 20.0, 18.0, "RED"),
                ("delayed_transfers_of_care", "2016-05", 5.0, 18.0, "GREEN"),
                ("delayed_transfers_of_care", "2016-07", 9.0, 18.0, "GREEN"),  # after Q1
            ]
        ),
        "year": _pva([("non_elective_admissions", "2016/17", 5.0, 100.0, "GREEN")]),
    }
    got = measured_statuses(pva, until=dt.date(2016, 6, 30))
    assert (got["delayed_transfers_of_care"].period, got["delayed_transfers_of_care"].actual) == (
        "2016-05",
        5.0,
    )
    assert "non_elective_admissions" not in got  # the year ends after Q1


def test_a_grain_with_nothing_judged_is_skipped_not_an_error() -> None:
    # Rows measured but none judged against the plan (no planned value at this grain):
    # filtering by the end date then has nothing to keep, which once selected no columns.
    pva = {
        "month": _pva([("non_elective_admissions", "2016-04", 2.0, float("nan"), None)]),
        "year": _pva([("non_elective_admissions", "2016/17", 5.0, 100.0, "GREEN")]),
    }
    assert measured_statuses(pva, until=dt.date(2016, 6, 30)) == {}
    got = measured_statuses(pva, until=dt.date(2017, 3, 31))
    assert got["non_elective_admissions"].actual == 5.0
