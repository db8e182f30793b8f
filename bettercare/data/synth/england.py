"""A synthetic England: every Health and Wellbeing Board area at a chosen scale.

Owns turning England's HWB list (:func:`bettercare.data.geography.hwb_england`:
``data/defaults/hwb_england.csv``, ONS codes, names and ONS mid-2020 populations; its
sources are in ``data/defaults/README.md``) into one feed directory holding every area,
the layout ``bettercare ingest`` reads. It does not own the population model: each area
is the ``base`` preset's (default Leicestershire: its rates, age structure and noise)
with the area's own code, name and population x ``scale`` (at least 100, the generator's
minimum), so the areas differ in size and code, not in their health.

Each area is generated in memory by :func:`.generator.build_tables` (seed ``seed + its
position in the list``) and appended to one Parquet file per feed, so memory holds one
area at a time. So that areas never share a person or a key:

* every NHS number of an area (its residents' and the true people of its social care
  rows) is replaced by one of a pool of distinct valid numbers in the synthetic range
  (:func:`.nhs.pool`); a mistyped number (invalid by construction) is left as it is;
* record ids (``spell_id``, ``service_id``, ...) are prefixed with the area's code (a
  scheme keeps its plan's reference: ``scheme_activity`` rows carry their ``hwb_code``,
  and each board's plan matches its schemes within its board);
* postcodes use synthetic districts of their own (first letters Q, V or X, which no UK
  postcode area uses), LSOAs consecutive ``E01`` numbers and GP practices their own
  prefix.

Synthetic data only: the generator's truth files (``_truth/``) are combined the same way.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bettercare.data.geography import DEFAULT_FILE, HwbArea, hwb_england
from bettercare.data.schema import FEEDS
from bettercare.data.synth import nhs
from bettercare.data.synth.generator import build_tables, check_years
from bettercare.data.synth.params import SynthParams
from bettercare.data.synth.presets import preset

#: Columns holding a record id, made unique across areas by the area's code.
ID_COLUMNS = (
    "spell_id",
    "service_id",
    "attendance_id",
    "delay_id",
    "response_id",
    "episode_id",
)
MIN_POPULATION = 100  # the generator's smallest area (params.Area.population)
DISTRICTS_PER_AREA = 5
_DISTRICT_LETTERS = "QVX"  # never the first letter of a UK postcode (Royal Mail)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class EnglandResult:
    """What :func:`generate_england` wrote: areas, residents and rows per feed."""

    out_dir: Path
    areas: int
    residents: int
    row_counts: dict[str, int]


def area_params(area: HwbArea, index: int, scale: float, base: str, lsoa_start: int) -> SynthParams:
    """The ``base`` preset placed in ``area`` with its population x ``scale``."""
    params = preset(base)
    population = max(MIN_POPULATION, round(area.population * scale))
    districts = [
        f"{_DISTRICT_LETTERS[(index * DISTRICTS_PER_AREA + k) // 260]}"
        f"{_ALPHABET[(index * DISTRICTS_PER_AREA + k) // 10 % 26]}"
        f"{(index * DISTRICTS_PER_AREA + k) % 10}"
        for k in range(DISTRICTS_PER_AREA)
    ]
    geo = params.area.model_copy(
        update={
            "name": area.hwb_name,
            "hwb_code": area.hwb_code,
            "postcode_districts": districts,
            "gp_practice_prefix": f"{_ALPHABET[index // 100]}{index % 100:02d}",
            "lsoa_start": lsoa_start,
        }
    )
    return params.model_copy(update={"area": geo}).with_population(population)


def _remap_nhs(tables: dict[str, pa.Table], numbers: np.ndarray) -> None:
    """Replace the area's NHS numbers (residents' and true people's) by ``numbers``."""
    own = pa.concat_arrays(
        [
            tables["residents"].column("nhs_number").combine_chunks(),
            tables["_truth/social_care_person"].column("nhs_number").combine_chunks(),
        ]
    )
    old = pc.unique(own.drop_null())
    if len(old) > len(numbers):
        raise ValueError(f"{len(old):,} NHS numbers needed, {len(numbers):,} in the pool")
    new = pa.array(numbers[: len(old)].astype(np.int64)).cast(pa.string())
    for name, table in tables.items():
        if "nhs_number" not in table.column_names:
            continue
        col = table.column("nhs_number")
        at = pc.index_in(col, value_set=old)
        mapped = pc.if_else(pc.is_null(at), col, pc.take(new, pc.fill_null(at, 0)))
        i = table.column_names.index("nhs_number")
        tables[name] = table.set_column(i, table.field(i), mapped.cast(table.field(i).type))


def _prefix_ids(tables: dict[str, pa.Table], code: str) -> None:
    for name, table in tables.items():
        for col in ID_COLUMNS:
            if col in table.column_names:
                i = table.column_names.index(col)
                prefixed = pc.binary_join_element_wise(code, table.column(col), "-")
                tables[name] = table = table.set_column(i, table.field(i), prefixed)


def generate_england(
    scale: float,
    years: list[str],
    seed: int,
    out_dir: Path,
    *,
    base: str = "leicestershire",
    areas: tuple[HwbArea, ...] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EnglandResult:
    """Write every HWB area of England at ``scale`` into ``out_dir`` (one file per feed).

    ``areas``: the list to use (default :func:`hwb_england`). ``progress(area name,
    done, total)`` is told each area as it starts. ``out_dir`` is written afresh (a
    partial directory from an interrupted run is replaced).
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    years = check_years(years)
    areas = areas or hwb_england()
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "_truth").mkdir(parents=True)
    # each area takes, in order, this many numbers of the pool: residents and the true
    # people of social care rows (a few more than its residents) fit in 1.2x + 1,000
    sizes = [max(MIN_POPULATION, round(a.population * scale)) for a in areas]
    need = [int(s * 1.2) + 1_000 for s in sizes]
    pool = nhs.pool(sum(need))
    writers: dict[str, pq.ParquetWriter] = {}
    counts: dict[str, int] = {}
    residents = 0
    lsoa_start, offset = 0, 0
    try:
        for i, area in enumerate(areas):
            if progress is not None:
                progress(area.hwb_name, i, len(areas))
            params = area_params(area, i, scale, base, lsoa_start)
            tables = build_tables(params, years, seed + i, lambda _step: None)
            _remap_nhs(tables, pool[offset : offset + need[i]])
            _prefix_ids(tables, area.hwb_code)
            offset += need[i]
            lsoa_start += -(-params.area.population // params.area.residents_per_lsoa) + 10
            residents += tables["residents"].num_rows
            for name, table in tables.items():
                path = tmp / f"{name}.parquet"
                if name not in writers:
                    writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
                writers[name].write_table(table.cast(writers[name].schema))
                if name in FEEDS:
                    counts[name] = counts.get(name, 0) + table.num_rows
        for writer in writers.values():
            writer.close()
        writers.clear()
        manifest = {
            "generator": "bettercare.data.synth.england",
            "hwb_list": DEFAULT_FILE,
            "base_preset": base,
            "scale": scale,
            "seed": seed,
            "years": years,
            "areas": len(areas),
            "residents": residents,
            "row_counts": counts,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
    except BaseException:
        for writer in writers.values():
            writer.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress is not None:
        progress("done", len(areas), len(areas))
    return EnglandResult(out_dir, len(areas), residents, counts)
