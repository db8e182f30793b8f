"""SUS+ / HES Admitted Patient Care -> the ``hospital_spells`` feed.

Two layouts, HES APC field names in lower case:

* ``apc_spells.csv``: one row per hospital provider spell;
* ``apc_episodes.csv``: one row per consultant episode; the episodes of a spell (same
  ``susspellid``) are joined into the spell. They must form it: ``epiorder`` 1, 2, ...
  without gaps or repeats, each episode starting the day the one before ended
  (``epistart`` = previous ``epiend``), and the same ``newnhsno``, ``procode3``,
  ``admidate`` and ``admimeth`` on every episode; otherwise the file is rejected with
  located findings (rule ``episodes_not_a_spell``), nothing of it loaded.

Mapping: ``susspellid`` -> ``spell_id``; ``newnhsno`` -> ``nhs_number``; ``procode3`` ->
``provider_code``; ``admimeth`` (:mod:`.codes.admission_method`) -> ``admission_method``;
``admidate`` -> ``admission_date``; ``disdate`` -> ``discharge_date`` (HES null dates
1800-01-01 / 1801-01-01 read as empty); ``diag_4_01`` -> ``primary_diagnosis`` (``S720``
-> ``S72.0``); ``cause`` (ICD-10 external cause) -> ``injury_due_to_fall`` (true for a
fall, W00-W19); ``disdest`` (:mod:`.codes.discharge_destination`) ->
``discharge_destination``. For episodes: admission fields, diagnosis and cause from the
first episode, discharge fields from the last; a spell's row is its first episode's.
Optional fields (``admisorc``, ``dismeth``, ``sex``, ``startage``, ``ethnos``,
``lsoa11``, ``gpprac``, ``classpat``, ``mainspef``, ``tretspef``, ``epikey``,
``epistat``, ``opertn_4_01``) are accepted and dropped. Optional and read:
``discharge_ready_date`` (the Discharge Ready Date, YYYY-MM-DD; the data dictionary item
in snake_case, since its HES/SUS+ field name could not be confirmed; from the last
episode), -> ``discharge_ready_date``; absent or empty: not recorded.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bettercare.data.feed_files import ROW, Issue
from bettercare.data.national.codes.admission_method import ADMISSION_METHOD
from bettercare.data.national.codes.discharge_destination import DISCHARGE_DESTINATION
from bettercare.data.national.common import Layout, map_codes, read_layout, rejected, result, text
from bettercare.data.schema import FEEDS

FEED = FEEDS["hospital_spells"]
READY = "discharge_ready_date"  # optional, read when present
SPELL_FIELDS = (
    "susspellid",
    "newnhsno",
    "procode3",
    "admimeth",
    "admidate",
    "disdate",
    "diag_4_01",
    "cause",
    "disdest",
)
OPTIONAL = (
    "admisorc",
    "dismeth",
    "sex",
    "startage",
    "ethnos",
    "lsoa11",
    "gpprac",
    "classpat",
    "mainspef",
    "tretspef",
    "epistat",
    "opertn_4_01",
    READY,
)
SPELLS = Layout("apc_spells", SPELL_FIELDS, (*OPTIONAL, "epikey"))
EPISODES = Layout(
    "apc_episodes", (*SPELL_FIELDS, "epikey", "epiorder", "epistart", "epiend"), OPTIONAL
)
NOT_A_SPELL = "episodes_not_a_spell"
#: internal column -> the national field it is read from (names the field in findings)
FIELD_OF = {
    "spell_id": "susspellid",
    "nhs_number": "newnhsno",
    "provider_code": "procode3",
    "admission_method": "admimeth",
    "admission_date": "admidate",
    "discharge_date": "disdate",
    "primary_diagnosis": "diag_4_01",
    "injury_due_to_fall": "cause",
    "discharge_destination": "disdest",
}
HES_NULL_DATES = ("1800-01-01", "1801-01-01")
_FALL = re.compile(r"^W[01]\d")  # ICD-10 W00-W19: falls
_DIAG4 = re.compile(r"^([A-Z]\d\d)(\d{1,2})$")  # HES 4-character code without the dot


def diagnosis_to_internal(code: str | None) -> str | None:
    """Convert a HES diagnosis code: ``S720`` -> ``S72.0``; ``R55X``, ``I10`` unchanged."""
    if code is None:
        return None
    m = _DIAG4.match(code)
    return f"{m.group(1)}.{m.group(2)}" if m else code


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read an ``apc_spells`` or ``apc_episodes`` file: its spells and the findings."""
    episodes = path.stem == EPISODES.name
    table, issues = read_layout(path, EPISODES if episodes else SPELLS, others)
    if episodes:
        table = _join_episodes(path.name, table)
    bad = np.zeros(table.num_rows, dtype=bool)
    method = map_codes(path.name, table, "admimeth", ADMISSION_METHOD, issues, bad)
    dest = map_codes(path.name, table, "disdest", DISCHARGE_DESTINATION, issues, bad)
    disdate = text(table, "disdate")
    disdate = pc.if_else(
        pc.is_in(disdate, value_set=pa.array(HES_NULL_DATES)), pa.scalar(None, pa.string()), disdate
    )
    diag = pa.array(
        [diagnosis_to_internal(d) for d in text(table, "diag_4_01").to_pylist()], pa.string()
    )
    fall = pa.array(
        [bool(_FALL.match(c)) for c in pc.fill_null(text(table, "cause"), "").to_pylist()],
        pa.bool_(),
    )
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        "spell_id": table.column("susspellid"),
        "nhs_number": table.column("newnhsno"),
        "provider_code": table.column("procode3"),
        "admission_method": method,
        "admission_date": table.column("admidate"),
        "discharge_date": disdate,
        "primary_diagnosis": diag,
        "injury_due_to_fall": pc.if_else(fall, "true", "false"),
        "discharge_destination": dest,
        READY: text(table, READY)
        if READY in table.column_names
        else pa.nulls(table.num_rows, pa.string()),
    }
    return result(FEED, cols, table.column(ROW), bad), issues


