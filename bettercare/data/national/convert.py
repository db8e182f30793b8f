"""Dispatch a national file to its reader (the ingest's hook, :func:`read_national`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from bettercare.data.ingest.read import Issue
from bettercare.data.national import apc, cld, gp_registrations, ons_population
from bettercare.data.national.common import Layout

Reader = Callable[[Path, tuple[Layout, ...]], tuple[pa.Table, list[Issue]]]

READERS: dict[str, Reader] = {
    "gp_registrations": gp_registrations.convert,
    "apc_episodes": apc.convert,
    "apc_spells": apc.convert,
    "cld": cld.convert,
    "ons_population": ons_population.convert,
}
LAYOUTS: tuple[Layout, ...] = (
    gp_registrations.LAYOUT,
    apc.EPISODES,
    apc.SPELLS,
    cld.LAYOUT,
    ons_population.LAYOUT,
)


def read_national(path: Path) -> tuple[pa.Table, list[Issue]]:
    """The national file's rows in its internal feed's layout (text plus ``_row``) and the
    findings; raises :class:`~bettercare.data.ingest.read.FileRejected`."""
    return READERS[path.stem](path, LAYOUTS)
