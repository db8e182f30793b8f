"""The synthetic demo care register: people at risk with plans and care teams, all invented.

Composes the synthetic generator's NHS numbers and names (:mod:`bettercare.data.synth`),
the risk model's tiering rule (:mod:`bettercare.analytics.risk.cohorts`) and the
register's storage (:mod:`bettercare.data.care_register`). Used by ``bettercare register
demo`` and the app's demo mode; production code reaches the generator only through here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bettercare.data.care_register import (
    add_assessment,
    add_patient,
    ensure_hwb,
    write_plan,
    write_team,
)
from bettercare.data.pseudonymise import pseudonym
from bettercare.data.tables import CarePatient, CarePlanRecord, CareTeamRecord
from bettercare.domain.care import CarePlanStatus, CareTeam, CareTeamMember, JointCarePlan

_ROLES = (
    "Community matron",
    "District nurse",
    "Social worker",
    "Care coordinator",
    "Occupational therapist",
    "GP",
    "Community psychiatric nurse",
)
_LEAD_ROLES = ("Community matron", "Social worker", "Care coordinator", "District nurse")
_FIRST_NAMES = ("Alex", "Sam", "Jo", "Chris", "Priya", "Nadia", "Tom", "Ruth", "Imran", "Kate")
_LAST_NAMES = ("Shaw", "Patel", "Owen", "Reid", "Khan", "Lowe", "Hart", "Dunn", "Ali", "Cole")


def demo_register(
    db: Session,
    hwb_code: str,
    n: int,
    today: dt.date,
    seed: int = 0,
    key: bytes | None = None,
) -> int:
    """Add ``n`` synthetic people at risk to ``hwb_code``'s register; return how many.

    Risk comes from a synthetic population of ``20 n`` adults (probability rising with age
    and long-term conditions), tiered with the risk model's own rule
    (:func:`bettercare.analytics.risk.cohorts.assign_tiers`: top 0.5/2/5%), so the ``n``
    kept are its top 5%. NHS numbers are valid numbers of the 999 test range (never
    issued), names from the synthetic generator's lists. About 60% get an active joint
    care plan (some with an overdue review), some a draft, on-hold or completed one, and
    about 70% a care team with an accountable lead professional.
    """
    from bettercare.analytics.risk.cohorts import COHORTS, assign_tiers
    from bettercare.data.synth import names, nhs

    rng = np.random.default_rng(seed)
    ensure_hwb(db, hwb_code)
    population = 20 * n
    age = rng.integers(18, 100, size=population)
    ltc = rng.poisson(np.clip((age - 30) / 20, 0.2, None))
    logit = -5.5 + 0.045 * (age - 18) + 0.35 * ltc + rng.normal(0, 0.6, population)
    prob = 1 / (1 + np.exp(-logit))
    tiers = assign_tiers(prob)
    keep = np.flatnonzero(tiers != None)[:n]  # noqa: E711  (object array of labels)
    taken = set(db.scalars(select(CarePatient.nhs_number)))
    numbers = [str(x) for x in nhs.generate(rng, len(keep) + len(taken) + 10)]
    numbers = [x for x in numbers if x not in taken][: len(keep)]
    sexes = rng.choice(["F", "M"], size=len(keep))
    given_f = names.draw(rng, names.FEMALE, len(keep))
    given_m = names.draw(rng, names.MALE, len(keep))
    family = names.draw(rng, names.FAMILY, len(keep))
    n_practices = max(1, len(keep) // 60)
    digits = "".join(ch for ch in hwb_code if ch.isdigit())[-2:].rjust(2, "0")
    practices = [f"Y{digits}{i + 1:03d}" for i in range(n_practices)]
    for j, i in enumerate(keep):
        birth = today.replace(year=today.year - int(age[i]), day=1) - dt.timedelta(
            days=int(rng.integers(0, 365))
        )
        given = names.FEMALE[given_f[j]] if sexes[j] == "F" else names.MALE[given_m[j]]
        number = numbers[j]
        patient = add_patient(
            db,
            nhs_number=number,
            hwb_code=hwb_code,
            person_id=pseudonym(key, number) if key else None,
            given_name=given,
            family_name=names.FAMILY[family[j]],
            birth_date=birth,
            sex=str(sexes[j]),
            gp_practice=practices[int(rng.integers(0, n_practices))],
        )
        cohorts = [COHORTS[0]] if age[i] >= 60 else []
        if 18 <= age[i] <= 59 and ltc[i] >= 3:
            cohorts.append(COHORTS[1])
        if age[i] >= 65 and rng.random() < 0.15:
            cohorts.append(COHORTS[2])
        assessed = today - dt.timedelta(days=int(rng.integers(30, 400)))
        add_assessment(
            db, patient, float(prob[i]), str(tiers[i]), cohorts, "synthetic-demo", assessed
        )
        _demo_care(db, rng, patient, assessed, today)
    db.flush()
    return len(keep)


def _demo_care(
    db: Session, rng: np.random.Generator, patient: CarePatient, assessed: dt.date, today: dt.date
) -> None:
    start = assessed + dt.timedelta(days=int(rng.integers(7, 120)))
    u = rng.random()
    if start <= today and u < 0.75:
        status = (
            CarePlanStatus.ACTIVE
            if u < 0.6
            else CarePlanStatus.ON_HOLD
            if u < 0.65
            else CarePlanStatus.COMPLETED
        )
        end = (
            min(today, start + dt.timedelta(days=180))
            if status is CarePlanStatus.COMPLETED
            else None
        )
        review = start + dt.timedelta(days=int(rng.choice([90, 180, 365])))
        plan = JointCarePlan(status, start, end, review, "Joint health and social care plan")
    elif u < 0.85:
        plan = JointCarePlan(CarePlanStatus.DRAFT, None, None, None, "Joint care plan (draft)")
    else:
        plan = None
    if plan is not None:
        db.add(write_plan(CarePlanRecord(), patient, plan, "demo"))
    if start <= today and rng.random() < 0.7:
        org_social = "Council adult social care services"
        members = [
            CareTeamMember(
                f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
                str(rng.choice(_LEAD_ROLES)),
                org_social if rng.random() < 0.4 else "Community health services",
                lead=True,
                start=start,
            )
        ]
        for _ in range(int(rng.integers(1, 4))):
            role = str(rng.choice(_ROLES))
            org = patient.gp_practice if role == "GP" else "Community health services"
            members.append(
                CareTeamMember(
                    f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}", role, org, start=start
                )
            )
        db.add(write_team(CareTeamRecord(), patient, CareTeam(tuple(members), "Care team"), "demo"))
