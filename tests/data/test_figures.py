import csv
from pathlib import Path

import pytest

from bettercare.data.figures import (
    AreaType,
    FiguresRejected,
    load_figures,
    read_figures,
    read_figures_file,
)
from bettercare.data.figures.layouts import FINGERTIPS_REQUIRED

FT_HEADER = (
    "Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,"
    "Age,Category Type,Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
    "Lower CI 99.8 limit,Upper CI 99.8 limit,Count,Denominator,Value note,Recent Trend,"
    "Compared to England value or percentiles,Compared to Region value or percentiles,"
    "Time period Sortable,New data,Compared to goal"
)


def ft_row(ind, code, name, atype, sex, cat, period, value, lo, hi, count, den, note=""):
    return [
        ind,
        "x",
        "E92000001",
        "England",
        code,
        name,
        atype,
        sex,
        "65+ yrs",
        cat,
        "",
        period,
        value,
        lo,
        hi,
        "",
        "",
        count,
        den,
        note,
        "",
        "",
        "",
        "20220000",
        "",
        "",
    ]


def write(path: Path, header: str, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header.split(","))
        w.writerows(rows)
    return path


def test_the_fingertips_header_is_the_published_one():
    # Every field bettercare requires is in the header Fingertips' own tests expect.
    assert set(FINGERTIPS_REQUIRED) <= set(FT_HEADER.split(","))


def test_fingertips_export_keeps_persons_mapped_indicators_and_suppression(tmp_path):
    f = write(
        tmp_path / "ft.csv",
        FT_HEADER,
        [
            ft_row(
                "22401",
                "E92000001",
                "England",
                "England",
                "Persons",
                "",
                "2022/23",
                "1933.0",
                "1926.5",
                "1939.6",
                "214751",
                "11000000",
            ),
            ft_row(
                "22401",
                "E06000017",
                "Rutland",
                "Counties & UAs (from Apr 2023)",
                "Persons",
                "",
                "2022/23",
                "1500.2",
                "1300.1",
                "1720.3",
                "170",
                "11000",
            ),
            ft_row(
                "22401",
                "E06000017",
                "Rutland",
                "Counties & UAs (from Apr 2023)",
                "Male",
                "",
                "2022/23",
                "1400",
                "1200",
                "1600",
                "70",
                "5000",
            ),
            ft_row(
                "92949",
                "E06000016",
                "Leicester",
                "Counties & UAs (from Apr 2023)",
                "Persons",
                "",
                "2022/23",
                "",
                "",
                "",
                "",
                "",
                "Value suppressed for disclosure control due to small count",
            ),
            ft_row(
                "92949",
                "E06000018",
                "Nottingham",
                "Counties & UAs (from Apr 2023)",
                "Persons",
                "",
                "2022/23",
                "*",
                "",
                "",
                "",
                "",
            ),
            ft_row(
                "90360",
                "E06000017",
                "Rutland",
                "Counties & UAs (from Apr 2023)",
                "Persons",
                "",
                "2022/23",
                "5",
                "4",
                "6",
                "1",
                "20",
            ),
            ft_row(
                "22401",
                "E07000001",
                "A district",
                "Districts & UAs",
                "Persons",
                "",
                "2022/23",
                "5",
                "4",
                "6",
                "1",
                "20",
            ),
            ft_row(
                "22401",
                "E06000017",
                "Rutland",
                "Counties & UAs (from Apr 2023)",
                "Persons",
                "Deprivation deciles",
                "2022/23",
                "5",
                "4",
                "6",
                "1",
                "20",
            ),
        ],
    )
    res = read_figures_file(f)
    assert res.layout == "fingertips"
    by = {(r.area_code, r.metric): r for r in res.rows}
    assert len(res.rows) == 4
    eng = by["E92000001", "falls_65_dsr"]
    assert eng.area_type is AreaType.ENGLAND
    assert (eng.numerator, eng.denominator, eng.value) == (214751, 11_000_000, 1933.0)
    leic = by["E06000016", "dementia_diagnosis_rate"]
    assert leic.suppressed and leic.value is None and leic.numerator is None
    nott = by["E06000018", "dementia_diagnosis_rate"]
    assert nott.suppressed and nott.value is None  # "*" is suppressed, never zero
    assert sum(res.skipped.values()) == 4  # Male, unmapped 90360, district, category


