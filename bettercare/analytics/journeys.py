"""Pathways through health and social care as aggregate flows, from the linked store.

Owns three pathways read from the store's person-level tables and turned into counts
(never person-level output):

* **discharge**: emergency admission -> discharge destination -> reablement (or not) ->
  status 91 days after discharge;
* **A&E**: attendance -> arrival mode -> disposal -> an emergency admission recorded
  (admitted on the day of arrival or the next) or not;
* **readmission**: emergency discharge -> emergency readmission within 30 days or not.

Each pathway gives the flows between consecutive stages (for Sankey diagrams,
:mod:`bettercare.reporting.journeys`), the number at each stage by period (financial
year), cohort (age band at the first step) and GP practice, and the lengths of stay and
times between steps. Every count goes through the risk stratification's small-number
rule (:func:`bettercare.analytics.risk.cohorts.suppress`: 1-7 suppressed, others
rounded to 5); a time or length statistic is shown only for more than 7 people.

Status at 91 days after discharge, first that applies: died (``residents``
``date_of_death``); the reablement episode's 91-day outcome; in hospital (a spell
spanning the day); in a care home (a permanent care home admission begun by then);
otherwise "at home (no other record)". Discharges less than 91 days before the store's
last admission are "not yet known".

Transitions between risk tiers (:func:`tier_pathway`, opt-in: it trains the risk model):
tier a year before the store's end -> tier at its end.

Also one person's timeline (:func:`person_timeline`): patient-level, for direct care
only, called by the web app's care pages after the care register has re-identified the
person (:mod:`bettercare.services.journeys`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from bettercare.analytics.engine import store_tables
from bettercare.analytics.risk.cohorts import SUPPRESS_MAX, suppress
from bettercare.analytics.risk.features import EMERGENCY_SQL
from bettercare.errors import BadInput

#: Breakdowns of every stage table.
BREAKDOWNS: tuple[str, ...] = ("period", "cohort", "practice")


class JourneyDataError(BadInput):
    """The store lacks what a pathway needs."""


@dataclass(frozen=True)
class Pathway:
    """One pathway's aggregate flows, stage counts and timings (all suppressed)."""

    name: str
    title: str
    stages: tuple[str, ...]
    #: stage (0-based, of the source), source, target, count (suppressed; None = 1-7)
    flows: pd.DataFrame
    #: breakdown, group, stage, node, count (suppressed)
    tables: pd.DataFrame
    #: what, group, people, mean, median, p25, p75 (days; None for 7 or fewer people)
    timings: pd.DataFrame = field(default_factory=pd.DataFrame)


_FY = """CASE WHEN month({d}) >= 4 THEN year({d}) ELSE year({d}) - 1 END"""
_AGE = """year({d}) - year(r.birth_month) - CASE WHEN month({d}) < month(r.birth_month)
    THEN 1 ELSE 0 END"""


def _fy_label(start: pd.Series) -> pd.Series:
    return start.astype(int).map(lambda y: f"{y}/{(y + 1) % 100:02d}")


def _cohort(age: pd.Series) -> pd.Series:
    return pd.cut(age, [-1, 17, 64, 200], labels=["0-17", "18-64", "65+"]).astype(str)


