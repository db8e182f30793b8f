"""Published aggregate figures: read the layouts users download, keep them in DuckDB.

Owns reading published per-area figures (numerator, denominator, value, confidence
limits) in the layouts of :mod:`.layouts` (the Fingertips CSV export and the bettercare
figures CSV, ``docs/figures.md``), validating them as strictly as the ingest (every
problem located by file, row, column and rule; nothing loaded when any is found;
suppressed cells kept as suppressed, never zero) and the figures database
(:mod:`.store`, one DuckDB file written whole or not at all). It does not compare,
rank or chart them: that is ``analytics/published.py`` and ``analytics/peers.py``.
"""

from bettercare.data.figures.layouts import (
    AreaType,
    FigureRow,
    FiguresRejected,
    area_type_of,
)
from bettercare.data.figures.read import ReadResult, read_figures_file
from bettercare.data.figures.store import (
    DEFAULT_FIGURES_DB,
    LoadSummary,
    load_figures,
    read_figures,
)

__all__ = [
    "DEFAULT_FIGURES_DB",
    "AreaType",
    "FigureRow",
    "FiguresRejected",
    "LoadSummary",
    "ReadResult",
    "area_type_of",
    "load_figures",
    "read_figures",
    "read_figures_file",
]
