"""Adult Social Care Client Level Data (CLD) -> the ``social_care_services`` feed.

Layout ``cld.csv``: one row per service event of the council's CLD extract, field names
in snake_case. Read: ``event_reference`` (-> ``service_id``), ``nhs_number``,
``date_of_birth``, ``postcode``, ``event_start_date`` / ``event_end_date`` (->
``start_date`` / ``end_date``), ``service_type`` (CLD Service Type, Release 1 or 2
spelling, :mod:`.codes.cld_service_type`, -> ``setting``) and, when present,
``service_component`` (only the five confirmed components are read; any other value is
accepted). CLD as submitted carries no names, and whether a care home admission is
permanent cannot be told from it (see the code list), so local fields are required too:
``given_name`` and ``family_name`` (the council's case management system; probabilistic
linkage needs them where the NHS number is missing) and ``permanent_admission``
(true/false). ``local_service_type`` (the internal service codes of
:data:`bettercare.data.schema.SERVICE_TYPE`) is read when present and wins; where it is
absent or empty the service comes from the CLD (ST-Max -> reablement, long-term
residential / nursing care, the components home support, direct payment, equipment);
a row with neither is quarantined naming ``local_service_type``. Optional CLD fields
(``la_code``, ``client_id``, ``client_type``, ``gender``, ``ethnicity``,
``primary_support_reason``, ``date_of_death``, ``event_type``, ``event_outcome``,
``delivery_mechanism``) are accepted and dropped. An empty Service Type is a service that
is not long-term support: setting ``community``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bettercare.data.feed_files import ROW, Issue
from bettercare.data.national.codes.cld_service_type import (
    CLD_SERVICE_COMPONENT,
    CLD_SERVICE_TYPE,
    OTHER_SHORT_TERM,
    SERVICE_OF_TYPE,
    SETTING_OF_COMPONENT,
)
from bettercare.data.national.common import Layout, map_codes, read_layout, result, text
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
#: the fields of a CLD extract with every local field, in the order the generator writes
HEADER = (*(RENAMED.get(c, c) for c in FEED.column_names if c != "setting"), "service_type")
LOCAL_SERVICE = "local_service_type"
COMPONENT = "service_component"
LAYOUT = Layout(
    name="cld",
    required=(
        *(RENAMED.get(c, c) for c in FEED.column_names if c not in ("setting", "service_type")),
        "service_type",
    ),
    optional=(
        LOCAL_SERVICE,
        COMPONENT,
        "la_code",
        "client_id",
        "client_type",
        "gender",
        "ethnicity",
        "primary_support_reason",
        "date_of_death",
        "event_type",
        "event_outcome",
        "delivery_mechanism",
    ),
)


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read a ``cld`` file: its rows in the ``social_care_services`` layout, and the findings."""
    table, issues = read_layout(path, LAYOUT, others)
    n = table.num_rows
    bad = np.zeros(n, dtype=bool)
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        c: table.column(RENAMED.get(c, c))
        for c in FEED.column_names
        if c not in ("setting", "service_type")
    }
    setting = map_codes(path.name, table, "service_type", CLD_SERVICE_TYPE, issues, bad)
    kind = text(table, "service_type")
    component = text(table, COMPONENT) if COMPONENT in table.column_names else _nulls(n)
    local = text(table, LOCAL_SERVICE) if LOCAL_SERVICE in table.column_names else _nulls(n)
    components = {c.code: c.internal for c in CLD_SERVICE_COMPONENT.codes if c.internal}
    from_cld = pc.coalesce(_lookup(kind, SERVICE_OF_TYPE), _lookup(component, components))
    cols["service_type"] = pc.coalesce(local, from_cld)
    short_term = pc.fill_null(pc.is_in(kind, value_set=pa.array(OTHER_SHORT_TERM)), False)
    cols["setting"] = pc.coalesce(
        pc.if_else(short_term, _lookup(component, SETTING_OF_COMPONENT), _nulls(n)),
        setting,
        pa.scalar("community"),
    )
    return result(FEED, cols, table.column(ROW), bad), issues


def _nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _lookup(values: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> pa.Array:
    """Map ``values`` through ``mapping`` (null where a value is not a key)."""
    keys = list(mapping)
    idx = pc.index_in(values, value_set=pa.array(keys, pa.string()))
    return pc.take(pa.array([mapping[k] for k in keys], pa.string()), idx)
