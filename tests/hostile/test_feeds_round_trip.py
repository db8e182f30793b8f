"""Every feed bettercare's own ``synth`` writes, in both layouts, saved back as a CSV by
pandas and as Excel writes one (TRUE/FALSE, dd/mm/yyyy), loads without a file being
refused: the by-value identifier check once took ``True``/``False`` for person names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from bettercare.data.ingest import ingest
from bettercare.data.synth import generate, preset

pytestmark = pytest.mark.hostile

KEY = b"round-trip-key-" + b"0123456789abcdefghijklmnopqrstuv"


def as_pandas(source: Path, target: Path) -> None:
    """The file as pandas writes it back from its own read (Parquet or CSV)."""
    if source.suffix == ".parquet":
        df = pd.read_parquet(source)
    else:
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    df.to_csv(target.with_suffix(".csv"), index=False)


def as_excel(source: Path, target: Path) -> None:
    """As Excel saves a CSV: booleans TRUE/FALSE, dates dd/mm/yyyy."""
    if source.suffix == ".parquet":
        df = pd.read_parquet(source)
    else:
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    for col in df.columns:
        s = df[col]
        if s.dtype == bool or s.dtype == "boolean":
            df[col] = s.map({True: "TRUE", False: "FALSE"})
            continue
        text = s.astype("string")
        lowered = text.str.lower()
        if (
            lowered.isin(["true", "false", "", pd.NA]).all()
            and lowered.isin(["true", "false"]).any()
        ):
            df[col] = lowered.map({"true": "TRUE", "false": "FALSE"}).fillna("")
            continue
        iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)
        if iso.any():
            dates = pd.to_datetime(text.where(iso), format="%Y-%m-%d", errors="coerce")
            df[col] = text.where(~iso, dates.dt.strftime("%d/%m/%Y")).fillna("")
    df.to_csv(target.with_suffix(".csv"), index=False)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synth")
    params = preset("rutland").with_population(1500)
    out = {}
    for fmt in ("internal", "national"):
        generate(params, ["2016/17"], 5, root / fmt, fmt=fmt)
        out[fmt] = root / fmt
    return out


@pytest.mark.parametrize("writer", [as_pandas, as_excel], ids=["pandas", "excel"])
@pytest.mark.parametrize("fmt", ["internal", "national"])
def test_every_synthetic_feed_round_trips_without_a_refusal(
    synth: dict[str, Path], tmp_path: Path, fmt: str, writer
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    for path in sorted(synth[fmt].iterdir()):
        if path.suffix in (".parquet", ".csv"):
            writer(path, d / path.name)
        elif path.is_file() and path.suffix != ".json":
            shutil.copy(path, d / path.name)  # the opt-out check's fixed-width files
    result = ingest(d, tmp_path / "store" / "s.duckdb", KEY)
    refused = [(i.file, i.column, i.rule, i.message) for i in result.file_issues]
    assert refused == []
    assert result.outcome in ("loaded", "quarantined")
