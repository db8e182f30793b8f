"""The person-level feeds and the analytics store: one contract for all of ``data``.

Raw *feeds* are the files a council or CSU analyst loads (CSV or Parquet), one per
:class:`FeedSpec`, carrying the NHS number and (in the social care feed) the name,
date of birth and postcode used for probabilistic linkage. After ingestion the
*store* (a DuckDB file) holds the same records with the NHS number replaced by a keyed
pseudonym ``person_id`` and direct identifiers dropped; analytics only ever reads the
store tables named in :data:`STORE_TABLES`. Data minimisation: a date of birth is stored
only as ``birth_month`` (the first day of the month of birth; ``Column.store_name`` /
``Column.store_sql``); the full date stays in the run's TEMP tables (linkage) and the
restricted identity file. Every stored column and why it is needed:
``docs/store-columns.md``.

Column names follow the NHS Data Dictionary where it has one (admission method,
discharge destination, ...), simplified to snake_case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bettercare.errors import BadInput

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Column:
    """One column of a feed file: its type, the rules its values follow, and identifiers."""

    name: str
    type: str  # DuckDB type: VARCHAR, DATE, INTEGER, DOUBLE, BOOLEAN
    required: bool = True
    allowed: tuple[str, ...] | None = None  # code list for VARCHAR columns
    pattern: str | None = None  # regular expression for VARCHAR columns
    minimum: float | None = None
    maximum: float | None = None
    identifier: bool = False  # direct identifier: never copied into the store
    description: str = ""
    # what an identifier column holds ("nhs_number" | "name" | "postcode"): ingest checks
    # the values against it, and that no other column holds such values
    kind: str | None = None
    may_be_future: bool = False  # a date that may lie after the run date (a planned end)
    # Data minimisation: the store keeps a coarsened value under another name, computed
    # by ``store_sql`` (a DuckDB expression; ``{}`` is the feed column's typed value).
    store_name: str | None = None
    store_sql: str | None = None


@dataclass(frozen=True)
class FeedSpec:
    """A feed file's specification: its columns, key, period column and store table."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    period_column: str | None = None  # the date that places a row in a reporting period
    store_table: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Feed-specific behaviour of the ingest, declared here rather than branched on by name:
    #: the national data opt-out list: loaded first, kept only as pseudonyms in
    #: ``opt_out_register``; person-level feeds wait for it
    opt_out_list: bool = False
    #: its loaded rows (names, date of birth, postcode) are the identities that
    #: probabilistic linkage matches against in the same run
    identity_source: bool = False
    #: rows without an NHS number are linked to residents by name, date of birth and
    #: postcode (Splink): ``person_id`` may be empty, and the store table also keeps
    #: ``link_method`` and ``match_probability``
    links_probabilistically: bool = False
    #: the period column holds the first day of a month (a monthly census), so date
    #: checks against a person's life work by month
    period_is_month: bool = False

    def column(self, name: str) -> Column:
        """The feed column ``name``, or the one a store column of that name derives from.

        For example ``birth_month`` -> ``date_of_birth``.
        """
        return next(c for c in self.columns if name in (c.name, c.store_name))

    @property
    def identifier_kinds(self) -> dict[str, str]:
        """Identifier columns of the feed and the kind of identifier each holds."""
        return {c.name: c.kind for c in self.columns if c.kind}

    @property
    def column_names(self) -> list[str]:
        """The feed's column names, in file order."""
        return [c.name for c in self.columns]

    @property
    def person_level(self) -> bool:
        """Rows about people (an NHS number column), other than the opt-out list itself."""
        return not self.opt_out_list and "nhs_number" in self.column_names


