"""Standard :mod:`logging`, configured once per process.

Library modules only call ``logging.getLogger(__name__)``; the process's entry point (the
``bettercare`` command line, which also starts the web server) calls :func:`configure`
once. The level comes from ``$BETTERCARE_LOG_LEVEL`` (``WARNING`` by default).
"""

from __future__ import annotations

import logging
import os

LOG_LEVEL_ENV = "BETTERCARE_LOG_LEVEL"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str | int | None = None) -> None:
    """Send bettercare's log records to stderr at ``level`` (default: the environment's).

    Safe to call again: the handler is installed once, later calls only change the level.
    """
    chosen = level if level is not None else os.environ.get(LOG_LEVEL_ENV, "WARNING")
    if isinstance(chosen, str):
        chosen = logging.getLevelName(chosen.strip().upper())
        if not isinstance(chosen, int):  # an unknown name: keep the default, do not fail
            chosen = logging.WARNING
    logger = logging.getLogger("bettercare")
    if not any(getattr(h, "_bettercare", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._bettercare = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(chosen)
