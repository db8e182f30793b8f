from bettercare.data.figures import read_figures_file
from bettercare.data.geography import hwb_england
from bettercare.data.synth.publication import synthetic_publication, write_publication


def test_every_hwb_and_england_valid_and_seeded(tmp_path):
    a = synthetic_publication(["2023/24"], seed=7, metrics=["reablement_91_days"])
    b = synthetic_publication(["2023/24"], seed=7, metrics=["reablement_91_days"])
    assert a.equals(b)
    assert set(a.area_code) == {x.hwb_code for x in hwb_england()} | {"E92000001"}
    # the strict reader accepts it; small cohorts are suppressed, never 0
    path = write_publication(tmp_path / "pub.csv", a)
    rows = read_figures_file(path).rows
    scilly = next(r for r in rows if r.area_code == "E06000053")
    assert scilly.suppressed and scilly.value is None  # cohort 0.4% of ~400 people
    assert len(rows) == 154


def test_monthly_years_add_twelve_months():
    f = synthetic_publication(
        ["2024/25"], metrics=["non_elective_admissions"], monthly_years=["2024/25"]
    )
    rut = f[f.area_code == "E06000017"]
    assert sorted(rut.period)[:2] == ["2024-04", "2024-05"] and len(rut) == 13