def _join_episodes(file: str, table: pa.Table) -> pa.Table:
    """Join episodes into one row per spell; reject the file if they do not form spells."""
    df = pd.DataFrame(
        {c: pd.Series(table.column(c).to_pylist(), dtype=object) for c in table.column_names}
    )
    findings: list[tuple[int | None, str | None, str, str]] = []
    order = pd.to_numeric(df["epiorder"], errors="coerce")
    for r in df.loc[order.isna() | (order < 1) | (order % 1 != 0), ROW]:
        findings.append((int(r), "epiorder", NOT_A_SPELL, f"row {r}: epiorder is not 1, 2, ..."))
    no_spell = df["susspellid"].isna()
    for r in df.loc[no_spell, ROW]:
        findings.append((int(r), "susspellid", NOT_A_SPELL, f"row {r}: episode without a spell"))
    if findings:
        raise rejected(file, findings)
    df["_order"] = order.astype("int64")
    df = df.sort_values(["susspellid", "_order", ROW], kind="stable").reset_index(drop=True)
    g = df.groupby("susspellid", sort=False)
    position = g.cumcount() + 1
    for r, o in df.loc[df["_order"] != position, [ROW, "_order"]].itertuples(index=False):
        findings.append(
            (
                int(r),
                "epiorder",
                NOT_A_SPELL,
                f"row {r}: episode {o} of its spell is out of sequence (a gap or a "
                "repeat in epiorder)",
            )
        )
    head = g.nth(0).set_index("susspellid")  # nth, not first(): first() skips nulls
    for field in ("newnhsno", "procode3", "admidate", "admimeth"):
        expected = df["susspellid"].map(head[field])
        differs = df[field].fillna("") != expected.fillna("")
        for r in df.loc[differs, ROW]:
            findings.append(
                (
                    int(r),
                    field,
                    NOT_A_SPELL,
                    f"row {r}: {field} differs from the spell's first episode",
                )
            )
    same_spell = df["susspellid"].eq(df["susspellid"].shift())
    gap = same_spell & (df["epistart"].fillna("") != df["epiend"].shift().fillna(""))
    for r in df.loc[gap, ROW]:
        findings.append(
            (
                int(r),
                "epistart",
                NOT_A_SPELL,
                f"row {r}: episode does not start the day the previous episode ended",
            )
        )
    if findings:
        findings.sort(key=lambda f: f[0] or 0)
        raise rejected(file, findings)
    last = g.nth(-1).set_index("susspellid")
    spells = head.copy()
    for field in ("disdate", "disdest", *([READY] if READY in df else [])):
        spells[field] = last[field]
    spells = spells.reset_index()
    return pa.table(
        {
            c: pa.array(spells[c].tolist(), pa.int64() if c == ROW else pa.string())
            for c in (*SPELL_FIELDS, *([READY] if READY in spells else []), ROW)
        }
    )
