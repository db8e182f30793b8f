"""The generator's identifier error model: each kind appears at its level."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from bettercare.data.synth import generate, preset
from bettercare.data.synth.params import NOISE_LEVELS, Noise, ParamsError
from bettercare.data.synth.presets import load_params
from bettercare.data.synth.social_care import _NOT_UK, _ocr


@pytest.fixture(scope="module")
def high(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Social care rows at (about) the "high" level joined to the true residents."""
    out = tmp_path_factory.mktemp("noise") / "high"
    params = preset("leicestershire").with_population(20_000)
    # "high", with more non-UK postcodes than its 0.5% so a few hundred clients show some
    noise = NOISE_LEVELS["high"].model_copy(update={"postcode_not_uk": 0.05})
    generate(params.model_copy(update={"noise": noise}), ["2016/17"], 3, out)
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE rows AS
            SELECT s.*, r.given_name AS true_given, r.family_name AS true_family,
                   r.date_of_birth AS true_dob, t.nhs_number AS true_nhs
            FROM '{out}/social_care_services.parquet' s
            JOIN '{out}/_truth/social_care_person.parquet' t USING (service_id)
            JOIN '{out}/residents.parquet' r ON r.nhs_number = t.nhs_number"""
    )
    return con


def _count(con: duckdb.DuckDBPyConnection, where: str) -> int:
    row = con.execute(f"SELECT count(*) FROM rows WHERE {where}").fetchone()
    con.complete()
    assert row is not None
    return int(row[0])


def test_each_error_kind_appears(high: duckdb.DuckDBPyConnection) -> None:
    n = _count(high, "TRUE")
    assert n > 500
    swapped = _count(
        high, "lower(given_name) = lower(true_family) AND lower(family_name) = lower(true_given)"
    )
    missing_dob = _count(high, "date_of_birth IS NULL")
    not_uk = _count(high, f"postcode IN {tuple(_NOT_UK)}")
    assert swapped > 0 and missing_dob > 0 and not_uk > 0
    # about 8% of clients have no date of birth (rows follow clients: a wide margin)
    assert 0.03 < missing_dob / n < 0.15


def test_duplicate_client_records_carry_their_own_identifiers(
    high: duckdb.DuckDBPyConnection,
) -> None:
    people_with_two_versions = high.execute(
        """SELECT count(*) FROM (
             SELECT true_nhs FROM rows GROUP BY true_nhs
             HAVING count(DISTINCT coalesce(given_name, '') || family_name
                          || coalesce(CAST(date_of_birth AS VARCHAR), '')
                          || coalesce(postcode, '') || coalesce(nhs_number, '')) > 1)"""
    ).fetchone()
    high.complete()
    assert people_with_two_versions is not None and people_with_two_versions[0] > 0


def test_ocr_misreading_keeps_case() -> None:
    rng = np.random.default_rng(0)
    assert _ocr(rng, "Don") == "Clon"  # d read as cl, the only pattern in "Don"
    assert _ocr(rng, "DON") == "CLON"
    assert _ocr(rng, "Adam") in {"Aclam", "Adarn"}


def test_default_noise_is_the_earlier_calibration_and_levels_are_ordered() -> None:
    default = Noise()
    for kind in ("ocr_error", "given_name_different", "name_swap", "dob_missing"):
        assert getattr(default, kind) == 0.0
    for kind in ("name_typo", "name_swap", "dob_missing", "postcode_missing"):
        low, realistic, high = (getattr(NOISE_LEVELS[k], kind) for k in NOISE_LEVELS)
        assert low <= realistic <= high


def test_noise_is_validated(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('{"noise": {"name_swap": 1.5}}')
    with pytest.raises(ParamsError, match="name_swap"):
        load_params(bad, "rutland")