SEX = ("M", "F", "U")
ADMISSION_METHOD = ("elective", "non_elective")
ATTRIBUTION = ("nhs", "social_care", "both")
REABLEMENT_OUTCOME = ("at_home", "care_home", "hospital", "died", "unknown")
DISCHARGE_DESTINATION = (
    "usual_residence",
    "care_home",
    "nursing_home",
    "reablement",
    "other_hospital",
    "died",
    "other",
)
SERVICE_TYPE = (
    "home_care",
    "reablement",
    "day_care",
    "direct_payment",
    "residential_care",
    "nursing_care",
    "equipment",
    "carer_support",
    "other",
)
SETTING = ("community", "residential", "nursing")
#: A&E department type 1-4 (ECDS EMERGENCY CARE DEPARTMENT TYPE 01-04)
AE_DEPARTMENT_TYPE = ("type_1", "type_2", "type_3", "type_4")
AE_ARRIVAL_MODE = ("ambulance", "other")
#: what happened at the end of an A&E attendance (ECDS discharge destination, grouped)
AE_DISPOSAL = ("admitted", "ambulatory", "discharged", "transferred", "died")
DTOC_REASON = (
    "awaiting_assessment",
    "awaiting_public_funding",
    "awaiting_further_nhs_care",
    "awaiting_residential_home",
    "awaiting_nursing_home",
    "awaiting_care_package",
    "awaiting_community_equipment",
    "patient_family_choice",
    "disputes",
    "housing",
)
AGE_BANDS = (
    "0-4",
    "5-9",
    "10-14",
    "15-17",
    "18-19",
    "20-24",
    "25-29",
    "30-34",
    "35-39",
    "40-44",
    "45-49",
    "50-54",
    "55-59",
    "60-64",
    "65-69",
    "70-74",
    "75-79",
    "80-84",
    "85-89",
    "90+",
)

NHS_NUMBER = r"^\d{10}$"
ICD10 = r"^[A-Z]\d{2}(\.?\d{1,2}|X)?$"
HWB_CODE = r"^E\d{8}$"
POSTCODE = r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"
# UK-shaped in any case and spacing (social care: not UK-shaped is a finding)
POSTCODE_ANY_CASE = r"(?i)^\s*[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\s*$"


def _date_of_birth(required: bool = True) -> Column:
    """Date of birth: full in the feed (linkage compares it), month only in the store.

    Social care may lack it (a council record without one still links on names and
    postcode, for robust linkage).
    """
    return Column(
        "date_of_birth",
        "DATE",
        required=required,
        description="date of birth; the store keeps only birth_month",
        store_name="birth_month",
        store_sql="CAST(date_trunc('month', {}) AS DATE)",
    )


BIRTH_MONTH_DESCRIPTION = (
    "first day of the month of birth (data minimisation: the day is not stored); ages "
    "are computed as if born on the 1st"
)


def _nhs(required: bool = True) -> Column:
    return Column(
        "nhs_number",
        "VARCHAR",
        required=required,
        pattern=NHS_NUMBER,
        identifier=True,
        kind="nhs_number",
        description="NHS number, 10 digits, modulus 11 check digit",
    )


