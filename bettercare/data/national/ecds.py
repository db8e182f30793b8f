"""Emergency Care Data Set (ECDS) A&E attendances -> the ``ae_attendances`` feed.

Layout ``ecds.csv``: one row per emergency care attendance, field names those of the
SUS+/NCDR ECDS tables (``EC_Ident``, ``Der_Provider_Code``, ``EC_Department_Type``,
``EC_Arrival_Mode_SNOMED_CT``, ...) in any case. Read (required): ``ec_ident`` (->
``attendance_id``), ``nhs_number``, ``der_provider_code`` (-> ``provider_code``),
``arrival_date``, ``ec_department_type`` (01-04 -> ``department_type``),
``ec_arrival_mode_snomed_ct`` (-> ``arrival_mode``: ambulance or other),
``discharge_destination_snomed_ct`` (-> ``disposal``), ``age_at_arrival`` (-> ``age``).
Read when present: ``der_postcode_lsoa_2011_code`` (-> ``lsoa``) and ``gp_practice_code``
(-> ``gp_practice``). Code lists and how far each is confirmed:
:mod:`.codes.ecds`. The NHS number field's name (``nhs_number``; NCDR holds only a
pseudonymised one) and ``gp_practice_code`` are assumed names, documented in
``docs/datasets/ecds.md``.

Accepted and dropped (data minimisation): ``ec_attendancecategory`` (its codes could not
be confirmed), ``ec_discharge_status_snomed_ct``, ``discharge_follow_up_snomed_ct``,
``ec_chief_complaint_snomed_ct``, ``ec_acuity_snomed_ct``, ``arrival_time``,
``ec_departure_date``, ``ec_departure_time``, ``ec_decision_to_admit_date``,
``der_provider_site_code``, ``sex``, ``ethnic_category``. An empty arrival mode or
discharge destination reads as not recorded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from bettercare.data.feed_files import ROW, Issue
from bettercare.data.national.codes.ecds import ECDS_CODES
from bettercare.data.national.common import Layout, map_codes, read_layout, result, text
from bettercare.data.schema import FEEDS

FEED = FEEDS["ae_attendances"]
#: internal column -> the national field it is read from (names the field in findings)
FIELD_OF = {
    "attendance_id": "ec_ident",
    "nhs_number": "nhs_number",
    "provider_code": "der_provider_code",
    "arrival_date": "arrival_date",
    "department_type": "ec_department_type",
    "arrival_mode": "ec_arrival_mode_snomed_ct",
    "disposal": "discharge_destination_snomed_ct",
    "age": "age_at_arrival",
    "lsoa": "der_postcode_lsoa_2011_code",
    "gp_practice": "gp_practice_code",
}
OPTIONAL_READ = ("der_postcode_lsoa_2011_code", "gp_practice_code")
LAYOUT = Layout(
    name="ecds",
    required=tuple(FIELD_OF[c] for c in FEED.column_names if FIELD_OF[c] not in OPTIONAL_READ),
    optional=(
        *OPTIONAL_READ,
        "ec_attendancecategory",
        "ec_discharge_status_snomed_ct",
        "discharge_follow_up_snomed_ct",
        "ec_chief_complaint_snomed_ct",
        "ec_acuity_snomed_ct",
        "arrival_time",
        "ec_departure_date",
        "ec_departure_time",
        "ec_decision_to_admit_date",
        "der_provider_site_code",
        "sex",
        "ethnic_category",
    ),
)


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read an ``ecds`` file: its rows in the ``ae_attendances`` layout, and the findings."""
    table, issues = read_layout(path, LAYOUT, others)
    bad = np.zeros(table.num_rows, dtype=bool)
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    for column in FEED.column_names:
        field = FIELD_OF[column]
        if field in ECDS_CODES:
            cols[column] = map_codes(path.name, table, field, ECDS_CODES[field], issues, bad)
        elif field in table.column_names:
            cols[column] = text(table, field) if field in OPTIONAL_READ else table.column(field)
        else:
            cols[column] = pa.nulls(table.num_rows, pa.string())
    return result(FEED, cols, table.column(ROW), bad), issues