def _need(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    missing = sorted(set(tables) - store_tables(con))
    if missing:
        raise JourneyDataError(f"store has no table(s) {', '.join(missing)}")


def discharge_paths(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per discharged emergency spell: its steps (person-level: never output)."""
    _need(con, "residents", "hospital_spells", "reablement_episodes", "social_care_services")
    sql = f"""
    WITH last AS (SELECT max(admission_date) AS d FROM hospital_spells),
    em AS (
        SELECT s.spell_id, s.person_id, s.admission_date, s.discharge_date,
               coalesce(s.discharge_destination, 'not recorded') AS destination
        FROM hospital_spells s WHERE {EMERGENCY_SQL} AND s.discharge_date IS NOT NULL
    ),
    reab AS (
        SELECT spell_id, min(start_date) AS reablement_start,
               any_value(outcome_91_days) AS reablement_outcome
        FROM reablement_episodes GROUP BY spell_id
    ),
    inpatient91 AS (
        SELECT DISTINCT e.spell_id FROM em e JOIN hospital_spells h
          ON h.person_id = e.person_id AND h.spell_id <> e.spell_id
         AND h.admission_date <= e.discharge_date + 91
         AND coalesce(h.discharge_date, DATE '9999-12-31') > e.discharge_date + 91
    ),
    carehome91 AS (
        SELECT DISTINCT e.spell_id FROM em e JOIN social_care_services c
          ON c.person_id = e.person_id AND c.permanent_admission
         AND c.start_date >= e.admission_date AND c.start_date <= e.discharge_date + 91
    ),
    readmit AS (
        SELECT e.spell_id, min(h.admission_date) AS next_admission
        FROM em e JOIN hospital_spells h
          ON h.person_id = e.person_id AND h.spell_id <> e.spell_id
         AND h.{EMERGENCY_SQL}
         AND h.admission_date >= e.discharge_date AND h.admission_date <= e.discharge_date + 30
        GROUP BY e.spell_id
    )
    SELECT e.spell_id, r.gp_practice AS practice,
           {_FY.format(d="e.discharge_date")} AS fy_start,
           {_AGE.format(d="e.admission_date")} AS age,
           date_diff('day', e.admission_date, e.discharge_date) AS length_of_stay,
           e.destination,
           rb.reablement_start IS NOT NULL AS reablement,
           date_diff('day', e.discharge_date, rb.reablement_start) AS days_to_reablement,
           CASE
             WHEN e.discharge_date + 91 > (SELECT d FROM last) THEN 'not yet known'
             WHEN e.destination = 'died'
               OR r.date_of_death <= e.discharge_date + 91 THEN 'died'
             WHEN rb.reablement_outcome IS NOT NULL THEN rb.reablement_outcome
             WHEN i.spell_id IS NOT NULL THEN 'hospital'
             WHEN c.spell_id IS NOT NULL THEN 'care_home'
             ELSE 'at home (no other record)'
           END AS status_91_days,
           ra.next_admission IS NOT NULL AS readmitted_30_days,
           date_diff('day', e.discharge_date, ra.next_admission) AS days_to_readmission
    FROM em e JOIN residents r USING (person_id)
    LEFT JOIN reab rb USING (spell_id)
    LEFT JOIN inpatient91 i USING (spell_id)
    LEFT JOIN carehome91 c USING (spell_id)
    LEFT JOIN readmit ra USING (spell_id)
    """
    frame = con.execute(sql).fetchdf()
    frame["period"] = _fy_label(frame["fy_start"])
    frame["cohort"] = _cohort(frame["age"])
    frame["reablement"] = frame["reablement"].map({True: "reablement", False: "no reablement"})
    frame["admission"] = "emergency admission"
    frame["readmission"] = frame["readmitted_30_days"].map(
        {True: "readmitted within 30 days", False: "not readmitted within 30 days"}
    )
    return frame


def ae_paths(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per A&E attendance of a resident: its steps (person-level: never output)."""
    _need(con, "residents", "hospital_spells", "ae_attendances")
    sql = f"""
    WITH adm AS (
        SELECT a.attendance_id, min(h.admission_date) AS admitted_on
        FROM ae_attendances a JOIN hospital_spells h
          ON h.person_id = a.person_id AND h.{EMERGENCY_SQL}
         AND h.admission_date >= a.arrival_date AND h.admission_date <= a.arrival_date + 1
        GROUP BY a.attendance_id
    )
    SELECT a.attendance_id, r.gp_practice AS practice,
           {_FY.format(d="a.arrival_date")} AS fy_start,
           {_AGE.format(d="a.arrival_date")} AS age,
           coalesce(a.arrival_mode, 'not recorded') AS arrival_mode,
           coalesce(a.disposal, 'not recorded') AS disposal,
           adm.admitted_on IS NOT NULL AS admitted,
           date_diff('day', a.arrival_date, adm.admitted_on) AS days_to_admission
    FROM ae_attendances a JOIN residents r USING (person_id)
    LEFT JOIN adm USING (attendance_id)
    """
    frame = con.execute(sql).fetchdf()
    frame["period"] = _fy_label(frame["fy_start"])
    frame["cohort"] = _cohort(frame["age"])
    frame["attendance"] = "A&E attendance"
    frame["admission"] = frame["admitted"].map(
        {True: "emergency admission", False: "no emergency admission"}
    )
    return frame


def _flows(paths: pd.DataFrame, stages: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for i in range(len(stages) - 1):
        a, b = stages[i], stages[i + 1]
        counts = paths.groupby([a, b], observed=True).size().reset_index(name="n")
        for src, dst, n in zip(counts[a], counts[b], counts["n"], strict=True):
            rows.append({"stage": i, "source": str(src), "target": str(dst), "count": int(n)})
    flows = pd.DataFrame(rows, columns=["stage", "source", "target", "count"])
    flows["count"] = pd.array([suppress(int(n)) for n in flows["count"]], dtype="Int64")
    return flows


def _tables(paths: pd.DataFrame, stages: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for breakdown in BREAKDOWNS:
        for stage in stages:
            counts = paths.groupby([breakdown, stage], observed=True).size().reset_index(name="n")
            for group, node, n in zip(counts[breakdown], counts[stage], counts["n"], strict=True):
                rows.append(
                    {
                        "breakdown": breakdown,
                        "group": str(group),
                        "stage": stage,
                        "node": str(node),
                        "count": suppress(int(n)),
                    }
                )
    out = pd.DataFrame(rows, columns=["breakdown", "group", "stage", "node", "count"])
    out["count"] = out["count"].astype("Int64")
    return out


def _timing(values: pd.Series, what: str, group: str) -> dict[str, object]:
    v = values.dropna().astype(float)
    n = len(v)
    shown = n > SUPPRESS_MAX
    return {
        "what": what,
        "group": group,
        "people": suppress(n),
        "mean": round(float(v.mean()), 1) if shown else None,
        "median": float(v.median()) if shown else None,
        "p25": float(v.quantile(0.25)) if shown else None,
        "p75": float(v.quantile(0.75)) if shown else None,
    }


def discharge_pathway(con: duckdb.DuckDBPyConnection) -> Pathway:
    """Emergency admission -> discharge destination -> reablement -> status at 91 days."""
    paths = discharge_paths(con)
    stages = ("admission", "destination", "reablement", "status_91_days")
    timings = [_timing(paths["length_of_stay"], "length of stay", "all")]
    for dest, sub in paths.groupby("destination"):
        timings.append(_timing(sub["length_of_stay"], "length of stay", str(dest)))
    timings.append(
        _timing(paths["days_to_reablement"], "discharge to reablement start", "reablement")
    )
    return Pathway(
        "discharge",
        "Emergency admissions: discharge destination, reablement and status at 91 days",
        stages,
        _flows(paths, stages),
        _tables(paths, stages),
        pd.DataFrame(timings),
    )


def readmission_pathway(con: duckdb.DuckDBPyConnection) -> Pathway:
    """Emergency discharge -> emergency readmission within 30 days or not."""
    paths = discharge_paths(con)
    stages = ("admission", "readmission")
    timings = [_timing(paths["days_to_readmission"], "discharge to readmission", "readmitted")]
    return Pathway(
        "readmission",
        "Emergency readmissions within 30 days of discharge",
        stages,
        _flows(paths, stages),
        _tables(paths, stages),
        pd.DataFrame(timings),
    )


def ae_pathway(con: duckdb.DuckDBPyConnection) -> Pathway:
    """A&E attendance -> arrival mode -> disposal -> emergency admission or not."""
    paths = ae_paths(con)
    stages = ("attendance", "arrival_mode", "disposal", "admission")
    timings = [_timing(paths["days_to_admission"], "arrival to admission", "admitted")]
    return Pathway(
        "ae",
        "A&E attendances: arrival, disposal and emergency admission",
        stages,
        _flows(paths, stages),
        _tables(paths, stages),
        pd.DataFrame(timings),
    )


#: Every pathway, by name.
PATHWAYS = {
    "discharge": discharge_pathway,
    "readmission": readmission_pathway,
    "ae": ae_pathway,
}


# --- one person's journey (direct care only) ----------------------------------------------


@dataclass(frozen=True)
class JourneyEvent:
    """One step of one person's path through hospital, A&E and social care.

    ``kind``: hospital spell, A&E attendance, reablement, social care service, care home
    placement or death. ``source_id`` is the record's key in its feed.
    """

    kind: str
    start: date
    end: date | None
    detail: str
    source_id: str


#: Kinds of :class:`JourneyEvent`, in the order shown for events on the same day.
EVENT_KINDS: tuple[str, ...] = (
    "A&E attendance",
    "hospital spell",
    "reablement",
    "social care service",
    "care home placement",
    "death",
)


def _words(value: object) -> str:
    return "" if value is None else str(value).replace("_", " ")


def person_timeline(con: duckdb.DuckDBPyConnection, person_id: str) -> list[JourneyEvent]:
    """Every linked event of one pseudonymised person, in date order.

    Patient-level: for direct care only, through the care register's re-identification
    (the caller holds the person's pseudonym because the register linked it).
    """
    _need(con, "residents", "hospital_spells")
    tables = store_tables(con)
    events: list[JourneyEvent] = []
    for sid, method, adm, dis, dest, diag in con.execute(
        """SELECT spell_id, admission_method, admission_date, discharge_date,
        discharge_destination, primary_diagnosis FROM hospital_spells WHERE person_id = $p""",
        {"p": person_id},
    ).fetchall():
        detail = f"{_words(method)} admission, diagnosis {diag or 'not recorded'}"
        if dis is not None:
            detail += f"; discharged to {_words(dest) or 'not recorded'}"
        events.append(JourneyEvent("hospital spell", adm, dis, detail, str(sid)))
    if "ae_attendances" in tables:
        for aid, arrived, mode, dtype, disposal in con.execute(
            """SELECT attendance_id, arrival_date, arrival_mode, department_type, disposal
            FROM ae_attendances WHERE person_id = $p""",
            {"p": person_id},
        ).fetchall():
            detail = (
                f"type {_words(dtype) or '?'} department, arrived by {_words(mode) or '?'}; "
                f"{_words(disposal) or 'disposal not recorded'}"
            )
            events.append(JourneyEvent("A&E attendance", arrived, None, detail, str(aid)))
    if "reablement_episodes" in tables:
        for eid, start, outcome in con.execute(
            """SELECT episode_id, start_date, outcome_91_days FROM reablement_episodes
            WHERE person_id = $p""",
            {"p": person_id},
        ).fetchall():
            detail = f"status 91 days after discharge: {_words(outcome) or 'not recorded'}"
            events.append(JourneyEvent("reablement", start, None, detail, str(eid)))
    if "social_care_services" in tables:
        for svc, stype, setting, start, end, permanent in con.execute(
            """SELECT service_id, service_type, setting, start_date, end_date,
            permanent_admission FROM social_care_services WHERE person_id = $p""",
            {"p": person_id},
        ).fetchall():
            kind = "care home placement" if permanent else "social care service"
            detail = _words(stype) + (f" ({_words(setting)})" if setting else "")
            events.append(JourneyEvent(kind, start, end, detail, str(svc)))
    row = con.execute(
        "SELECT date_of_death FROM residents WHERE person_id = $p", {"p": person_id}
    ).fetchone()
    if row is not None and row[0] is not None:
        events.append(JourneyEvent("death", row[0], None, "date of death", "residents"))
    events.sort(key=lambda e: (e.start, EVENT_KINDS.index(e.kind), e.source_id))
    return events


# --- transitions between risk tiers -------------------------------------------------------

NOT_TIERED = "not in a tier"
GONE = "died or left"


def tier_pathway(con: duckdb.DuckDBPyConnection, model: str = "logistic", seed: int = 0) -> Pathway:
    """Risk tier a year before the store's end -> risk tier at its end.

    Both index dates are scored with the risk model trained on the store's latest full
    year (:func:`bettercare.analytics.risk.cohorts.score`; the earlier one is a look back
    whose training outcomes overlap it). Adults scored at the earlier date and in a tier
    at either date are counted; one not scored at the later date "died or left" (adults
    scored only at the later date, newly 18 or moved in, are left out). Needs 2 financial
    years of spells (the risk model's own need).
    """
    from bettercare.analytics.risk.cohorts import score
    from bettercare.analytics.risk.features import RiskDataError, coverage, years_before

    try:
        end = coverage(con).end
        after = score(con, model, end, seed).table.to_pandas()
        before = score(con, model, years_before(end), seed).table.to_pandas()
    except RiskDataError as exc:
        raise JourneyDataError(f"risk tiers cannot be scored: {exc}") from None
    merged = before.merge(after, on="person_id", how="outer", suffixes=("_before", "_after"))
    merged["tier_before"] = merged["tier_before"].fillna(NOT_TIERED)
    merged["tier_after"] = merged["tier_after"].where(merged["probability_after"].notna(), GONE)
    merged["tier_after"] = merged["tier_after"].fillna(NOT_TIERED)
    tiered_after = ~merged["tier_after"].isin([NOT_TIERED, GONE])
    merged = merged[(merged["tier_before"] != NOT_TIERED) | tiered_after]
    merged = merged[merged["probability_before"].notna()].copy()
    merged["period"] = f"{years_before(end).isoformat()} to {end.isoformat()}"
    merged["cohort"] = merged["age_band_before"].astype(str)
    merged["practice"] = merged["gp_practice_before"].astype(str)
    stages = ("tier_before", "tier_after")
    return Pathway(
        "tiers",
        f"Risk tiers on {years_before(end).isoformat()} and {end.isoformat()}",
        stages,
        _flows(merged, stages),
        _tables(merged, stages),
        pd.DataFrame(columns=["what", "group", "people", "mean", "median", "p25", "p75"]),
    )
