"""The audit log, re-exported for the app: it lives in :mod:`bettercare.services.audit`."""

from __future__ import annotations

from bettercare.services.audit import (
    CONFLICT,
    DENIED,
    EXPORT_COLUMNS,
    INVALID,
    OK,
    events,
    export_csv,
    record,
    record_now,
)

__all__ = [
    "CONFLICT",
    "DENIED",
    "EXPORT_COLUMNS",
    "INVALID",
    "OK",
    "events",
    "export_csv",
    "record",
    "record_now",
]
