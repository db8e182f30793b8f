"""The national data opt-out check's files (request sent, response returned) as the
opt-out list: the opted-out are the numbers sent that did not come back; bad files
located and rejected, and with them the run's person-level feeds."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import KEY, NHS, table_rows, write_csv, write_feeds
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.ingest import ingest
from bettercare.data.ingest.read import FileRejected
from bettercare.data.national import ndop
from bettercare.data.national.convert import read_national


def dat(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_bytes("".join(line + end for line in lines).encode("ascii"))
    return path


def check(tmp_path: Path, sent: list[str], returned: list[str], end: str = "\n") -> Path:
    dat(tmp_path / "ndop_request.dat", sent, end)
    return dat(tmp_path / "ndop_response.dat", returned, end)


def test_the_opted_out_are_the_numbers_sent_that_did_not_come_back(tmp_path: Path) -> None:
    path = check(
        tmp_path,
        [f"{n}," for n in NHS],  # the layout sent: one number per line, then a comma
        [f"{NHS[0]},", f"{NHS[2]},", f"{NHS[3]},", f"{NHS[5]},"],
    )
    table, issues = read_national(path)
    assert issues == []
    # NHS[1] on line 2 and NHS[4] on line 5 of the request did not come back
    assert table.to_pylist() == [
        {"nhs_number": NHS[1], "_row": 2},
        {"nhs_number": NHS[4], "_row": 5},
    ]


def test_crlf_no_trailing_comma_blank_lines_and_repeats_are_accepted(tmp_path: Path) -> None:
    path = check(
        tmp_path,
        [NHS[0], "", f" {NHS[1]} ,", NHS[1], NHS[2]],
        [NHS[0]],
        end="\r\n",
    )
    table, issues = read_national(path)
    assert issues == []
    assert table.to_pylist() == [
        {"nhs_number": NHS[1], "_row": 3},  # its first line
        {"nhs_number": NHS[2], "_row": 5},
    ]


def test_everyone_returned_means_nobody_opted_out(tmp_path: Path) -> None:
    table, _ = read_national(check(tmp_path, [f"{n}," for n in NHS], [f"{n}," for n in NHS]))
    assert table.num_rows == 0


def rejection(path: Path) -> list[tuple]:
    with pytest.raises(FileRejected) as exc:
        read_national(path)
    return [(i.file, i.row, i.column, i.rule, i.value) for i in exc.value.issues]


def test_an_invalid_entry_rejects_the_list_naming_file_and_line(tmp_path: Path) -> None:
    bad = "9990000017"  # modulus 11 check digit wrong
    path = check(tmp_path, [f"{n}," for n in NHS], [f"{NHS[0]},", f"{bad},", "hello,"])
    assert rejection(path) == [
        ("ndop_response.dat", 2, "nhs_number", ndop.INVALID, ""),
        ("ndop_response.dat", 3, "nhs_number", ndop.INVALID, ""),
    ]
    with pytest.raises(FileRejected) as exc:
        read_national(path)
    assert bad not in str(exc.value)  # an NHS number is never shown


def test_an_invalid_entry_in_the_request_names_the_request(tmp_path: Path) -> None:
    path = check(tmp_path, [f"{NHS[0]},", "999000001,"], [f"{NHS[0]},"])
    assert rejection(path) == [("ndop_request.dat", 2, "nhs_number", ndop.INVALID, "")]


def test_a_number_returned_that_was_not_sent_rejects_the_list(tmp_path: Path) -> None:
    path = check(tmp_path, [f"{NHS[0]},", f"{NHS[1]},"], [f"{NHS[0]},", f"{NHS[4]},"])
    assert rejection(path) == [("ndop_response.dat", 2, "nhs_number", ndop.NOT_IN_REQUEST, "")]


def test_a_response_without_its_request_or_an_empty_request_is_rejected(tmp_path: Path) -> None:
    path = dat(tmp_path / "ndop_response.dat", [f"{NHS[0]},"])
    assert rejection(path) == [("ndop_response.dat", None, None, "missing_request", "")]
    dat(tmp_path / "ndop_request.dat", [])
    assert rejection(path) == [("ndop_request.dat", None, None, "empty_file", "")]


# -- through the ingest ----------------------------------------------------------------------


def opt_out_register(store: Path) -> int:
    con = duckdb.connect(str(store), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM opt_out_register").fetchone()
    finally:
        con.close()
    return row[0] if row else 0


@pytest.mark.slow
@pytest.mark.usefixtures("key_env")
def test_the_check_loads_the_same_store_as_the_internal_opt_out_list(tmp_path: Path) -> None:
    internal = write_feeds(tmp_path / "i")
    write_csv(internal / "opt_outs.csv", ["nhs_number"], [[NHS[4]]])
    national = write_feeds(tmp_path / "n")
    (national / "opt_outs.csv").unlink()
    check(national, [f"{n}," for n in NHS], [f"{n}," for n in NHS if n != NHS[4]])
    a, b = tmp_path / "a" / "s.duckdb", tmp_path / "b" / "s.duckdb"
    assert ingest(internal, a, KEY.encode()).outcome == "loaded"
    result = ingest(national, b, KEY.encode())
    assert result.outcome == "loaded"
    (opt,) = [f for f in result.feeds if f.feed == "opt_outs"]
    assert (opt.file, opt.rows_read, opt.rows_loaded) == ("ndop_response.dat", 1, 1)
    assert opt_out_register(b) == opt_out_register(a) == 1
    for table in ("residents", "hospital_spells", "social_care_services"):
        assert table_rows(b, table) == table_rows(a, table)
    assert len(table_rows(b, "residents")) == 5  # NHS[4] opted out


def run(directory: Path, store: Path) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["ingest", str(directory), "--store", str(store)])
    return res.exit_code, res.output


@pytest.mark.usefixtures("key_env")
def test_a_rejected_check_loads_no_person_level_feed(tmp_path: Path) -> None:
    directory = write_feeds(tmp_path / "n")
    (directory / "opt_outs.csv").unlink()
    check(directory, [f"{n}," for n in NHS], [f"{NHS[0]},", "12,"])
    store = tmp_path / "s" / "s.duckdb"
    code, out = run(directory, store)
    assert code == 2
    assert "ndop_response.dat" in out
    assert table_rows(store, "residents") == []
    assert table_rows(store, "hospital_spells") == []
    report = (store.parent / "ingest_report.csv").read_text()
    assert "ndop_response.dat,2,nhs_number,opt_out_list_invalid,error" in report


@pytest.mark.usefixtures("key_env")
def test_a_request_without_a_response_blocks_person_level_feeds(tmp_path: Path) -> None:
    directory = write_feeds(tmp_path / "n")
    (directory / "opt_outs.csv").unlink()
    dat(directory / "ndop_request.dat", [f"{n}," for n in NHS])
    store = tmp_path / "s" / "s.duckdb"
    code, _ = run(directory, store)
    assert code == 2
    report = (store.parent / "ingest_report.csv").read_text()
    assert "ndop_request.dat,,,missing_companion,error" in report
    assert table_rows(store, "residents") == []


@pytest.mark.usefixtures("key_env")
def test_the_check_and_an_internal_opt_out_list_are_both_refused(tmp_path: Path) -> None:
    directory = write_feeds(tmp_path / "n")  # has opt_outs.csv
    check(directory, [f"{n}," for n in NHS], [f"{n}," for n in NHS])
    store = tmp_path / "s" / "s.duckdb"
    assert run(directory, store)[0] == 2
    report = (store.parent / "ingest_report.csv").read_text()
    assert report.count("duplicate_feed_file") == 2
    assert table_rows(store, "residents") == []


def test_the_documented_sample_reads() -> None:
    samples = Path(__file__).parents[2] / "docs" / "datasets" / "samples"
    table, issues = read_national(samples / "ndop_response.dat")
    assert issues == []
    assert table.column("nhs_number").to_pylist() == ["9990000050"]


def test_a_file_in_another_layout_is_rejected_at_its_first_line(tmp_path: Path) -> None:
    # the internal opt_outs.csv layout (a header, then numbers) saved as the response
    dat(tmp_path / "ndop_request.dat", [f"{n}," for n in NHS])
    path = dat(tmp_path / "ndop_response.dat", ["nhs_number", *NHS[:2]])
    assert rejection(path) == [("ndop_response.dat", 1, "nhs_number", ndop.INVALID, "")]
    # a CSV of several fields (here ECDS-like) is rejected line by line, the value unshown
    path = dat(tmp_path / "ndop_response.dat", ["ec_ident,nhs_number", f"A1,{NHS[0]}"])
    assert [r[1] for r in rejection(path)] == [1, 2]