FEEDS: dict[str, FeedSpec] = {
    f.name: f
    for f in [
        FeedSpec(
            name="residents",
            description="GP-registered resident population (one row per person)",
            key=("nhs_number",),
            store_table="residents",
            identity_source=True,
            columns=(
                _nhs(),
                Column("given_name", "VARCHAR", identifier=True, kind="name"),
                Column("family_name", "VARCHAR", identifier=True, kind="name"),
                _date_of_birth(),
                Column("sex", "VARCHAR", allowed=SEX),
                Column("postcode", "VARCHAR", pattern=POSTCODE, identifier=True, kind="postcode"),
                Column("lsoa", "VARCHAR", pattern=r"^E01\d{6}$"),
                Column("gp_practice", "VARCHAR", pattern=r"^[A-Z]\d{5}$"),
                Column("hwb_code", "VARCHAR", pattern=HWB_CODE),
                Column("imd_decile", "INTEGER", minimum=1, maximum=10),
                Column("ltc_count", "INTEGER", minimum=0, maximum=20),
                Column("dementia_diagnosis", "BOOLEAN"),
                Column("date_of_death", "DATE", required=False),
                Column(
                    "dementia_diagnosis_date",
                    "DATE",
                    required=False,
                    description="date the dementia diagnosis was recorded (QOF dementia "
                    "register); empty when not known",
                ),
            ),
        ),
        FeedSpec(
            name="hospital_spells",
            description="Hospital provider spells (SUS APC)",
            key=("spell_id",),
            period_column="admission_date",
            store_table="hospital_spells",
            columns=(
                Column("spell_id", "VARCHAR"),
                _nhs(),
                Column("provider_code", "VARCHAR"),
                Column("admission_method", "VARCHAR", allowed=ADMISSION_METHOD),
                Column("admission_date", "DATE"),
                Column("discharge_date", "DATE", required=False),
                Column("primary_diagnosis", "VARCHAR", pattern=ICD10),
                Column("injury_due_to_fall", "BOOLEAN"),
                Column(
                    "discharge_destination",
                    "VARCHAR",
                    required=False,
                    allowed=DISCHARGE_DESTINATION,
                ),
                Column(
                    "discharge_ready_date",
                    "DATE",
                    required=False,
                    description="Discharge Ready Date: the day the patient no longer met "
                    "the criteria to reside (NHS England, 'New Discharge Ready Date', "
                    "PRN00603_i); empty when not recorded. Not before admission_date, "
                    "not after discharge_date",
                ),
            ),
        ),
        FeedSpec(
            name="ae_attendances",
            description="A&E (emergency care) attendances (ECDS)",
            key=("attendance_id",),
            period_column="arrival_date",
            store_table="ae_attendances",
            columns=(
                Column("attendance_id", "VARCHAR"),
                _nhs(),
                Column("provider_code", "VARCHAR"),
                Column("arrival_date", "DATE"),
                Column(
                    "department_type",
                    "VARCHAR",
                    allowed=AE_DEPARTMENT_TYPE,
                    description="type_1 consultant-led 24-hour emergency department, type_2 "
                    "consultant-led single-specialty, type_3 other A&E / minor injury unit / "
                    "urgent treatment centre, type_4 NHS walk-in centre",
                ),
                Column(
                    "arrival_mode",
                    "VARCHAR",
                    required=False,
                    allowed=AE_ARRIVAL_MODE,
                    description="ambulance (any ambulance, including air) or other",
                ),
                Column(
                    "disposal",
                    "VARCHAR",
                    required=False,
                    allowed=AE_DISPOSAL,
                    description="admitted (to a ward or critical care), ambulatory (same-day "
                    "emergency care, ED short stay, hospital at home), discharged, "
                    "transferred (another provider or a hospice), died; empty when not "
                    "recorded",
                ),
                Column(
                    "age",
                    "INTEGER",
                    minimum=0,
                    maximum=130,
                    description="age at arrival in whole years",
                ),
                Column("lsoa", "VARCHAR", required=False, pattern=r"^E01\d{6}$"),
                Column("gp_practice", "VARCHAR", required=False, pattern=r"^[A-Z]\d{5}$"),
            ),
        ),
        FeedSpec(
            name="delayed_transfers",
            description="Delayed transfer of care days per patient per month (DToC SitRep)",
            key=("delay_id",),
            period_column="census_month",
            period_is_month=True,
            store_table="delayed_transfers",
            columns=(
                Column("delay_id", "VARCHAR"),
                _nhs(),
                Column("spell_id", "VARCHAR"),
                Column("provider_code", "VARCHAR"),
                Column("census_month", "DATE", description="First day of the month"),
                Column("delayed_days", "INTEGER", minimum=0, maximum=31),
                Column("reason", "VARCHAR", allowed=DTOC_REASON),
                Column("attribution", "VARCHAR", allowed=ATTRIBUTION),
            ),
        ),
        FeedSpec(
            name="reablement_episodes",
            description="Reablement / rehabilitation after hospital discharge, 91-day outcome",
            key=("episode_id",),
            period_column="discharge_date",
            store_table="reablement_episodes",
            columns=(
                Column("episode_id", "VARCHAR"),
                _nhs(),
                Column("spell_id", "VARCHAR", required=False),
                Column("discharge_date", "DATE"),
                Column("start_date", "DATE"),
                Column("outcome_91_days", "VARCHAR", allowed=REABLEMENT_OUTCOME),
            ),
        ),
        FeedSpec(
            name="social_care_services",
            description=(
                "Adult social care services (council case management system); NHS number "
                "often missing, so name, date of birth and postcode are carried for linkage"
            ),
            key=("service_id",),
            period_column="start_date",
            store_table="social_care_services",
            links_probabilistically=True,
            columns=(
                Column("service_id", "VARCHAR"),
                _nhs(required=False),
                Column("given_name", "VARCHAR", identifier=True, kind="name"),
                Column("family_name", "VARCHAR", identifier=True, kind="name"),
                _date_of_birth(required=False),
                # any case and spacing: linkage normalises it; not UK-shaped is a finding
                Column(
                    "postcode",
                    "VARCHAR",
                    required=False,
                    identifier=True,
                    kind="postcode",
                    pattern=POSTCODE_ANY_CASE,
                ),
                Column("service_type", "VARCHAR", allowed=SERVICE_TYPE),
                Column("setting", "VARCHAR", allowed=SETTING),
                Column("start_date", "DATE"),
                Column("end_date", "DATE", required=False, may_be_future=True),
                Column(
                    "permanent_admission",
                    "BOOLEAN",
                    description="Permanent admission to residential or nursing care",
                ),
            ),
        ),
        FeedSpec(
            name="experience_responses",
            description="Patient / service user experience survey responses",
            key=("response_id",),
            period_column="response_date",
            store_table="experience_responses",
            columns=(
                Column("response_id", "VARCHAR"),
                _nhs(),
                Column("survey", "VARCHAR", allowed=("gpps", "ascs")),
                Column("response_date", "DATE"),
                Column("question", "VARCHAR"),
                Column("positive", "BOOLEAN"),
            ),
        ),
        FeedSpec(
            name="opt_outs",
            description="National data opt-out list (people who object to secondary use)",
            key=("nhs_number",),
            store_table=None,  # used at ingestion only, never copied to analytics
            opt_out_list=True,
            columns=(_nhs(),),
        ),
        FeedSpec(
            name="population",
            description="ONS-style mid-year resident population estimates by sex and age band",
            key=("hwb_code", "year", "sex", "age_band"),
            store_table="population",
            columns=(
                Column("hwb_code", "VARCHAR", pattern=HWB_CODE),
                Column(
                    "year",
                    "INTEGER",
                    minimum=1990,
                    maximum=2100,
                    description="Mid-year (30 June) of the estimate",
                ),
                Column("sex", "VARCHAR", allowed=("M", "F")),
                Column("age_band", "VARCHAR", allowed=AGE_BANDS),
                Column("population", "INTEGER", minimum=0),
            ),
        ),
        FeedSpec(
            name="scheme_activity",
            description="BCF scheme activity: non-elective admissions avoided per month",
            # a scheme reference is the plan's own (BCF plans are per HWB): two boards may
            # both have a scheme "S1", so a scheme is known by its board and reference
            key=("hwb_code", "scheme_reference", "month"),
            period_column="month",
            period_is_month=True,
            store_table="scheme_activity",
            columns=(
                Column(
                    "hwb_code",
                    "VARCHAR",
                    pattern=HWB_CODE,
                    description="ONS code of the HWB whose plan the scheme belongs to",
                ),
                Column("scheme_reference", "VARCHAR"),
                Column("month", "DATE", description="First day of the month"),
                Column("admissions_avoided", "INTEGER", minimum=0),
            ),
        ),
    ]
}


