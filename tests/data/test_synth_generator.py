"""The synthetic feeds: contract (schema.py), determinism, calibration, risk signal, noise.

Tolerances are at least 3 standard errors of the sampling noise at the sizes used
(fixed seeds, so results are reproducible): e.g. ~6,500 in-span non-elective admissions
give a standard error of ~1.2%, so 6% is ~5 SE; ~95 permanent admissions give ~10%.
"""

from __future__ import annotations

import json
import re

import duckdb
import nhs_number
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bettercare.data.schema import FEEDS
from bettercare.data.synth import generate, nhs, preset

ARROW = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}
B65 = "('65-69','70-74','75-79','80-84','85-89','90+')"
CHILD = "('0-4','5-9','10-14','15-17')"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """Leicestershire, 40,000 residents, two years (~1 s)."""
    d = tmp_path_factory.mktemp("synth") / "leics"
    generate(preset("leicestershire").with_population(40_000), ["2015/16", "2016/17"], 7, d)
    return d


@pytest.fixture(scope="module")
def db(out):
    con = duckdb.connect()
    for name in FEEDS:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out}/{name}.parquet')")
    for name in ("social_care_person", "residents_risk"):
        con.execute(
            f"CREATE VIEW truth_{name} AS SELECT * FROM read_parquet('{out}/_truth/{name}.parquet')"
        )
    return con


def one(db, sql):
    return db.execute(sql).fetchone()[0]


def pop(db, where="true"):
    """Population summed over both mid-years (per-year rates = count / pop)."""
    return one(db, f"SELECT sum(population) FROM population WHERE {where}")


# --- contract -------------------------------------------------------------------------


def test_every_feed_has_exact_columns_and_types(out):
    for name, spec in FEEDS.items():
        schema = pq.read_schema(out / f"{name}.parquet")
        assert schema.names == spec.column_names, name
        for col in spec.columns:
            assert schema.field(col.name).type == ARROW[col.type], (name, col.name)


def test_required_columns_have_no_nulls_and_values_follow_the_contract(out):
    for name, spec in FEEDS.items():
        table = pq.read_table(out / f"{name}.parquet")
        if name != "scheme_activity":
            assert table.num_rows > 0, name
        for col in spec.columns:
            arr = table.column(col.name)
            if col.required:
                assert arr.null_count == 0, (name, col.name)
            values = [v for v in set(arr.to_pylist()) if v is not None]
            if col.allowed:
                assert set(values) <= set(col.allowed), (name, col.name)
            if col.pattern:
                bad = [v for v in values if not re.match(col.pattern, v)]
                assert not bad, (name, col.name, bad[:5])
            if col.minimum is not None and values:
                assert min(values) >= col.minimum, (name, col.name)
            if col.maximum is not None and values:
                assert max(values) <= col.maximum, (name, col.name)


def test_truth_files_and_manifest(out, db):
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7
    assert manifest["years"] == ["2015/16", "2016/17"]
    assert set(manifest["row_counts"]) == set(FEEDS)
    for name, n in manifest["row_counts"].items():
        assert pq.read_metadata(out / f"{name}.parquet").num_rows == n
    assert manifest["params"]["area"]["hwb_code"] == "E10000018"
    assert one(db, "SELECT count(*) FROM social_care_services") == one(
        db,
        "SELECT count(*) FROM truth_social_care_person JOIN social_care_services "
        "USING (service_id)",
    )
    # The true person behind each social care row is a resident.
    assert (
        one(
            db,
            "SELECT count(*) FROM truth_social_care_person WHERE nhs_number NOT IN "
            "(SELECT nhs_number FROM residents)",
        )
        == 0
    )
    assert one(db, "SELECT count(*) FROM truth_residents_risk") == one(
        db, "SELECT count(*) FROM residents"
    )


def test_same_seed_same_bytes_different_seed_different_data(tmp_path):
    p = preset("rutland").with_population(2_000)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(p, ["2016/17"], 11, a)
    generate(p, ["2016/17"], 11, b)
    generate(p, ["2016/17"], 12, c)
    files = sorted(f.relative_to(a) for f in a.rglob("*") if f.is_file())
    assert len(files) == len(FEEDS) + 3  # + 2 truth files + manifest
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "residents.parquet").read_bytes() != (c / "residents.parquet").read_bytes()


