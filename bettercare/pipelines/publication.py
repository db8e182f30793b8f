"""A synthetic national publication, written and loaded: the composition the CLI uses.

:func:`write_synthetic_publication` generates the publication for every HWB of England
(:mod:`bettercare.data.synth.publication`) and writes it as a bettercare figures CSV;
:func:`load_synthetic_publication` also loads it into a figures database as
``bettercare figures load`` would (read and validated by the same reader).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bettercare.data.figures import LoadSummary, load_figures, read_figures_file
from bettercare.data.synth.publication import BASE, synthetic_publication, write_publication

#: The metrics the synthetic publication can give.
SYNTHETIC_METRICS = tuple(b.metric for b in BASE)


def write_synthetic_publication(
    out: Path,
    years: Sequence[str],
    *,
    seed: int = 42,
    metrics: Sequence[str] | None = None,
    monthly_years: Sequence[str] = (),
) -> tuple[Path, int, int]:
    """Write the publication CSV; (path, figures, areas)."""
    frame = synthetic_publication(years, seed=seed, metrics=metrics, monthly_years=monthly_years)
    return write_publication(out, frame), len(frame), int(frame.area_code.nunique())


def load_synthetic_publication(
    csv: Path,
    database: Path,
    years: Sequence[str],
    *,
    seed: int = 42,
    metrics: Sequence[str] | None = None,
) -> LoadSummary:
    """Write the publication to ``csv`` and load it into ``database`` (replaced)."""
    write_synthetic_publication(csv, years, seed=seed, metrics=metrics)
    database.unlink(missing_ok=True)
    return load_figures(read_figures_file(csv), database, str(csv))