def store_columns(feed: FeedSpec) -> list[Column]:
    """Columns of the feed's store table: identifiers dropped, ``person_id`` first.

    A column with a ``store_name`` is stored under that name (``date_of_birth`` ->
    ``birth_month``).

    A feed that ``links_probabilistically`` (social care) also gets ``link_method``
    ('nhs_number' | 'probabilistic' | 'clerical_review' (a reviewer accepted the pair) |
    NULL when unlinked) and ``match_probability``.
    """
    cols: list[Column] = []
    if any(c.name == "nhs_number" for c in feed.columns):
        cols.append(
            Column(
                "person_id",
                "VARCHAR",
                required=not feed.links_probabilistically,
                description="HMAC-SHA256 pseudonym of the NHS number",
            )
        )
    for c in feed.columns:
        if c.identifier:
            continue
        if c.store_name:
            description = BIRTH_MONTH_DESCRIPTION if c.store_name == "birth_month" else ""
            c = Column(c.store_name, c.type, required=c.required, description=description)
        cols.append(c)
    if feed.links_probabilistically:
        cols.append(Column("link_method", "VARCHAR", required=False))
        cols.append(Column("match_probability", "DOUBLE", required=False))
    return cols


def store_value_sql(feed: FeedSpec, name: str, typed: Callable[[Column], str]) -> str:
    """DuckDB expression for store column ``name`` of ``feed`` over a staging table.

    The staging table's typed value of a feed column ``c`` is ``typed(c)``
    (``validate.t``); the expression is the typed value, or its coarsened form for a
    minimised column (``birth_month``).
    """
    source = feed.column(name)
    if source.store_name == name and source.store_sql:
        return source.store_sql.format(typed(source))
    return typed(source)


