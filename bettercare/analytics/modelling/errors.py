"""The one error the modelling package raises for input it cannot model."""

from __future__ import annotations

from bettercare.errors import BadInput


class ModellingInputError(BadInput):
    """Input the models cannot run on; the message names the file (if any) and field."""
