"""The one error the modelling package raises for input it cannot model."""

from __future__ import annotations


class ModellingInputError(ValueError):
    """Input the models cannot run on; the message names the file (if any) and field."""
