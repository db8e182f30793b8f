"""Long-term care home admissions of people aged 65+, per 100,000 population aged 65+.

Admissions to residential and nursing care homes.

Specification: BCF 2025-26 headline metric (BCF policy framework 2025 to 2026): long-term
support needs of older adults met by admission to residential and nursing care homes,
the ASCOF 2A(2) measure. It is the same measure as the 2014-2019 BCF metric
``permanent_admissions_care_homes_65`` (ASCOF 2A(2), SALT LTS001b), so this module reuses
that definition unchanged and only reports it under the 2025-26 id: distinct people 65+
with a council-supported permanent (long-term) admission to residential or nursing care
starting in the period. Whether the 2025-26 figures come from the adult social care
client level data rather than SALT could not be confirmed; the definition is the same.
See :mod:`bettercare.analytics.metrics.permanent_admissions_care_homes_65` for the
numerator, denominator and exclusions. Direction: lower is better.

In national terms: as ``permanent_admissions_care_homes_65`` (Client Level Data
``cld.csv``: Service Type "Long Term Support: Residential Care" / "Long Term Support:
Nursing Care", permanent placements, 65+ at ``event_start_date``; ONS estimates 65-90).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from bettercare.analytics.metrics import permanent_admissions_care_homes_65 as permanent
from bettercare.analytics.metrics.base import Context, MetricSpec

ID = "long_term_admissions_care_homes_65"


def build(ctx: Context) -> ir.Table:
    """The ASCOF 2A(2) rows of ``permanent_admissions_care_homes_65`` under this id."""
    return permanent.build(ctx).mutate(metric=ibis.literal(ID))


SPEC = MetricSpec(
    id=ID,
    tables=permanent.SPEC.tables,
    build=build,
    population_base=permanent.SPEC.population_base,
    zero_fill=permanent.SPEC.zero_fill,
)
