"""A small analytics store built straight from generated feeds (no ingest), for tests.

The NHS number stands in for the pseudonym (``person_id``); only the store's columns are
kept, so the analytics read it as they read an ingested store. Much faster than
generate -> ingest, which the pipeline tests cover.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from bettercare.data.synth.generator import build_tables
from bettercare.data.synth.presets import preset

YEARS = ["2022/23", "2023/24", "2024/25"]
CHANGE = date(2024, 4, 1)


def tables(population: int = 6000, per_practice: int = 500, seed: int = 3) -> dict[str, pa.Table]:
    params = preset("rutland").with_population(population)
    params = params.model_copy(
        update={"area": params.area.model_copy(update={"residents_per_practice": per_practice})}
    )
    return build_tables(params, YEARS, seed, lambda _s: None)


def write_store(t: dict[str, pa.Table], path: Path | str = ":memory:") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    for name, table in (
        ("raw_residents", t["residents"]),
        ("raw_spells", t["hospital_spells"]),
        ("raw_sc", t["social_care_services"]),
        ("raw_sc_truth", t["_truth/social_care_person"]),
        ("raw_reab", t["reablement_episodes"]),
        ("raw_ae", t["ae_attendances"]),
    ):
        con.register(name, table)
    con.execute(
        """CREATE TABLE residents AS SELECT nhs_number AS person_id,
        CAST(date_trunc('month', date_of_birth) AS DATE) AS birth_month, sex, lsoa,
        gp_practice, hwb_code, imd_decile, ltc_count, dementia_diagnosis, date_of_death,
        dementia_diagnosis_date FROM raw_residents"""
    )
    con.execute(
        "CREATE TABLE hospital_spells AS SELECT * EXCLUDE (nhs_number), "
        "nhs_number AS person_id FROM raw_spells"
    )
    con.execute(
        "CREATE TABLE reablement_episodes AS SELECT * EXCLUDE (nhs_number), "
        "nhs_number AS person_id FROM raw_reab"
    )
    con.execute(
        "CREATE TABLE ae_attendances AS SELECT * EXCLUDE (nhs_number), "
        "nhs_number AS person_id FROM raw_ae"
    )
    con.execute(
        """CREATE TABLE social_care_services AS SELECT s.service_id,
        CAST(date_trunc('month', s.date_of_birth) AS DATE) AS birth_month, s.service_type,
        s.setting, s.start_date, s.end_date, s.permanent_admission, t.nhs_number AS person_id
        FROM raw_sc s JOIN raw_sc_truth t USING (service_id)"""
    )
    for name in ("raw_residents", "raw_spells", "raw_sc", "raw_sc_truth", "raw_reab", "raw_ae"):
        con.unregister(name)
    return con
