"""Shared fixtures: a consistent plan (plan tests) and small valid feed CSVs (ingestion)."""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import yaml

from bettercare.data.schema import FEEDS
from bettercare.domain.plan import Plan

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def valid_plan_data() -> dict:
    return yaml.safe_load((FIXTURES / "valid_plan.yaml").read_text())


@pytest.fixture
def make_plan(valid_plan_data) -> Callable[[Callable[[dict], None] | None], Plan]:
    """Build a Plan from the valid fixture after applying ``change`` to a copy of its data."""

    def build(change: Callable[[dict], None] | None = None) -> Plan:
        data = copy.deepcopy(valid_plan_data)
        if change:
            change(data)
        return Plan.model_validate(data)

    return build


# -- ingestion fixtures -------------------------------------------------------

# Valid (modulus 11) NHS numbers in the test range.
NHS = ["9990000018", "9990000026", "9990000034", "9990000042", "9990000050", "9990000069"]
KEY = "bars-test-key-0123456789abcdef0123456789"  # strong enough for check_strength

RESIDENTS = [
    # nhs, given, family, dob, sex, postcode
    (NHS[0], "Margaret", "Thompson", "1940-03-12", "F", "LS1 4AB"),
    (NHS[1], "John", "Smith", "1950-01-01", "M", "M1 1AA"),
    (NHS[2], "Mary", "Smith", "1950-01-01", "F", "M1 1AA"),
    (NHS[3], "Ahmed", "Khan", "1960-05-05", "M", "B1 1BB"),
    (NHS[4], "Olive", "Green", "1935-07-30", "F", "LS6 2QT"),
    (NHS[5], "Arthur", "Brown", "1938-11-02", "M", "LS7 3RR"),
]


def write_csv(
    path: Path, header: list[str], rows: list[list[object]], delimiter: str = ","
) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def residents_rows() -> list[list[object]]:
    return [
        [n, g, f, d, s, p, "E01000001", "A12345", "E08000035", 3, 2, "false", "", ""]
        for n, g, f, d, s, p in RESIDENTS
    ]


def spells_rows() -> list[list[object]]:
    return [
        [
            "S1",
            NHS[0],
            "RR8",
            "non_elective",
            "2024-04-03",
            "2024-04-10",
            "S72.0",
            "true",
            "usual_residence",
            "2024-04-08",  # discharge ready date: two days' delay
        ],
        [
            "S2",
            NHS[1],
            "RR8",
            "elective",
            "2024-04-05",
            "2024-04-06",
            "K40",
            "false",
            "usual_residence",
            "2024-04-06",
        ],
        ["S3", NHS[3], "RR8", "non_elective", "2024-05-01", "", "I21", "false", "", ""],
    ]


def social_care_rows() -> list[list[object]]:
    return [
        [
            "C1",
            NHS[0],
            "Margaret",
            "Thompson",
            "1940-03-12",
            "LS1 4AB",
            "home_care",
            "community",
            "2024-04-11",
            "",
            "false",
        ],
        # no NHS number: noisy copy of Olive Green -> must link probabilistically
        [
            "C2",
            "",
            "Olivia",
            "Grene",
            "1935-07-03",
            "LS6 2QT",
            "reablement",
            "community",
            "2024-04-20",
            "2024-05-20",
            "false",
        ],
        # nobody in the residents feed -> must stay unlinked
        [
            "C3",
            "",
            "Peter",
            "Jones",
            "1950-01-01",
            "M1 1AA",
            "home_care",
            "community",
            "2024-04-22",
            "",
            "false",
        ],
    ]


def write_feeds(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(directory / "opt_outs.csv", ["nhs_number"], [])  # nobody opted out
    write_csv(directory / "residents.csv", FEEDS["residents"].column_names, residents_rows())
    write_csv(
        directory / "hospital_spells.csv", FEEDS["hospital_spells"].column_names, spells_rows()
    )
    write_csv(
        directory / "social_care_services.csv",
        FEEDS["social_care_services"].column_names,
        social_care_rows(),
    )
    return directory


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    return write_feeds(tmp_path / "in")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store" / "store.duckdb"


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv("BETTERCARE_PSEUDONYM_KEY", KEY)
    return KEY.encode()


def table_rows(store: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


# -- tiers --------------------------------------------------------------------------
# Tiers are markers (registered in pyproject.toml, --strict-markers): a module of end to
# end tests says `pytestmark = pytest.mark.slow`, a Spark one `pytest.mark.spark`.
# `make test` runs every tier; `make test-fast` runs -m "not spark and not slow".
# Both run under pytest-xdist (`-n auto --dist loadfile`): each worker is its own process
# with its own Spark session (local[1], random ports, no UI) and its own PostgreSQL server
# (tests/web/pgserver.py: own directory, own port); a module's tests stay on one worker.
