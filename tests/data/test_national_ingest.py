"""National files through the whole ingest: same store as the internal layout, located
findings, nothing of a rejected file loaded; and the synthetic population written in the
national formats gives exactly the internal layout's store and metrics."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import KEY, residents_rows, social_care_rows, spells_rows, table_rows, write_csv
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.ingest import ingest
from bettercare.data.national import apc, cld, gp_registrations
from bettercare.data.schema import FEEDS, STORE_TABLES
from bettercare.data.synth import generate, preset

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[2]
GENDER = {"M": "1", "F": "2"}
METHOD = {"elective": "11", "non_elective": "21"}
DEST = {"usual_residence": "19", "": ""}
APC_HEADER = [*apc.SPELLS.required, "discharge_ready_date"]  # optional field, read


def national_feeds(directory: Path) -> Path:
    """conftest's internal feeds, hand-converted into the national layouts."""
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(directory / "opt_outs.csv", ["nhs_number"], [])
    res = [[*r[:4], GENDER[str(r[4])], *r[5:]] for r in residents_rows()]
    write_csv(directory / "gp_registrations.csv", list(gp_registrations.LAYOUT.required), res)
    spells = [
        [
            s[0],
            s[1],
            s[2],
            METHOD[s[3]],
            s[4],
            s[5],
            s[6].replace(".", ""),
            "W19X" if s[7] == "true" else "",
            DEST[s[8]],
            s[9],
        ]
        for s in spells_rows()
    ]
    write_csv(directory / "apc_spells.csv", APC_HEADER, spells)
    care = [[*c[:6], c[6], c[8], c[9], c[10], ""] for c in social_care_rows()]
    write_csv(directory / "cld.csv", list(cld.HEADER), care)
    return directory


def run(directory: Path, store: Path) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["ingest", str(directory), "--store", str(store)])
    return res.exit_code, res.output


def snapshot(store: Path, tables: tuple[str, ...] = STORE_TABLES) -> dict[str, list[tuple]]:
    return {t: table_rows(store, t) for t in tables}


def quarantine(store: Path) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(
            'SELECT feed, file, "row", "column", rule, severity, value FROM quarantine ORDER BY ALL'
        ).fetchall()
    finally:
        con.close()


@pytest.mark.usefixtures("key_env")
def test_national_files_load_the_same_store_as_the_internal_layout(
    feed_dir: Path, tmp_path: Path
) -> None:
    internal, national = tmp_path / "i" / "s.duckdb", tmp_path / "n" / "s.duckdb"
    assert run(feed_dir, internal)[0] == 0
    code, out = run(national_feeds(tmp_path / "nat"), national)
    assert code == 0, out
    assert snapshot(national) == snapshot(internal)
    assert len(table_rows(national, "hospital_spells")) == 3


