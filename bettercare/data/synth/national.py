"""Write the synthetic feeds in the national datasets' layouts (``synth --format national``).

Converts the internal tables of :func:`bettercare.data.synth.generator.build_tables` into
the files :mod:`bettercare.data.national` reads:

* ``gp_registrations.csv`` (residents);
* ``apc_episodes.csv`` (hospital spells; a spell of two or more nights is written as two
  consultant episodes, so the episode-to-spell join is exercised);
* ``ecds.csv`` (A&E attendances; an ambulance arrival is written as the emergency road
  ambulance code, any other arrival as own transport, each disposal as the first code of
  its group);
* ``cld.csv`` (social care services: the Service Type and Component where the CLD can say
  the service, e.g. ST-Max for reablement, the local field otherwise);
* ``ons_population.csv`` (population by single year of age: each band's count spread
  over its ages, the remainder to the youngest, so the bands sum back exactly);
* ``ndop_request.dat`` / ``ndop_response.dat`` (the national data opt-out check: every
  resident's NHS number sent, all but the opted-out returned).

The other feeds have no national dataset in bettercare and are written in the internal
layout (Parquet). Reading these files back gives the internal tables' values, except
``discharge_destination = 'reablement'``, which has no national code and is written as
19 (usual place of residence, which is how ``discharge_usual_residence`` counts it
anyway).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bettercare.data.national import apc, cld, ecds, gp_registrations, ndop
from bettercare.data.national.codes.admission_method import ADMISSION_METHOD
from bettercare.data.national.codes.cld_service_type import (
    CLD_SERVICE_COMPONENT,
    CLD_SERVICE_TYPE,
)
from bettercare.data.national.codes.discharge_destination import DISCHARGE_DESTINATION
from bettercare.data.national.codes.ecds import ECDS_CODES
from bettercare.data.national.codes.person_stated_gender import PERSON_STATED_GENDER
from bettercare.data.schema import AGE_BANDS

#: internal feed -> national file it is written as
NATIONAL_OF: dict[str, str] = {
    "residents": "gp_registrations",
    "hospital_spells": "apc_episodes",
    "ae_attendances": "ecds",
    "social_care_services": "cld",
    "population": "ons_population",
    "opt_outs": "ndop_response",
}
#: internal values without a national code of their own, and the code written instead
_DESTINATION_EXTRA = {"reablement": "19"}
_SEX_EXTRA = {"U": "X"}


def write_national(
    name: str, table: pa.Table, directory: Path, tables: Mapping[str, pa.Table] | None = None
) -> int:
    """Write internal feed ``name`` as its national file in ``directory``; its row count.

    ``tables``: the other internal tables (the opt-out check's request lists the residents).
    """
    if name == "opt_outs":
        residents = (tables or {})["residents"].column("nhs_number").to_pylist()
        return _ndop(table.column("nhs_number").to_pylist(), residents, directory)
    national = {
        "residents": _gp_registrations,
        "hospital_spells": _apc_episodes,
        "ae_attendances": _ecds,
        "social_care_services": _cld,
        "population": _ons_population,
    }[name](table)
    _write_csv(national, directory / f"{NATIONAL_OF[name]}.csv")
    return national.num_rows


def _ndop(opted_out: list[str], residents: list[str], directory: Path) -> int:
    """Write the opt-out check's request (every resident) and response (those not opted out)."""
    out = set(opted_out)
    missing = out - set(residents)
    assert not missing, "every opted-out person is a resident"
    request = list(residents)
    response = [n for n in residents if n not in out]
    for stem, numbers in ((ndop.REQUEST, request), (ndop.RESPONSE, response)):
        text = "".join(f"{n},\n" for n in numbers)
        (directory / f"{stem}{ndop.SUFFIX}").write_text(text, encoding="ascii", newline="\n")
    return len(out)


def _write_csv(table: pa.Table, path: Path) -> None:
    cols = {}
    for c in table.column_names:
        col = table.column(c)
        if pa.types.is_boolean(col.type):
            col = pc.if_else(col, "true", "false")
        cols[c] = pc.cast(col, pa.string())
    pacsv.write_csv(pa.table(cols), path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _recode(col: pa.ChunkedArray, mapping: dict[str, str]) -> pa.Array:
    keys = list(mapping)
    return pc.take(
        pa.array([mapping[k] for k in keys], pa.string()),
        pc.index_in(col, value_set=pa.array(keys, pa.string())),
    )


def _gp_registrations(t: pa.Table) -> pa.Table:
    sex = {**PERSON_STATED_GENDER.internal_to_national(), **_SEX_EXTRA}
    out = {}
    for c in t.column_names:
        out[gp_registrations.RENAMED.get(c, c)] = (
            _recode(t.column(c), sex) if c == "sex" else t.column(c)
        )
    return pa.table(out)


#: internal service type -> (CLD Service Type, Service Component) that say it; the other
#: services are written with an empty Service Type and the local field
_CLD_OF_SERVICE = {
    "reablement": ("Short Term Support: ST-Max", None),
    "residential_care": ("Long Term Support: Residential Care", None),
    "nursing_care": ("Long Term Support: Nursing Care", None),
    "home_care": ("Long Term Support: Community", "Home support or domiciliary care"),
    "direct_payment": ("Long Term Support: Community", "Direct payment"),
    "equipment": ("Short Term Support: Ongoing Low Level", "Equipment"),
}


def _cld(t: pa.Table) -> pa.Table:
    kinds = {k: v[0] for k, v in _CLD_OF_SERVICE.items()}
    components = {k: v[1] for k, v in _CLD_OF_SERVICE.items() if v[1]}
    assert set(kinds.values()) <= {c.code for c in CLD_SERVICE_TYPE.codes}
    assert set(components.values()) <= {c.code for c in CLD_SERVICE_COMPONENT.codes}
    service = t.column("service_type")
    said = pc.is_in(service, value_set=pa.array(list(_CLD_OF_SERVICE)))
    out = {cld.RENAMED.get(c, c): t.column(c) for c in t.column_names if c != "setting"}
    # the local field only where the CLD does not say the service
    out[cld.LOCAL_SERVICE] = pc.if_else(said, pa.scalar(None, pa.string()), service)
    out["service_type"] = _recode(service, kinds)
    out[cld.COMPONENT] = _recode(service, components)
    return pa.table(out)


def _ecds(t: pa.Table) -> pa.Table:
    out = {}
    for column in t.column_names:
        field = ecds.FIELD_OF[column]
        codes = ECDS_CODES.get(field)
        out[field] = (
            t.column(column)
            if codes is None
            else _recode(t.column(column), codes.internal_to_national())
        )
    return pa.table(out)


def _diag(code: str | None) -> str | None:
    return code.replace(".", "") if code else code


def _apc_episodes(t: pa.Table) -> pa.Table:
    method = {"elective": "11", "non_elective": "21"}
    assert set(method.values()) <= {c.code for c in ADMISSION_METHOD.codes}
    dest = {**DISCHARGE_DESTINATION.internal_to_national(), **_DESTINATION_EXTRA}
    n = t.num_rows
    admit = t.column("admission_date").to_pylist()
    discharge = t.column("discharge_date").to_pylist()
    # two episodes for a spell of two or more nights, split at the middle night
    nights = np.array(
        [(d - a).days if d is not None else 0 for a, d in zip(admit, discharge, strict=True)]
    )
    two = nights >= 2
    spell_idx = np.concatenate([np.arange(n), np.flatnonzero(two)])
    order = np.concatenate([np.ones(n, np.int64), np.full(two.sum(), 2, np.int64)])
    sort = np.lexsort((order, spell_idx))
    spell_idx, order = spell_idx[sort], order[sort]
    has_second = two[spell_idx]
    mid = [a + dt.timedelta(days=int(k) // 2) for a, k in zip(admit, nights, strict=True)]
    epistart = [admit[i] if o == 1 else mid[i] for i, o in zip(spell_idx, order, strict=True)]
    epiend = [
        mid[i] if (o == 1 and has_second[j]) else discharge[i]
        for j, (i, o) in enumerate(zip(spell_idx, order, strict=True))
    ]
    last = (order == 2) | ~has_second
    take = pa.array(spell_idx)

    def col(name: str) -> pa.Array:
        return pc.take(t.column(name), take)

    def on_last(values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(last), values, pa.scalar(None, values.type))

    cause = pc.if_else(col("injury_due_to_fall"), "W19X", pa.scalar(None, pa.string()))
    episodes = pa.table(
        {
            "susspellid": col("spell_id"),
            "epikey": pa.array([str(i + 1) for i in range(len(spell_idx))]),
            "epiorder": pa.array([str(o) for o in order]),
            "newnhsno": col("nhs_number"),
            "procode3": col("provider_code"),
            "admimeth": _recode(col("admission_method"), method),
            "admidate": col("admission_date"),
            "epistart": pa.array(epistart, pa.date32()),
            "epiend": pa.array(epiend, pa.date32()),
            "disdate": on_last(col("discharge_date")),
            "diag_4_01": pa.array(
                [_diag(d) for d in col("primary_diagnosis").to_pylist()], pa.string()
            ),
            "cause": cause,
            "disdest": on_last(_recode(col("discharge_destination"), dest)),
        }
    )
    if apc.READY in t.column_names:  # the Discharge Ready Date, on the last episode
        episodes = episodes.append_column(apc.READY, on_last(col(apc.READY)))
    return episodes


def _ons_population(t: pa.Table) -> pa.Table:
    sex = {"M": "1", "F": "2"}
    rows: dict[tuple[str, str, int], dict[int, int]] = {}
    for code, year, s, band, n in zip(
        *(t.column(c).to_pylist() for c in ("hwb_code", "year", "sex", "age_band", "population")),
        strict=True,
    ):
        low, _, high = band.replace("+", "-").partition("-")
        ages = list(range(int(low), (int(high) if high else 90) + 1))
        share, rest = divmod(int(n), len(ages))
        for k, age in enumerate(ages):
            rows.setdefault((code, sex[s], age), {})[year] = share + (1 if k < rest else 0)
    years = sorted({y for v in rows.values() for y in v})
    keys = sorted(rows, key=lambda k: (k[0], k[1], k[2]))
    out: dict[str, list[str]] = {
        "code": [k[0] for k in keys],
        "sex": [k[1] for k in keys],
        "age": [str(k[2]) for k in keys],
    }
    for y in years:
        out[f"population_{y}"] = [str(rows[k].get(y, 0)) for k in keys]
    assert len(AGE_BANDS) == 20
    return pa.table(out)
