"""A metric whose national collection ended is not computed past the end: it says so.

The tiny store of ``metrics_fixtures`` (population 100,000 per HWB and mid-year, 80,000
aged 18+) has its delayed-transfer rows moved from April and May 2016 to February and
March 2020: February is measured (HWB A's 21 delayed days, 26.25 per 100,000 aged 18+);
March 2020 is "not collected after February 2020", never
computed.
"""

from __future__ import annotations

import duckdb
import pytest
from metrics_fixtures import A, build_store, population_rows

from bettercare.analytics.engine import compute_metrics
from bettercare.analytics.metrics import MetricDataError


def _store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_store(con, population_rows(A, 2019) + population_rows(A, 2016))
    con.execute(
        "UPDATE delayed_transfers SET census_month = CASE census_month "
        "WHEN DATE '2016-04-01' THEN DATE '2020-02-01' ELSE DATE '2020-03-01' END"
    )
    return con


def test_months_after_february_2020_are_not_collected():
    df = compute_metrics(_store(), "month", metrics=None)
    dtoc = df[(df.metric == "delayed_transfers_of_care") & (df.breakdown == "all")]
    assert list(dtoc[dtoc.hwb_code == A].period) == ["2020-02"]
    # d1 10 days (p1) + d2 6 (p2) + d3 5 (p6, born May 2000: 16 in 2016, 19 in February
    # 2020), all of A; 18+ of A: 100,000 less 4 child bands x 2 sexes x 2,500 = 80,000
    assert dtoc[dtoc.hwb_code == A].value.iloc[0] == pytest.approx(21 / 80_000 * 100_000)
    assert (
        "delayed_transfers_of_care: 2020-03 not measured for HWB E10000018: not collected "
        "after February 2020"
    ) in " ".join(df.attrs["warnings"])


def test_a_year_reaching_past_the_end_is_only_partly_collected():
    with pytest.raises(MetricDataError, match=r"2019/20 not measured .* only partly collected"):
        compute_metrics(_store(), "year", metrics=["delayed_transfers_of_care"])