def test_failed_run_leaves_no_output(tmp_path, monkeypatch):
    import bettercare.data.synth.generator as gen

    calls = []

    def boom(table, path, **kw):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return pq.write_table(table, path, **kw)

    monkeypatch.setattr(gen.pq, "write_table", boom)
    with pytest.raises(OSError, match="disk full"):
        generate(preset("rutland").with_population(500), ["2016/17"], 1, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_rerun_replaces_previous_output(tmp_path):
    d = tmp_path / "out"
    generate(preset("rutland").with_population(500), ["2016/17"], 1, d)
    (d / "stale.txt").write_text("x")
    generate(preset("rutland").with_population(600), ["2016/17"], 1, d)
    assert not (d / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


# --- identifiers ----------------------------------------------------------------------


def test_nhs_numbers_valid_and_in_test_range(db):
    rows = db.execute("SELECT nhs_number FROM residents").fetchall()
    numbers = np.array([int(r[0]) for r in rows])
    assert len(np.unique(numbers)) == len(numbers)
    assert nhs.is_valid(numbers).all()
    assert ((numbers >= 9_990_000_000) & (numbers <= 9_999_999_999)).all()
    assert all(nhs_number.is_valid(str(n)) for n in numbers[:300])


def _vs_resident(db, differs: str) -> float:
    """Share of social care rows whose identifiers differ from the true resident's."""
    return one(
        db,
        f"""SELECT avg(({differs})::INT) FROM social_care_services s
                       JOIN truth_social_care_person t USING (service_id)
                       JOIN residents r ON r.nhs_number = t.nhs_number""",
    )


def test_social_care_identifier_noise_matches_configured_shares(db):
    # ~2,900 rows from ~2,000 clients; noise is per client so allow ~4 SE.
    missing = one(db, "SELECT avg((nhs_number IS NULL)::INT) FROM social_care_services")
    assert missing == pytest.approx(0.15, abs=0.04)
    wrong = one(
        db,
        """SELECT avg((s.nhs_number <> t.nhs_number)::INT) FROM social_care_services s
                       JOIN truth_social_care_person t USING (service_id)
                       WHERE s.nhs_number IS NOT NULL""",
    )
    assert wrong == pytest.approx(0.02 / 0.85, abs=0.015)
    typed = [
        int(r[0])
        for r in db.execute("""SELECT s.nhs_number FROM social_care_services s
             JOIN truth_social_care_person t USING (service_id)
             WHERE s.nhs_number <> t.nhs_number""").fetchall()
    ]
    assert (~nhs.is_valid(np.array(typed))).mean() > 0.8
    same = (
        "lower(s.given_name) = lower(r.given_name) AND lower(s.family_name) = lower(r.family_name)"
    )
    upper = _vs_resident(db, f"s.given_name = upper(r.given_name) AND {same}")
    assert upper == pytest.approx(0.1, abs=0.035)
    # Typos (5%) plus variants (5% of clients, for names that have one).
    name_diff = _vs_resident(db, f"NOT ({same})")
    assert 0.04 < name_diff < 0.12
    dob_diff = _vs_resident(db, "s.date_of_birth <> r.date_of_birth")
    assert dob_diff == pytest.approx(0.03, abs=0.025)
    pc_diff = _vs_resident(db, "s.postcode IS DISTINCT FROM r.postcode")
    assert pc_diff == pytest.approx(0.08 + 0.02, abs=0.04)


def test_opt_out_share(db):
    share = one(db, "SELECT count(*) FROM opt_outs") / one(db, "SELECT count(*) FROM residents")
    assert share == pytest.approx(0.025, abs=0.005)


# --- calibration (Leicestershire 2016/17, seed 002) -----------------------------------


def test_population_matches_residents_alive_at_mid_year(db):
    assert one(db, "SELECT count(*) FROM population") == 2 * 2 * 20
    alive = one(
        db,
        """SELECT count(*) FROM residents WHERE date_of_birth <= DATE '2016-06-30'
                       AND (date_of_death IS NULL OR date_of_death > DATE '2016-06-30')""",
    )
    assert pop(db, "year = 2016") == alive
    assert pop(db, "year = 2015") == pytest.approx(40_000, rel=0.03)


def test_non_elective_admissions_per_100k_per_month(db):
    n = one(
        db,
        """SELECT count(*) FROM hospital_spells WHERE admission_method = 'non_elective'
                   AND admission_date >= DATE '2015-04-01'""",
    )
    assert n / pop(db) * 1e5 / 12 == pytest.approx(714.78, rel=0.06)


def test_spells_before_the_span_are_only_those_still_in_hospital(db):
    early = db.execute("""SELECT count(*), count(*) FILTER (WHERE discharge_date < DATE '2015-04-01'
                          OR admission_method = 'elective') FROM hospital_spells
                          WHERE admission_date < DATE '2015-04-01'""").fetchone()
    assert early[0] > 0
    assert early[1] == 0


def test_falls_65_per_100k_per_month(db):
    n = one(db, "SELECT count(*) FROM hospital_spells WHERE injury_due_to_fall")
    # ~230 falls: SE ~6.5%, so 3 SE.
    assert n / pop(db, f"age_band IN {B65}") * 1e5 / 12 == pytest.approx(118.05, rel=0.2)
    # All falls are emergencies of people 65+ with an injury or W00-W19 diagnosis.
    bad = one(
        db,
        """SELECT count(*) FROM hospital_spells h JOIN residents r USING (nhs_number)
                     WHERE injury_due_to_fall AND (admission_method <> 'non_elective'
                     OR NOT regexp_matches(primary_diagnosis, '^(S|T|W0|W1)')
                     OR h.admission_date - r.date_of_birth < 64 * 365)""",
    )
    assert bad == 0


def test_delayed_transfers_per_100k_18_per_month(db):
    days = one(db, "SELECT sum(delayed_days) FROM delayed_transfers")
    rate = days / pop(db, f"age_band NOT IN {CHILD}") * 1e5 / 12
    assert rate == pytest.approx(351.1, rel=0.3)  # ~210 delays of ~12 days: SE ~10%
    attribution = dict(
        db.execute(
            "SELECT attribution, sum(delayed_days)"
            " / (SELECT sum(delayed_days) FROM delayed_transfers)"
            " FROM delayed_transfers GROUP BY 1"
        ).fetchall()
    )
    assert attribution["nhs"] > attribution["social_care"] > attribution["both"] > 0
    # Each delay row belongs to a spell whose stay covers the census month.
    orphan = one(
        db,
        """SELECT count(*) FROM delayed_transfers d LEFT JOIN hospital_spells h
                        USING (spell_id) WHERE h.spell_id IS NULL
                        OR d.census_month < date_trunc('month', h.admission_date)""",
    )
    assert orphan == 0
    assert one(db, "SELECT count(*) FROM delayed_transfers WHERE day(census_month) <> 1") == 0
    # Delays carried in from before the span, so the first month is not artificially low.
    carried = one(
        db,
        """SELECT count(*) FROM delayed_transfers d JOIN hospital_spells h
                         USING (spell_id) WHERE d.census_month = DATE '2015-04-01'
                         AND h.admission_date < DATE '2015-04-01'""",
    )
    assert carried > 0


def test_permanent_admissions_65_per_100k(db):
    n = one(db, "SELECT count(*) FROM social_care_services WHERE permanent_admission")
    # ~95 admissions: SE ~10%, so 3 SE.
    assert n / pop(db, f"age_band IN {B65}") * 1e5 == pytest.approx(630.2, rel=0.32)
    assert (
        one(
            db,
            """SELECT count(*) FROM social_care_services WHERE permanent_admission
                      AND setting NOT IN ('residential', 'nursing')""",
        )
        == 0
    )


def test_permanent_admissions_from_hospital(db):
    total, from_hospital, matching = db.execute("""
        SELECT count(*), count(h.spell_id),
               count(*) FILTER (WHERE (s.setting = 'residential') =
                                      (h.discharge_destination = 'care_home'))
        FROM social_care_services s JOIN truth_social_care_person t USING (service_id)
        LEFT JOIN hospital_spells h ON h.nhs_number = t.nhs_number
         AND h.discharge_date = s.start_date
         AND h.discharge_destination IN ('care_home', 'nursing_home')
        WHERE s.permanent_admission""").fetchone()
    assert from_hospital / total == pytest.approx(0.4, abs=0.15)  # ~95 admissions
    assert matching == from_hospital


def test_reablement_at_home_share_and_population(db):
    share = one(db, "SELECT avg((outcome_91_days = 'at_home')::INT) FROM reablement_episodes")
    assert share == pytest.approx(0.88, abs=0.065)  # ~250 episodes: SE 0.02
    young = one(
        db,
        """SELECT count(*) FROM reablement_episodes e
                       JOIN residents r USING (nhs_number)
                       WHERE e.discharge_date - r.date_of_birth < 64 * 365""",
    )
    assert young == 0
    assert (
        one(
            db,
            """SELECT count(*) FROM reablement_episodes e JOIN hospital_spells h
                      USING (spell_id) WHERE h.discharge_destination <> 'reablement'""",
        )
        == 0
    )


def test_survey_positive_share(db):
    share = one(db, "SELECT avg(positive::INT) FROM experience_responses")
    assert share == pytest.approx(0.636, abs=0.045)  # ~1,000 answers: SE 0.015
    assert one(db, "SELECT count(*) FROM experience_responses WHERE month(response_date) > 3") == 0


def test_events_stop_at_death(db):
    after = one(
        db,
        """SELECT count(*) FROM hospital_spells h JOIN residents r USING (nhs_number)
                       WHERE h.admission_date > r.date_of_death
                       OR h.discharge_date > r.date_of_death""",
    )
    assert after == 0
    died_in_hospital = one(
        db,
        """SELECT count(*) FROM hospital_spells h JOIN residents r
                                  USING (nhs_number) WHERE discharge_destination = 'died'
                                  AND h.discharge_date = r.date_of_death""",
    )
    deaths = one(db, "SELECT count(date_of_death) FROM residents")
    assert 0.3 < died_in_hospital / deaths < 0.6


def test_dates_are_consistent(db):
    ordered = (
        ("social_care_services", "start_date", "end_date"),
        ("hospital_spells", "admission_date", "discharge_date"),
        ("reablement_episodes", "discharge_date", "start_date"),
    )
    for table, before, after in ordered:
        assert one(db, f"SELECT count(*) FROM {table} WHERE {after} < {before}") == 0, table
    after_death = one(
        db,
        """SELECT count(*) FROM social_care_services s
                             JOIN truth_social_care_person t USING (service_id)
                             JOIN residents r ON r.nhs_number = t.nhs_number
                             WHERE s.start_date > r.date_of_death
                                OR s.end_date > r.date_of_death""",
    )
    assert after_death == 0
    before_birth = one(
        db,
        """SELECT count(*) FROM hospital_spells h JOIN residents r
                              USING (nhs_number) WHERE h.admission_date < r.date_of_birth""",
    )
    assert before_birth == 0


# --- risk signal ----------------------------------------------------------------------


def _nel_rate_by(db, expr):
    return dict(
        db.execute(f"""
        SELECT {expr} AS g, count(h.spell_id) / count(DISTINCT r.nhs_number)
        FROM residents r LEFT JOIN hospital_spells h
          ON h.nhs_number = r.nhs_number AND h.admission_method = 'non_elective'
        GROUP BY 1""").fetchall()
    )


def test_admissions_rise_with_ltc_count(db):
    by_ltc = _nel_rate_by(db, "least(ltc_count, 3)")
    assert by_ltc[0] < by_ltc[1] < by_ltc[2] < by_ltc[3]
    assert by_ltc[3] > 3 * by_ltc[0]


def test_admissions_rise_with_age_and_deprivation(db):
    by_age = _nel_rate_by(
        db,
        "CASE WHEN date_of_birth < DATE '1936-04-01' THEN 'old' "
        "WHEN date_of_birth BETWEEN DATE '1976-04-01' AND DATE '1996-04-01' "
        "THEN 'young' END",
    )
    assert by_age["old"] > 3 * by_age["young"]
    by_imd = _nel_rate_by(db, "imd_decile <= 5")
    assert by_imd[True] > by_imd[False]


def test_truth_risk_predicts_admissions(db):
    top, rest = db.execute("""
        WITH risk AS (SELECT nhs_number, annual_non_elective_rate,
                             ntile(50) OVER (ORDER BY annual_non_elective_rate DESC) AS q
                      FROM truth_residents_risk),
             adm AS (SELECT nhs_number, count(*) AS n FROM hospital_spells
                     WHERE admission_method = 'non_elective' GROUP BY 1)
        SELECT avg(coalesce(n, 0)) FILTER (WHERE q = 1), avg(coalesce(n, 0)) FILTER (WHERE q > 1)
        FROM risk LEFT JOIN adm USING (nhs_number)""").fetchone()
    # The top 2% by true risk (cf. seed 000: "2% of the 360,000 residents") are admitted
    # far more often than everyone else.
    assert top > 8 * rest


def test_calibration_denominator_is_the_population_feed():
    from datetime import date

    from bettercare.data.synth.other_feeds import population_estimates
    from bettercare.data.synth.world import build_world

    rng = np.random.Generator(np.random.PCG64(5))
    world = build_world(
        preset("rutland").with_population(3_000), date(2015, 4, 1), date(2017, 3, 31), rng
    )
    est = population_estimates(world, [2015, 2016])
    old = {"65-69", "70-74", "75-79", "80-84", "85-89", "90+"}
    rows = list(zip(est["year"], est["age_band"], est["population"], strict=True))
    for min_age, bands in ((0, None), (65, old)):
        assert world.mid_year_population(min_age) == [
            sum(n for y, b, n in rows if y == year and (bands is None or b in bands))
            for year in (2015, 2016)
        ]