def feed_with(flag: str) -> FeedSpec:
    """The one feed whose spec sets ``flag`` (e.g. ``opt_out_list``)."""
    (feed,) = (f for f in FEEDS.values() if getattr(f, flag))
    return feed


STORE_TABLES: tuple[str, ...] = tuple(f.store_table for f in FEEDS.values() if f.store_table)


def store_ddl(table: str) -> str:
    """``CREATE TABLE`` statement (DuckDB dialect) for one store table."""
    feed = next(f for f in FEEDS.values() if f.store_table == table)
    cols = ",\n  ".join(
        f"{c.name} {c.type}{'' if not c.required else ' NOT NULL'}" for c in store_columns(feed)
    )
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n)"


def create_store_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every (empty) store table on a DuckDB connection.

    A store written before data minimisation has its ``date_of_birth`` columns replaced
    by ``birth_month``.
    """
    for table in STORE_TABLES:
        con.execute(store_ddl(table))
        _minimise_existing(con, table)
        _add_optional_columns(con, table)
        _recreate_if_empty_and_outdated(con, table)


class StoreOutdated(BadInput):
    """A store table was written before a required column joined the contract.

    Its rows lack a value nothing else in the store supplies (for example which HWB a
    ``scheme_activity`` row belongs to), so they cannot be read as the contract says.
    """


def outdated_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Required columns of store table ``table`` that the store's copy of it lacks.

    Empty when the table is current (or absent: a missing table is the caller's case).
    """
    existing = _existing_columns(con, table)
    if not existing:
        return []
    feed = next(f for f in FEEDS.values() if f.store_table == table)
    return [c.name for c in store_columns(feed) if c.required and c.name not in existing]


def outdated_message(table: str, missing: list[str], rows: int) -> str:
    """One line: the table, the columns it lacks and how to re-ingest (see StoreOutdated)."""
    feed = next(f for f in FEEDS.values() if f.store_table == table)
    cols = ", ".join(missing)
    return (
        f"store table {table} has no {cols} column ({rows:,} rows loaded before the "
        f"{feed.name} feed carried it), so no row says its {cols}; "
        f"re-ingest the {feed.name} feed with its {cols} column: `bettercare ingest DIR "
        f"--store STORE --replace` replaces the old rows (or ingest into a new store)"
    )


def require_current(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Raise :class:`StoreOutdated` when ``table`` lacks a required column (see above)."""
    missing = outdated_columns(con, table)
    if missing:
        fetched = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        raise StoreOutdated(outdated_message(table, missing, int(fetched[0]) if fetched else 0))


def _recreate_if_empty_and_outdated(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty table lacking a required column is created afresh (nothing is lost).

    A table with rows is left as it is: the ingest refuses to add to it unless told to
    replace its rows (``--replace``), and readers refuse it (:func:`require_current`).
    """
    if not outdated_columns(con, table):
        return
    fetched = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    if fetched and fetched[0] == 0:
        con.execute(f"DROP TABLE {table}")
        con.execute(store_ddl(table))


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _add_optional_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Add optional columns a store written before they joined the contract lacks.

    For example ``hospital_spells.discharge_ready_date``: added empty, so new loads fit;
    metrics needing it skip the old rows' periods as empty rather than fail.
    """
    feed = next(f for f in FEEDS.values() if f.store_table == table)
    existing = _existing_columns(con, table)
    for c in store_columns(feed):
        if not c.required and c.name not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {c.name} {c.type}")


def _minimise_existing(con: duckdb.DuckDBPyConnection, table: str) -> None:
    feed = next(f for f in FEEDS.values() if f.store_table == table)
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND table_name = ?",
            [table],
        ).fetchall()
    }
    for c in feed.columns:
        if c.store_name and c.store_sql and c.name in existing and not c.identifier:
            if c.store_name not in existing:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {c.store_name} {c.type}")
            con.execute(f"UPDATE {table} SET {c.store_name} = {c.store_sql.format(c.name)}")
            con.execute(f"ALTER TABLE {table} DROP COLUMN {c.name}")
