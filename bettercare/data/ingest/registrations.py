"""Reading a GP registration list for the care register (direct care re-identification).

Owns reading the list's file (the national layout, ``gp_registrations.csv``, or the
internal ``residents`` feed) into :class:`~bettercare.data.care_register.Registration`
rows; the register's storage and matching are :mod:`bettercare.data.care_register`.
Here, in the ingest, because it reads a feed exactly as the ingest does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bettercare.data import nhs_numbers
from bettercare.data.care_register import RegisterError, Registration


def read_registrations(path: Path, hwb_code: str) -> list[Registration]:
    """The people of ``hwb_code`` on a GP registration list, every NHS number checked.

    The list is the national layout (``gp_registrations.csv``, read by
    :mod:`bettercare.data.national.gp_registrations`) or the internal ``residents``
    layout. Any invalid NHS number, unknown code or bad date refuses the whole list with
    a located error (nothing is imported).
    """
    from bettercare.data.ingest.read import FileRejected, read_feed
    from bettercare.data.national import gp_registrations
    from bettercare.data.national.common import header_of
    from bettercare.data.schema import FEEDS

    if not path.is_file():
        raise RegisterError("not found", file=str(path), rule="missing_file")
    try:
        if "practice_code" in {h.lower() for h in header_of(path)}:
            table, issues = gp_registrations.convert(path)
        else:
            table, issues = read_feed(path, FEEDS["residents"])
    except FileRejected as exc:
        first = exc.issues[0]
        raise RegisterError(
            first.message, file=path.name, row=first.row, field=first.column, rule=first.rule
        ) from None
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        e = errors[0]
        raise RegisterError(e.message, file=path.name, row=e.row, field=e.column, rule=e.rule)
    rows = table.column("_row").to_pylist()
    cols = {
        c: table.column(c).to_pylist()
        for c in (
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "gp_practice",
            "hwb_code",
        )
    }
    out = []
    for i, row in enumerate(rows):
        number = cols["nhs_number"][i]
        if not nhs_numbers.is_valid(number):
            raise RegisterError(
                f"NHS number '{nhs_numbers.mask(number)}' is not a valid NHS number "
                "(modulus 11); nothing imported",
                file=path.name,
                row=row,
                field="nhs_number",
                rule="nhs_number",
            )
        if cols["hwb_code"][i] != hwb_code:
            continue
        dob = cols["date_of_birth"][i]
        try:
            birth = dt.date.fromisoformat(dob) if dob else None
        except ValueError:
            raise RegisterError(
                f"date_of_birth '{dob}' is not a date (YYYY-MM-DD)",
                file=path.name,
                row=row,
                field="date_of_birth",
                rule="date",
            ) from None
        out.append(
            Registration(
                nhs_numbers.normalise(number) or "",
                cols["given_name"][i],
                cols["family_name"][i],
                birth,
                cols["sex"][i],
                cols["gp_practice"][i],
            )
        )
    return out
