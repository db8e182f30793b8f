"""Adult Social Care Client Level Data (CLD): Service Type.

Source: NHS England, "Reproducing SALT metrics from CLD", LTS001a/LTS001b ("Service Type
is one of Long Term Support: Nursing Care, Residential Care, Community or Prison"),
(URL in ``CLD_SERVICE_TYPE.source``).

Only these four long-term support values could be confirmed. The short-term support
values (ST-Max and others), the Service Component list (e.g. permanent / temporary
placements) and the event outcome list could NOT be confirmed against the
specification, so bettercare does not read them: an empty Service Type is read as a
service that is not long-term support (setting ``community``), and the service and
whether a placement is permanent come from the two local columns documented in
``docs/datasets/cld.md``.

Mapping onto the internal ``setting``: Nursing Care ``nursing``, Residential Care
``residential``, Community and Prison ``community`` (not a care home).
"""

from __future__ import annotations

from bettercare.data.national.codes import Code, CodeList

CLD_SERVICE_TYPE = CodeList(
    name="CLD Service Type",
    source="https://production-like.nhsd.io/data-and-information/data-collections-and-data-"
    "sets/data-sets/adult-social-care-client-level-data/reproducing-salt-metrics-from-cld/lts001b",
    version="CLD Release 1 (from 1 April 2023), as used in NHS England LTS001a/b",
    codes=(
        Code("Long Term Support: Nursing Care", "Long term support in nursing care", "nursing"),
        Code(
            "Long Term Support: Residential Care",
            "Long term support in residential care",
            "residential",
        ),
        Code("Long Term Support: Community", "Long term support in the community", "community"),
        Code("Long Term Support: Prison", "Long term support in prison", "community"),
    ),
)
