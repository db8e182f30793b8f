"""Adult Social Care Client Level Data (CLD) -> the ``social_care_services`` feed.

Layout ``cld.csv``: one row per service event of the council's CLD extract, field names
in snake_case. Read: ``event_reference`` (-> ``service_id``), ``nhs_number``,
``date_of_birth``, ``postcode``, ``event_start_date`` / ``event_end_date`` (->
``start_date`` / ``end_date``), ``service_type`` (CLD Service Type,
:mod:`.codes.cld_service_type`, -> ``setting``). CLD as submitted carries no names, and
its Service Component and outcome lists could not be confirmed (see the code list), so
three local fields are required too: ``given_name`` and ``family_name`` (the council's
case management system; probabilistic linkage needs them where the NHS number is
missing) and ``local_service_type`` (the internal service codes of
:data:`bettercare.data.schema.SERVICE_TYPE`), ``permanent_admission`` (true/false).
Optional CLD fields (``la_code``, ``client_id``, ``client_type``, ``gender``,
``ethnicity``, ``primary_support_reason``, ``date_of_death``, ``event_type``,
``delivery_mechanism``) are accepted and dropped. An empty Service Type is a service
that is not long-term support: setting ``community``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bettercare.data.ingest.read import ROW, Issue
from bettercare.data.national.codes.cld_service_type import CLD_SERVICE_TYPE
from bettercare.data.national.common import Layout, map_codes, read_layout, result
from bettercare.data.schema import FEEDS

FEED = FEEDS["social_care_services"]
RENAMED = {
    "service_id": "event_reference",
    "start_date": "event_start_date",
    "end_date": "event_end_date",
    "service_type": "local_service_type",
}
#: internal column -> the national field it is read from (names the field in findings)
FIELD_OF = {**RENAMED, "setting": "service_type"}
LAYOUT = Layout(
    name="cld",
    required=(*(RENAMED.get(c, c) for c in FEED.column_names if c != "setting"), "service_type"),
    optional=(
        "la_code",
        "client_id",
        "client_type",
        "gender",
        "ethnicity",
        "primary_support_reason",
        "date_of_death",
        "event_type",
        "delivery_mechanism",
    ),
)


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read a ``cld`` file: its rows in the ``social_care_services`` layout, and the findings."""
    table, issues = read_layout(path, LAYOUT, others)
    bad = np.zeros(table.num_rows, dtype=bool)
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        c: table.column(RENAMED.get(c, c)) for c in FEED.column_names if c != "setting"
    }
    setting = map_codes(path.name, table, "service_type", CLD_SERVICE_TYPE, issues, bad)
    cols["setting"] = pc.fill_null(setting, "community")
    return result(FEED, cols, table.column(ROW), bad), issues
