"""The password policy, re-exported: it lives in :mod:`bettercare.data.passwords`."""

from __future__ import annotations

from bettercare.data.passwords import MIN_LENGTH, common_passwords, problem

__all__ = ["MIN_LENGTH", "common_passwords", "problem"]
