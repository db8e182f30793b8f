"""The national data opt-out check (NHS England "Check for National Data Opt-outs") -> ``opt_outs``.

The service is used over MESH: an organisation sends a ``.dat`` file of NHS numbers, one
per line, each followed by a comma, lines ending in LF (NHS Digital's guidance as quoted
by the UK Renal Registry, "National Opt-Out Processes",
https://renalregistry.atlassian.net/wiki/spaces/ST/pages/1426226600/National+Opt-Out+Processes);
"the service will remove those with opt-outs. You'll get back a list of NHS numbers for
the records you can use or disclose" (NHS Digital, Check for National Data Opt-outs
Service, https://digital.nhs.uk/services/national-data-opt-out/compliance-with-the-national-data-opt-out/check-for-national-data-opt-outs-service).

So the file that comes back lists the people who did NOT opt out, and an opt-out is a
number sent that did not come back. bettercare reads both files, from the directory
given to ingest: ``ndop_request.dat`` (the NHS numbers sent) and ``ndop_response.dat``
(the NHS numbers returned); the opted-out people are ``request - response``, loaded as
the ``opt_outs`` feed (kept only as pseudonyms). Assumed, since it could not be
confirmed against a specification of the returned file: the returned ``.dat`` has the
layout of the one sent (a trailing comma is optional, CRLF is accepted, blank lines are
skipped). Send the NHS numbers of everyone in the extracts being loaded: a person whose
number was not sent is not checked.

The opt-out list is all or nothing (as :func:`bettercare.data.ingest.opt_outs.check_list`):
an entry that is not a valid NHS number (rule ``opt_out_list_invalid``), a number
returned that was not sent (``not_in_request``: the files do not belong together), an
empty request, or a missing request file rejects the response, and with it the run's
person-level feeds. Findings name the file and line; NHS numbers are never shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa

from bettercare.data import nhs_numbers
from bettercare.data.feed_files import ROW, FileRejected, Issue
from bettercare.data.national.common import Layout, rejected

REQUEST = "ndop_request"
RESPONSE = "ndop_response"
SUFFIX = ".dat"
FIELD_OF: dict[str, str] = {}  # one unnamed field per line: findings say "nhs_number"
LAYOUT = Layout(RESPONSE, ())  # no header: never another dataset's layout
INVALID = "opt_out_list_invalid"
NOT_IN_REQUEST = "not_in_request"
_LINE = re.compile(r"^\s*(\d{10})\s*,?\s*$")


def read_numbers(path: Path) -> list[tuple[int, str]]:
    """The NHS numbers of a ``.dat`` file as (line, number); rejects the file for a bad line."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            [Issue(name, None, None, "encoding", f"{name}: not UTF-8 text ({exc.reason})")]
        ) from exc
    except OSError as exc:
        raise FileRejected(
            [Issue(name, None, None, "unreadable", f"{name}: cannot be read ({exc.strerror})")]
        ) from exc
    lines = [
        (n, m.group(1) if m else None)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip()
        for m in [_LINE.match(line)]
    ]
    valid = _valid([v or "" for _, v in lines])
    numbers = [(n, v) for (n, v), ok in zip(lines, valid, strict=True) if ok and v]
    findings: list[tuple[int | None, str | None, str, str]] = [
        (
            n,
            "nhs_number",
            INVALID,
            f"line {n} is not a valid NHS number followed by a comma; an opt-out that "
            "cannot be read cannot be applied",
        )
        for (n, v), ok in zip(lines, valid, strict=True)
        if not (ok and v)
    ]
    if findings:
        raise rejected(name, findings)
    return numbers


def _valid(numbers: list[str]) -> list[bool]:
    """Whether each value is a valid NHS number (:func:`nhs_numbers.sql_is_valid`, in bulk).

    The SQL form of :func:`bettercare.data.nhs_numbers.is_valid` (tested to agree), so a
    list of a million numbers is checked in well under a second.
    """
    if not numbers:
        return []
    con = duckdb.connect()
    try:
        con.register("entries", pa.table({"n": pa.array(numbers, pa.string())}))
        rows = con.execute(f"SELECT {nhs_numbers.sql_is_valid('n')} FROM entries").fetchall()
    finally:
        con.close()
    return [bool(r[0]) for r in rows]


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read ``ndop_response.dat`` against ``ndop_request.dat``: the opted-out NHS numbers.

    ``_row`` is the line of the request file each opted-out number was sent on.
    """
    del others  # no header: a .dat file cannot be in another dataset's layout
    request_path = path.with_name(REQUEST + SUFFIX)
    if not request_path.is_file():
        raise rejected(
            path.name,
            [
                (
                    None,
                    None,
                    "missing_request",
                    f"the opt-out check's response is read against the request it answers: "
                    f"add {request_path.name} (the NHS numbers sent) beside it",
                )
            ],
        )
    sent = read_numbers(request_path)
    if not sent:
        raise rejected(
            request_path.name,
            [(None, None, "empty_file", "holds no NHS numbers, so nobody's opt-out was checked")],
        )
    returned = read_numbers(path)
    sent_numbers = {n for _, n in sent}
    stray: list[tuple[int | None, str | None, str, str]] = [
        (
            line,
            "nhs_number",
            NOT_IN_REQUEST,
            f"line {line}: an NHS number returned that {request_path.name} did not send "
            "(the two files do not belong together)",
        )
        for line, n in returned
        if n not in sent_numbers
    ]
    if stray:
        raise rejected(path.name, stray)
    may_use = {n for _, n in returned}
    opted_out: dict[str, int] = {}
    for line, n in sent:
        if n not in may_use:
            opted_out.setdefault(n, line)
    return pa.table(
        {
            "nhs_number": pa.array(list(opted_out), pa.string()),
            ROW: pa.array(list(opted_out.values()), pa.int64()),
        }
    ), []
