"""ONS mid-year population estimates -> the ``population`` feed.

Layout ``ons_population.csv``: the ONS detailed mid-year estimates by single year of
age, long by age and wide by year: ``code`` (the local authority's ONS code: the HWB's
upper-tier authority, E06/E08/E09/E10), ``sex`` (1 male, 2 female; see
:data:`.codes.person_stated_gender.ONS_SEX`), ``age`` (0-89, and 90 for 90 and over as
ONS publishes it, https://onsdigital.github.io/pattern-library/templates/html/t8-2.html;
``90+`` accepted) and one
``population_YYYY`` field per mid-year (30 June of YYYY). Optional ``name``,
``geography`` and ``country`` are accepted and dropped.

Mapping: the single years of age are summed into :data:`bettercare.data.schema.AGE_BANDS`
per code, sex and year. Every code and sex must have each age 0-90 exactly once, each
count a whole number >= 0, each year 1990-2100: otherwise the file is rejected with
located findings (``missing_ages``, ``repeated_age``, ``invalid_age``,
``invalid_population``, ``unknown_code``), nothing of it loaded, since a missing age
would silently shrink a denominator.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from bettercare.data.feed_files import ROW, Issue
from bettercare.data.national.codes.person_stated_gender import ONS_SEX
from bettercare.data.national.common import Layout, read_layout, rejected
from bettercare.data.schema import AGE_BANDS, FEEDS

FEED = FEEDS["population"]
YEAR_FIELD = re.compile(r"population_(\d{4})")
FIELD_OF = {"hwb_code": "code"}  # internal column -> national field (names it in findings)
LAYOUT = Layout(
    "ons_population",
    ("code", "sex", "age"),
    ("name", "geography", "country"),
    extra=YEAR_FIELD.pattern,
)
AGES = range(91)  # 90: 90 and over


def band_of(age: int) -> str:
    """Return the age band (:data:`AGE_BANDS`) of a single year of age (90: 90 and over)."""
    for band in AGE_BANDS:
        low, _, high = band.replace("+", "-").partition("-")
        if int(low) <= age and (not high or age <= int(high)):
            return band
    raise ValueError(age)


BAND_OF_AGE = np.array([band_of(a) for a in AGES], dtype=object)


def convert(path: Path, others: tuple[Layout, ...] = ()) -> tuple[pa.Table, list[Issue]]:
    """Read an ``ons_population`` file: estimates summed into age bands, and the findings."""
    file = path.name
    table, issues = read_layout(path, LAYOUT, others)
    years = [(c, int(m.group(1))) for c in table.column_names if (m := YEAR_FIELD.fullmatch(c))]
    if not years:
        raise rejected(
            file,
            [
                (
                    1,
                    "population_YYYY",
                    "missing_column",
                    "no population_YYYY field (one per mid-year)",
                )
            ],
        )
    df = pd.DataFrame(
        {c: pd.Series(table.column(c).to_pylist(), dtype=object) for c in table.column_names}
    )
    findings: list[tuple[int | None, str | None, str, str]] = []
    for c, y in years:
        if not 1990 <= y <= 2100:
            findings.append((1, c, "invalid_year", f"{c}: year {y} outside 1990-2100"))
    sex_codes = {c.code: c.internal for c in ONS_SEX.codes}
    sex = df["sex"].map(lambda v: sex_codes.get(str(v).strip()) if v is not None else None)
    for r, v in df.loc[sex.isna(), [ROW, "sex"]].itertuples(index=False):
        findings.append(
            (int(r), "sex", "unknown_code", f"row {r}: sex '{v}' is not 1 or 2 ({ONS_SEX.name})")
        )
    age = pd.to_numeric(
        df["age"].map(lambda v: str(v).strip().removesuffix("+") if v is not None else None),
        errors="coerce",
    )
    bad_age = age.isna() | (age % 1 != 0) | (age < 0) | (age > 90)
    for r, v in df.loc[bad_age, [ROW, "age"]].itertuples(index=False):
        findings.append((int(r), "age", "invalid_age", f"row {r}: age '{v}' is not 0-90"))
    counts = {}
    for c, _ in years:
        n = pd.to_numeric(df[c], errors="coerce")
        for r, v in df.loc[n.isna() | (n < 0) | (n % 1 != 0), [ROW, c]].itertuples(index=False):
            findings.append(
                (int(r), c, "invalid_population", f"row {r}: {c} '{v}' is not a whole number >= 0")
            )
        counts[c] = n
    if findings:
        raise rejected(file, sorted(findings, key=lambda f: f[0] or 0))
    df["_sex"], df["_age"] = sex, age.astype("int64")
    df["code"] = df["code"].map(lambda v: str(v).strip() if v is not None else None)
    for (code, s), grp in df.groupby(["code", "_sex"], sort=True, dropna=False):
        first = int(grp[ROW].min())
        repeated = grp.loc[grp["_age"].duplicated(), ROW]
        for r in repeated:
            findings.append(
                (int(r), "age", "repeated_age", f"row {r}: age repeated for {code}, sex {s}")
            )
        missing = sorted(set(AGES) - set(grp["_age"]))
        if missing:
            findings.append(
                (
                    first,
                    "age",
                    "missing_ages",
                    f"{code}, sex {s} (from row {first}): ages {_ranges(missing)} "
                    "missing (every age 0-90 is needed)",
                )
            )
    if findings:
        raise rejected(file, sorted(findings, key=lambda f: f[0] or 0))
    df["_band"] = BAND_OF_AGE[df["_age"].to_numpy()]
    out = []
    for c, y in years:
        df["_n"] = counts[c].astype("int64")
        agg = (
            df.groupby(["code", "_sex", "_band"], sort=True)
            .agg(population=("_n", "sum"), row=(ROW, "min"))
            .reset_index()
        )
        agg["year"] = str(y)
        out.append(agg)
    res = pd.concat(out, ignore_index=True)
    return pa.table(
        {
            "hwb_code": pa.array(res["code"].tolist(), pa.string()),
            "year": pa.array(res["year"].tolist(), pa.string()),
            "sex": pa.array(res["_sex"].tolist(), pa.string()),
            "age_band": pa.array(res["_band"].tolist(), pa.string()),
            "population": pa.array([str(int(v)) for v in res["population"]], pa.string()),
            ROW: pa.array(res["row"].astype("int64").tolist(), pa.int64()),
        }
    ), issues


def _ranges(ages: list[int]) -> str:
    """Format ages as ranges: ``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    parts: list[str] = []
    start = prev = ages[0]
    for a in [*ages[1:], None]:
        if a is not None and a == prev + 1:
            prev = a
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if a is not None:
            start = prev = a
    return ", ".join(parts)
