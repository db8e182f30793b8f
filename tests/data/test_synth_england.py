"""A synthetic England: every area at a scale, no person or key shared between areas."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from bettercare.data.geography import hwb_by_code
from bettercare.data.synth.england import generate_england
from bettercare.data.synth.nhs import is_valid

CODES = ("E06000017", "E06000016", "E10000018")  # Rutland, Leicester, Leicestershire


@pytest.fixture(scope="module")
def england(tmp_path_factory: pytest.TempPathFactory) -> Path:
    areas = tuple(hwb_by_code()[c] for c in CODES)
    out = tmp_path_factory.mktemp("england") / "feeds"
    generate_england(0.002, ["2016/17"], 7, out, areas=areas)
    return out


def test_each_area_has_its_scaled_population(england: Path) -> None:
    rows = duckdb.sql(
        f"SELECT hwb_code, count(*) FROM '{england}/residents.parquet' GROUP BY 1"
    ).fetchall()
    by_code = hwb_by_code()
    # the generator starts from round(population x scale) residents (births and deaths
    # move it a little); Rutland's 0.2% is below the minimum of 100
    expected = {c: max(100, round(by_code[c].population * 0.002)) for c in CODES}
    assert {c for c, _ in rows} == set(CODES)
    for code, n in rows:
        assert abs(n - expected[code]) <= 0.1 * expected[code], (code, n, expected[code])


def test_no_nhs_number_or_record_id_is_shared_between_areas(england: Path) -> None:
    (n, distinct, areas_per_number) = duckdb.sql(
        f"""SELECT count(*), count(DISTINCT nhs_number),
                   (SELECT max(k) FROM (SELECT count(DISTINCT hwb_code) AS k
                                        FROM '{england}/residents.parquet' GROUP BY nhs_number))
            FROM '{england}/residents.parquet'"""
    ).fetchall()[0]
    assert n == distinct and areas_per_number == 1
    numbers = [
        int(v)
        for (v,) in duckdb.sql(f"SELECT nhs_number FROM '{england}/residents.parquet'").fetchall()
    ]

    assert is_valid(np.array(numbers)).all()
    for feed, key in (("hospital_spells", "spell_id"), ("social_care_services", "service_id")):
        (rows, keys) = duckdb.sql(
            f"SELECT count(*), count(DISTINCT {key}) FROM '{england}/{feed}.parquet'"
        ).fetchall()[0]
        assert rows == keys, feed
    # every spell belongs to a resident of the same area (remapped together)
    (orphans,) = duckdb.sql(
        f"""SELECT count(*) FROM '{england}/hospital_spells.parquet' s
            WHERE s.nhs_number NOT IN (SELECT nhs_number FROM '{england}/residents.parquet')"""
    ).fetchall()[0]
    assert orphans == 0


def test_scale_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate_england(0, ["2016/17"], 1, tmp_path / "x")


def test_scheme_activity_is_per_area_under_the_plans_references(england: Path) -> None:
    # every area is the Leicestershire preset's: its five schemes, under their own
    # references (not prefixed), told apart by the area's hwb_code
    rows = duckdb.sql(
        f"""SELECT hwb_code, list(DISTINCT scheme_reference ORDER BY scheme_reference),
                   count(*), count(DISTINCT (scheme_reference, month))
            FROM '{england}/scheme_activity.parquet' GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    refs = ["T3-7DAY", "T3-CDU", "T3-CRISIS", "T3-LUCC", "T3-OPU"]
    assert rows == [(code, refs, 5 * 12, 5 * 12) for code in sorted(CODES)]
