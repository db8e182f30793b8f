"""The plan edit forms, re-exported: they live in :mod:`bettercare.services.plan_forms`."""

from __future__ import annotations

from bettercare.services.plan_forms import COLLECTIONS, field_for

__all__ = ["COLLECTIONS", "field_for"]