def test_fingertips_three_year_period_becomes_a_month_range(tmp_path):
    f = write(
        tmp_path / "ft.csv",
        FT_HEADER,
        [
            ft_row(
                "22401",
                "E06000017",
                "Rutland",
                "UA",
                "Persons",
                "",
                "2018 - 20",
                "1500",
                "1300",
                "1700",
                "500",
                "33000",
            ),
        ],
    )
    assert read_figures_file(f).rows[0].period == "2018-01..2020-12"


BC = "metric,area_code,period,numerator,denominator,value,lower_95,upper_95"


def test_bettercare_csv_located_errors_all_reported(tmp_path):
    f = write(
        tmp_path / "bc.csv",
        BC,
        [
            ["emergency_admissions_65", "E06000017", "2023/24", "1200", "9000", "13333", "", ""],
            ["no_such_metric", "E06000017", "2023/24", "1", "2", "3", "", ""],
            ["emergency_admissions_65", "E07000001", "2023/24", "1", "2", "3", "", ""],
            ["emergency_admissions_65", "E06000016", "2023/99", "1", "2", "3", "", ""],
            ["discharge_usual_residence", "E06000016", "2023/24", "95", "90", "", "", ""],
            ["emergency_admissions_65", "E06000018", "2023/24", "-1", "900", "", "", ""],
            ["emergency_admissions_65", "E06000019", "2023/24", "1", "9", "abc", "", ""],
            ["emergency_admissions_65", "E06000017", "2023/24", "1", "9", "5", "6", "7"],
            ["emergency_admissions_65", "E06000017", "2023/24", "1", "9", "5", "", ""],
        ],
    )
    with pytest.raises(FiguresRejected) as caught:
        read_figures_file(f)
    found = caught.value.findings
    expect = [
        "row 3, column metric",
        "row 4, column area_code",
        "row 5, column period",
        "row 6, column numerator: 95 exceeds the denominator 90",
        "row 7, column numerator: -1 is negative",
        "row 8, column value: 'abc' is not a number",
        "row 9, column value: 5 lies outside its limits 6..7",
        "row 10: repeats emergency_admissions_65 for E06000017 in 2023/24 (first at row 2)",
    ]
    assert len(found) == len(expect)
    for line, want in zip(found, expect, strict=True):
        assert want in line and line.startswith(str(f))
    assert "nothing loaded" in str(caught.value)


def test_load_is_atomic_and_replaces_same_keys(tmp_path):
    db = tmp_path / "figs.duckdb"
    good = write(
        tmp_path / "a.csv",
        BC,
        [
            ["emergency_admissions_65", "E06000017", "2023/24", "1200", "9000", "13333.3", "", ""],
            ["emergency_admissions_65", "E06000016", "2023/24", "c", "60000", "c", "", ""],
        ],
    )
    s = load_figures(read_figures_file(good), db, str(good))
    assert (s.loaded, s.suppressed, s.total, s.replaced) == (2, 1, 2, 0)
    again = write(
        tmp_path / "b.csv",
        BC,
        [
            ["emergency_admissions_65", "E06000017", "2023/24", "1100", "9000", "12222.2", "", ""],
            ["emergency_admissions_65", "E06000017", "2024/25", "1000", "9000", "11111.1", "", ""],
        ],
    )
    s = load_figures(read_figures_file(again), db, str(again))
    assert (s.loaded, s.replaced, s.total) == (2, 1, 3)
    frame = read_figures(db).set_index(["area_code", "period"])
    assert frame.loc[("E06000017", "2023/24"), "numerator"] == 1100
    sup = frame.loc[("E06000016", "2023/24")]
    assert bool(sup.suppressed) and sup.numerator != sup.numerator  # NaN, not 0
    bad = write(
        tmp_path / "c.csv",
        BC,
        [
            ["emergency_admissions_65", "E06000017", "2025/26", "1", "9", "1", "", ""],
            ["emergency_admissions_65", "E06000017", "2026/27", "x1", "9", "1", "", ""],
        ],
    )
    with pytest.raises(FiguresRejected):
        load_figures(read_figures_file(bad), db, str(bad))
    assert len(read_figures(db)) == 3  # nothing of the bad file