@pytest.mark.usefixtures("key_env")
def test_unknown_code_quarantines_its_row_naming_field_and_code(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    rows = [r.split(",") for r in (directory / "apc_spells.csv").read_text().splitlines()[1:]]
    rows[1][3] = "2E"  # not an admission method
    write_csv(directory / "apc_spells.csv", APC_HEADER, rows)
    store = tmp_path / "s" / "s.duckdb"
    code, _ = run(directory, store)
    assert code == 1
    assert quarantine(store) == [
        ("hospital_spells", "apc_spells.csv", 3, "admimeth", "unknown_code", "error", "2E")
    ]
    assert sorted(r[1] for r in table_rows(store, "hospital_spells")) == ["S1", "S3"]
    report = (store.parent / "ingest_report.csv").read_text()
    assert "apc_spells.csv,3,admimeth,unknown_code,error" in report


@pytest.mark.usefixtures("key_env")
def test_episodes_that_do_not_form_spells_load_nothing_of_the_file(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    (directory / "apc_spells.csv").unlink()
    base = dict(
        zip(
            apc.SPELLS.required,
            ["S1", "9990000018", "RR8", "21", "2024-04-03", "2024-04-10", "S720", "", "19"],
            strict=True,
        )
    )
    rows = []
    for order, start, end in ((1, "2024-04-03", "2024-04-05"), (3, "2024-04-05", "2024-04-10")):
        row = {
            **base,
            "epikey": str(order),
            "epiorder": str(order),
            "epistart": start,
            "epiend": end,
        }
        rows.append([row[c] for c in apc.EPISODES.required])
    write_csv(directory / "apc_episodes.csv", list(apc.EPISODES.required), rows)
    store = tmp_path / "s" / "s.duckdb"
    code, out = run(directory, store)
    assert code == 2
    assert "apc_episodes.csv" in out
    assert table_rows(store, "hospital_spells") == []
    report = (store.parent / "ingest_report.csv").read_text()
    assert "apc_episodes.csv,3,epiorder,episodes_not_a_spell,error" in report
    assert len(table_rows(store, "residents")) == 6  # the other files load


@pytest.mark.usefixtures("key_env")
def test_population_with_missing_ages_loads_nothing(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    rows = [["E08000035", s, a, 10] for s in ("1", "2") for a in range(91) if a != 47]
    write_csv(directory / "ons_population.csv", ["code", "sex", "age", "population_2016"], rows)
    store = tmp_path / "s" / "s.duckdb"
    code, _ = run(directory, store)
    assert code == 2
    assert table_rows(store, "population") == []
    report = (store.parent / "ingest_report.csv").read_text()
    assert "ons_population.csv,2,age,missing_ages,error" in report


@pytest.mark.usefixtures("key_env")
def test_a_national_and_an_internal_file_for_one_feed_are_both_refused(
    feed_dir: Path, tmp_path: Path
) -> None:
    directory = national_feeds(feed_dir)  # adds apc_spells.csv beside hospital_spells.csv
    store = tmp_path / "s" / "s.duckdb"
    code, _ = run(directory, store)
    assert code == 2
    report = (store.parent / "ingest_report.csv").read_text()
    assert report.count("duplicate_feed_file") == 6  # 3 feeds, 2 files each
    assert table_rows(store, "hospital_spells") == []


# -- the equality test: synthetic data in both layouts --------------------------------------


def build_both(root: Path, years: list[str], n: int) -> tuple[Path, Path]:
    """Synthetic feeds in both layouts, each ingested into its own store."""
    params = preset("leicestershire").with_population(n)
    stores = []
    for fmt in ("internal", "national"):
        generate(params, years, 7, root / fmt, fmt=fmt)
        store = root / f"{fmt}_store" / "s.duckdb"
        result = ingest(root / fmt, store, KEY.encode())
        assert result.outcome == "loaded", result.issue_counts
        stores.append(store)
    return stores[0], stores[1]


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_both(tmp_path_factory.mktemp("national_equality"), ["2016/17"], 5000)


def same_store(
    both: tuple[Path, Path], may_be_empty: tuple[str, ...] = ("scheme_activity",)
) -> None:
    """The two stores are equal, 'reablement' discharges read back as usual residence."""
    internal, national = (snapshot(s) for s in both)
    # 'reablement' has no national discharge destination: written as 19, read back as
    # usual_residence (which discharge_usual_residence counts the same)
    col = [c.name for c in FEEDS["hospital_spells"].columns if not c.identifier]
    i = 1 + col.index("discharge_destination")  # person_id first
    internal["hospital_spells"] = sorted(
        tuple("usual_residence" if k == i and v == "reablement" else v for k, v in enumerate(r))
        for r in internal["hospital_spells"]
    )
    for table in STORE_TABLES:
        assert national[table] == internal[table], table
        assert national[table] or table in may_be_empty, table
    # the opt-out check's files give the internal opt-out list's register
    registers = [snapshot(s, ("opt_out_register",))["opt_out_register"] for s in both]
    assert registers[0] == registers[1] != []


def test_synthetic_national_files_are_the_national_layouts(both_stores: tuple[Path, Path]) -> None:
    national = both_stores[1].parent.parent / "national"
    names = {p.name for p in national.iterdir()}
    assert {
        "gp_registrations.csv",
        "apc_episodes.csv",
        "ecds.csv",
        "cld.csv",
        "ons_population.csv",
        "ndop_request.dat",
        "ndop_response.dat",
    } <= names
    assert not names & {
        "residents.parquet",
        "hospital_spells.parquet",
        "ae_attendances.parquet",
        "opt_outs.parquet",
        "population.parquet",
        "social_care_services.parquet",
    }
    episodes = pd.read_csv(national / "apc_episodes.csv", dtype=str)
    assert (episodes["epiorder"] == "2").any()  # the episode-to-spell join is exercised


def test_synthetic_data_gives_the_same_store_in_both_layouts(
    both_stores: tuple[Path, Path],
) -> None:
    same_store(both_stores)


def test_discharge_ready_dates_go_through_the_national_layout(tmp_path: Path) -> None:
    both = build_both(tmp_path, ["2024/25"], 2000)
    # the delayed transfers SitRep ended in February 2020: no rows for 2024/25
    same_store(both, may_be_empty=("scheme_activity", "delayed_transfers"))
    con = duckdb.connect(str(both[1]), read_only=True)
    try:
        (ready,) = con.execute(
            "SELECT count(discharge_ready_date) FROM hospital_spells"
        ).fetchone() or (0,)
    finally:
        con.close()
    assert ready > 0


def test_synthetic_data_gives_exactly_the_same_metrics(
    both_stores: tuple[Path, Path], tmp_path: Path
) -> None:
    out = []
    for store in both_stores:
        target = tmp_path / store.parent.name
        res = CliRunner().invoke(
            app,
            [
                "metrics",
                "--plan",
                str(REPO / "examples" / "leicestershire_2016.yaml"),
                "--store",
                str(store),
                "--period",
                "2016/17",
                "--out",
                str(target),
            ],
        )
        assert res.exit_code == 0, res.output
        out.append({f.name: pd.read_csv(f) for f in sorted(target.glob("*.csv"))})
    assert len(out[0]["metrics.csv"]) > 50
    assert "capacity_demand.csv" in out[0]
    assert out[1].keys() == out[0].keys()
    for name, frame in out[0].items():
        pd.testing.assert_frame_equal(out[1][name], frame, obj=name)


def test_synth_refuses_an_unknown_format(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["synth", "-n", "1000", "--format", "hl7", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "unknown --format 'hl7'" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.usefixtures("key_env")
def test_row_rule_findings_name_the_national_field(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    rows = [r.split(",") for r in (directory / "apc_spells.csv").read_text().splitlines()[1:]]
    rows[0][4] = "2024-13-45"  # admidate: not a date
    write_csv(directory / "apc_spells.csv", APC_HEADER, rows)
    store = tmp_path / "s" / "s.duckdb"
    assert run(directory, store)[0] == 1
    ((feed, file, row, column, _rule, severity, value),) = quarantine(store)
    assert (feed, file, row, column, severity) == (
        "hospital_spells",
        "apc_spells.csv",
        2,
        "admidate",
        "error",
    )
    assert value == "2024-13-45"


@pytest.mark.usefixtures("key_env")
def test_capitalised_hes_fields_and_parquet_read_the_same(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    plain = national_feeds(tmp_path / "plain")
    other = national_feeds(tmp_path / "other")
    text = (other / "apc_spells.csv").read_text().splitlines()
    (other / "apc_spells.csv").write_text("\n".join([text[0].upper(), *text[1:]]) + "\n")
    gp = other / "gp_registrations.csv"
    pq.write_table(
        pacsv.read_csv(
            gp,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(gp_registrations.LAYOUT.required, "string")
            ),
        ),
        other / "gp_registrations.parquet",
    )
    gp.unlink()
    a, b = tmp_path / "a" / "s.duckdb", tmp_path / "b" / "s.duckdb"
    assert run(plain, a)[0] == 0
    code, out = run(other, b)
    assert code == 0, out
    assert snapshot(b) == snapshot(a)


@pytest.mark.usefixtures("key_env")
def test_retired_code_loads_with_a_warning(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    rows = [r.split(",") for r in (directory / "apc_spells.csv").read_text().splitlines()[1:]]
    rows[0][8] = "54"  # NHS run care home: replaced by 55 / 56
    write_csv(directory / "apc_spells.csv", APC_HEADER, rows)
    store = tmp_path / "s" / "s.duckdb"
    result = ingest(directory, store, KEY.encode())
    (spells,) = [f for f in result.feeds if f.feed == "hospital_spells"]
    # read 3 (a warning's row is not counted twice), loaded 3, one warning
    assert (spells.rows_read, spells.rows_loaded, spells.rows_quarantined, spells.warnings) == (
        3,
        3,
        0,
        1,
    )
    assert quarantine(store) == [
        ("hospital_spells", "apc_spells.csv", 2, "disdest", "retired_code", "warning", "54")
    ]
    con = duckdb.connect(str(store), read_only=True)
    try:
        got = con.execute(
            "SELECT discharge_destination FROM hospital_spells WHERE spell_id = 'S1'"
        ).fetchone()
    finally:
        con.close()
    assert got == ("care_home",)


@pytest.mark.usefixtures("key_env")
def test_a_file_in_another_datasets_layout_loads_nothing(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    (directory / "apc_spells.csv").write_bytes((directory / "cld.csv").read_bytes())
    store = tmp_path / "s" / "s.duckdb"
    code, _ = run(directory, store)
    assert code == 2
    assert table_rows(store, "hospital_spells") == []
    report = (store.parent / "ingest_report.csv").read_text().splitlines()
    assert any(r.startswith("apc_spells.csv,1,,wrong_dataset,error") for r in report)
    assert len(table_rows(store, "social_care_services")) == 3  # the real cld.csv loads


@pytest.mark.usefixtures("key_env")
def test_identifier_findings_name_the_national_field(tmp_path: Path) -> None:
    directory = national_feeds(tmp_path / "nat")
    res = [[*r[:4], GENDER[str(r[4])], *r[5:]] for r in residents_rows()]
    for r in res:
        r[7] = r[0]  # NHS numbers in practice_code
    write_csv(directory / "gp_registrations.csv", list(gp_registrations.LAYOUT.required), res)
    store = tmp_path / "s" / "s.duckdb"
    code, _ = run(directory, store)
    assert code == 2
    assert table_rows(store, "residents") == []
    report = (store.parent / "ingest_report.csv").read_text()
    assert "gp_registrations.csv,,practice_code,identifier_in_column,error" in report
    assert "field 'practice_code' holds NHS numbers" in report


@pytest.mark.usefixtures("key_env")
def test_a_cld_row_whose_service_nothing_says_is_quarantined_naming_the_local_field(
    tmp_path: Path,
) -> None:
    directory = national_feeds(tmp_path / "nat")
    header = [*cld.HEADER, "service_component"]
    care = [[*c[:6], c[6], c[8], c[9], c[10], "", ""] for c in social_care_rows()]
    care[0][6] = ""  # no local service type, and the CLD does not say it
    care[1][6], care[1][10] = "", "Short term support: ST-Max"  # the CLD says reablement
    write_csv(directory / "cld.csv", header, care)
    store = tmp_path / "s" / "s.duckdb"
    assert run(directory, store)[0] == 1
    ((feed, file, row, column, rule, severity, _value),) = quarantine(store)
    assert (feed, file, row, column, severity) == (
        "social_care_services",
        "cld.csv",
        2,
        "local_service_type",
        "error",
    )
    assert rule == "required"
    con = duckdb.connect(str(store), read_only=True)
    try:
        got = con.execute(
            "SELECT service_type, setting FROM social_care_services WHERE service_id = 'C2'"
        ).fetchall()
    finally:
        con.close()
    assert got == [("reablement", "community")]
