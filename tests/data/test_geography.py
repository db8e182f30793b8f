from collections import Counter
from pathlib import Path

import pytest

from bettercare.data.geography import hwb_area, hwb_england, read_hwb_areas
from bettercare.errors import BadInput, NotFound


def test_every_upper_tier_authority_of_england_once():
    areas = hwb_england()
    # April 2023: 21 counties + 63 unitaries + 36 metropolitan districts + 32 London
    # boroughs + the City of London = 153 upper-tier authorities.
    assert len(areas) == 153
    assert len({a.hwb_code for a in areas}) == 153
    prefixes = Counter(a.hwb_code[:3] for a in areas)
    assert prefixes == {"E06": 63, "E08": 36, "E09": 33, "E10": 21}


def test_known_areas_and_regions():
    assert hwb_area("E06000017").hwb_name == "Rutland"
    assert hwb_area("E08000025").hwb_name == "Birmingham"
    assert hwb_area("E09000001").nhs_region == "London"
    # ONS region East Midlands -> NHS Midlands.
    assert hwb_area("E06000017").nhs_region == "Midlands"
    # The 2023 unitaries are in; the abolished county codes are not.
    assert hwb_area("E06000065").hwb_name == "North Yorkshire"
    with pytest.raises(NotFound):
        hwb_area("E10000023")  # North Yorkshire County Council, abolished April 2023


def test_england_total_is_the_ons_mid_2020_figure():
    # ONS mid-2020 estimate for England: 56,550,138.
    assert sum(a.population for a in hwb_england()) == 56_550_138


def test_65_plus_is_marked_as_an_estimate():
    rutland = hwb_area("E06000017")
    assert rutland.population_65_plus_estimated
    assert rutland.population_65_plus == round(rutland.population * 0.184)


def test_a_bad_user_list_is_refused_with_its_row_and_column(tmp_path: Path):
    src = Path(__file__).parents[2] / "bettercare/data/defaults/hwb_england.csv"
    lines = src.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "hwb.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace("E06000001", "E07000001")]) + "\n")
    with pytest.raises(BadInput, match=r"row 2, column hwb_code"):
        read_hwb_areas(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("\n".join([lines[0], lines[1], lines[1]]) + "\n")
    with pytest.raises(BadInput, match=r"row 3, column hwb_code: repeats"):
        read_hwb_areas(dup)
