"""GP registration (resident) list -> the ``residents`` feed.

Layout ``gp_registrations.csv``: one row per person registered with a GP practice and
resident in the HWB area, as a CSU supplies it from the GP registration data (PDS /
the practices' lists), with the fields the BCF metrics need added locally
(``hwb_code`` from the LSOA, ``imd_decile`` from the English Indices of Deprivation,
``ltc_count``, the QOF dementia register, the date of death). See
``docs/datasets/gp_registrations.md``.

Mapping: ``gender`` (Person Stated Gender Code, :mod:`.codes.person_stated_gender`)
-> ``sex``; ``lsoa11`` -> ``lsoa``; ``practice_code`` -> ``gp_practice``; the other
fields keep their names. Optional fields (``ethnic_category``, ``registration_date``,
``address_line_1``) are accepted and dropped (data minimisation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from bettercare.data.feed_files import ROW, Issue
from bettercare.data.national.codes.person_stated_gender import PERSON_STATED_GENDER
from bettercare.data.national.common import Layout, map_codes, read_layout, result
from bettercare.data.schema import FEEDS

RENAMED = {"sex": "gender", "lsoa": "lsoa11", "gp_practice": "practice_code"}
FIELD_OF = RENAMED  # internal column -> national field (names the field in findings)
LAYOUT = Layout(
    name="gp_registrations",
    required=tuple(RENAMED.get(c, c) for c in FEEDS["residents"].column_names),
    optional=("ethnic_category", "registration_date", "address_line_1"),
)


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read a ``gp_registrations`` file: its rows in the ``residents`` layout, and the findings."""
    table, issues = read_layout(path, LAYOUT, others)
    bad = np.zeros(table.num_rows, dtype=bool)
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        c: table.column(RENAMED.get(c, c)) for c in FEEDS["residents"].column_names
    }
    cols["sex"] = map_codes(path.name, table, "gender", PERSON_STATED_GENDER, issues, bad)
    return result(FEEDS["residents"], cols, table.column(ROW), bad), issues
