"""England's Health and Wellbeing Boards as data: codes, names, regions, populations.

Owns reading ``data/defaults/hwb_england.csv`` (one row per upper-tier local authority of
England, the footprint of a Health and Wellbeing Board) into typed records. It does not
own the ONS population feed of the person-level store (``data/national/ons_population``)
nor any published figures (``data/figures``).

Provenance (see ``data/defaults/README.md``): codes, names, authority types, ONS regions
and all-ages populations come from mySociety's *UK Local Authority Names and Codes*
(``uk_local_authorities_future.csv``, columns ``gss-code``, ``nice-name``,
``local-authority-type``, ``region``, ``pop-2020``; https://github.com/mysociety/
uk_local_authority_names_and_codes), itself compiled from ONS codes and the ONS mid-2020
population estimates. Each row says how each figure was obtained (``*_basis``): the NHS
region is derived from the ONS region, and the 65+ population is *estimated* from the
England share of 18.4% (Census 2021), not an ONS figure for the area; ICBs are not yet
confirmed and left blank.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bettercare.errors import BadInput, NotFound

HWB_CODE = re.compile(r"^E(06|08|09|10)\d{6}$")
NHS_REGIONS = (
    "East of England",
    "London",
    "Midlands",
    "North East and Yorkshire",
    "North West",
    "South East",
    "South West",
)
DEFAULT_FILE = "hwb_england.csv"


class HwbArea(BaseModel):
    """One Health and Wellbeing Board area of England (an upper-tier local authority)."""

    model_config = ConfigDict(frozen=True)

    hwb_code: str = Field(pattern=HWB_CODE.pattern, description="ONS code, e.g. E06000017")
    hwb_name: str = Field(min_length=1)
    authority_type: str
    ons_region: str
    nhs_region: str
    nhs_region_basis: str
    icb_name: str = ""
    population: int = Field(ge=0, description="All ages")
    population_basis: str
    population_65_plus: int = Field(ge=0)
    population_65_plus_basis: str
    notes: str = ""

    @property
    def population_65_plus_estimated(self) -> bool:
        """True when the 65+ figure is an estimate rather than a published count."""
        return self.population_65_plus_basis.startswith("estimated")


def _rows(lines: Iterable[str], source: str) -> tuple[HwbArea, ...]:
    out: list[HwbArea] = []
    seen: set[str] = set()
    for lineno, row in enumerate(csv.DictReader(lines), start=2):
        try:
            area = HwbArea.model_validate(row)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise BadInput(f"{source}: row {lineno}, column {field}: {err['msg']}") from None
        if area.nhs_region not in NHS_REGIONS:
            raise BadInput(
                f"{source}: row {lineno}, column nhs_region: '{area.nhs_region}' is not an "
                "NHS England region"
            )
        if area.hwb_code in seen:
            raise BadInput(f"{source}: row {lineno}, column hwb_code: repeats {area.hwb_code}")
        seen.add(area.hwb_code)
        out.append(area)
    return tuple(out)


def read_hwb_areas(path: Path) -> tuple[HwbArea, ...]:
    """Read an HWB list in the ``hwb_england.csv`` layout (a user's own copy)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return _rows(handle, str(path))


@cache
def hwb_england() -> tuple[HwbArea, ...]:
    """Every HWB area of England, in ONS code order (the packaged list)."""
    text = (
        resources.files("bettercare.data")
        .joinpath("defaults", DEFAULT_FILE)
        .read_text(encoding="utf-8")
    )
    return _rows(text.splitlines(), DEFAULT_FILE)


def hwb_by_code() -> dict[str, HwbArea]:
    """The packaged HWB areas keyed by ONS code."""
    return {a.hwb_code: a for a in hwb_england()}


def hwb_area(code: str) -> HwbArea:
    """One packaged HWB area by ONS code; :class:`NotFound` when it is not in the list."""
    try:
        return hwb_by_code()[code]
    except KeyError:
        raise NotFound(f"'{code}' is not an HWB of England in {DEFAULT_FILE}") from None
