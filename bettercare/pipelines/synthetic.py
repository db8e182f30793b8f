"""Generate -> ingest -> measure: one synthetic run, shared by the demo and the benchmarks.

Owns the order of the three steps and where their files go under a work directory:
``feeds/`` (the generator's output), ``keys/pseudonym.key`` (made on first use, kept apart
from the feeds and the store, as a key must be), and a fresh ``store/bettercare.duckdb``
each run. It does not own any step: the generator (:mod:`bettercare.data.synth`), the
ingest (:mod:`bettercare.data.ingest`) and the metrics engine
(:mod:`bettercare.analytics.engine`) do; nor what is made of the metrics (the demo's
board pack, :mod:`bettercare.pipelines.calibration`'s z-scores).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bettercare.analytics.engine import compute_metrics
from bettercare.data import pseudonymise
from bettercare.data.ingest import IngestResult, ingest
from bettercare.data.synth import SynthParams, generate
from bettercare.domain.periods import fy_span

#: The steps of a run, in order, as :func:`run_synthetic` announces them.
STEPS: tuple[str, ...] = ("synthetic population", "ingest and link", "metrics")


@dataclass(frozen=True)
class SyntheticRun:
    """What one run made: the store, what the ingest loaded, the metrics per grain."""

    params: SynthParams
    years: tuple[str, ...]
    store: Path
    loaded: IngestResult
    #: ``YYYY-MM..YYYY-MM``: the run's financial years, the window the metrics cover
    window: str
    #: :func:`~bettercare.analytics.engine.compute_metrics` output per grain
    metrics: dict[str, pd.DataFrame]


def years_window(years: Sequence[str]) -> str:
    """The months of the financial years ``years`` (first to last) as a period window.

    The feeds also hold spells begun before the first year; metrics are measured on the
    years themselves.
    """
    return f"{fy_span(years[0]).start:%Y-%m}..{fy_span(years[-1]).end:%Y-%m}"


def run_synthetic(
    params: SynthParams,
    years: Sequence[str],
    seed: int,
    workdir: Path,
    grains: Sequence[str] = ("year",),
    step: Callable[[str], None] | None = None,
) -> SyntheticRun:
    """Generate ``params`` for ``years``, ingest into a fresh store, compute the metrics.

    Ingest validates and pseudonymises NHS numbers (key ``workdir/keys/pseudonym.key``,
    made if absent), excludes opt-outs and links social care. ``step`` is told the name
    of each step of :data:`STEPS` as it starts. Raises what the steps raise
    (:class:`~bettercare.data.ingest.UsageError`,
    :class:`~bettercare.analytics.metrics.MetricDataError`, ``OSError``, ...).
    """
    announce = step or (lambda _name: None)
    workdir = Path(workdir)
    announce(STEPS[0])
    feeds = workdir / "feeds"
    generate(params, list(years), seed, feeds)

    announce(STEPS[1])
    key_file = workdir / "keys" / "pseudonym.key"
    if not key_file.exists():
        pseudonymise.new_key_file(key_file)
    store_dir = workdir / "store"
    shutil.rmtree(store_dir, ignore_errors=True)  # a fresh store each run
    store = store_dir / "bettercare.duckdb"
    loaded = ingest(feeds, store, pseudonymise.load_key(key_file, [feeds, store_dir]))

    announce(STEPS[2])
    window = years_window(years)
    metrics = {g: compute_metrics(store, g, period=window) for g in grains}
    return SyntheticRun(params, tuple(years), store, loaded, window, metrics)
