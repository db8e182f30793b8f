"""Adult Social Care Client Level Data (CLD): Service Type and Service Component.

Sources (the specification itself, an NHS England / DHSC spreadsheet, could not be opened
with the tools available; these are the values as the CLD's sponsor and NHS England use
them):

* Release 1 Service Type values: NHS England, "Reproducing SALT metrics from CLD",
  LTS001a/LTS001b (the four long-term support values, URL in
  ``CLD_SERVICE_TYPE.source``), and DHSC's CLD processing code,
  ``DataS-DHSC/ASC-CLD-LA-Dashboard`` ``ASCOF_measures/Create_ASCOF_2A.sql`` (commit
  222086c: the four long-term values and "Short Term Support: ST-Max", "...: Ongoing Low
  Level", "...: Other Short Term");
* Release 2 Service Type values: the same repository,
  ``Main_tables/docs/methodology/5-data-cleaning.md`` (commit 9bee728: the Release 2
  spellings, e.g. "Long term support: Nursing care", and the two "Unpaid carer support"
  values), :data:`RELEASE_2_SOURCE`;
* Service Component values: the same repository's ASCOF 2A, 3D and person-details
  scripts (``Create_ASCOF_2A_2425_Onwards.sql``, ``Create_ASCOF_3D_2425_Onwards.sql``,
  ``Create_personal_details_table.sql``). Only the five values below are read; the full
  Service Component list could NOT be confirmed, so any other component is accepted and
  not read (never quarantined).

Mapping onto the internal ``setting`` (:data:`CLD_SERVICE_TYPE`): Nursing Care ``nursing``,
Residential Care ``residential``, every other long-term, short-term and unpaid carer
value ``community``; "Other short term" with the Service Component "Short term
residential care" / "Short term nursing care" is ``residential`` / ``nursing``. Mapping
onto the internal ``service_type`` where the CLD says it (:data:`SERVICE_OF_TYPE`,
:data:`CLD_SERVICE_COMPONENT`): ST-Max is ``reablement``; long-term residential /
nursing care is ``residential_care`` / ``nursing_care``; the components "Home support or
domiciliary care", "Direct payment" and "Equipment" are ``home_care``,
``direct_payment`` and ``equipment``.

NOT confirmed, so not read: the event outcome list is known only as DHSC's cleaned
Release 2 values (no Release 1 list), and no metric reads it; whether an admission to
residential or nursing care is permanent: DHSC's own ASCOF 2B/2C script notes the CLD
"can't distinguish between temporary and permanent admissions", so
``permanent_admission`` stays a local field (``docs/datasets/cld.md``).
"""

from __future__ import annotations

from bettercare.data.national.codes import Code, CodeList

RELEASE_2_SOURCE = (
    "https://github.com/DataS-DHSC/ASC-CLD-LA-Dashboard/blob/main/Main_tables/docs/"
    "methodology/5-data-cleaning.md"
)
_DHSC = "https://github.com/DataS-DHSC/ASC-CLD-LA-Dashboard/tree/main/ASCOF_measures"

CLD_SERVICE_TYPE = CodeList(
    name="CLD Service Type",
    source="https://production-like.nhsd.io/data-and-information/data-collections-and-data-"
    "sets/data-sets/adult-social-care-client-level-data/reproducing-salt-metrics-from-cld/lts001b",
    version="CLD Release 1 (from 1 April 2023) and Release 2 spellings, as used by NHS "
    "England (LTS001a/b) and DHSC (ASC-CLD-LA-Dashboard)",
    codes=(
        # Release 1
        Code("Long Term Support: Nursing Care", "Long term support in nursing care", "nursing"),
        Code(
            "Long Term Support: Residential Care",
            "Long term support in residential care",
            "residential",
        ),
        Code("Long Term Support: Community", "Long term support in the community", "community"),
        Code("Long Term Support: Prison", "Long term support in prison", "community"),
        Code(
            "Short Term Support: ST-Max", "Short term support to maximise independence", "community"
        ),
        Code("Short Term Support: Ongoing Low Level", "Ongoing low level support", "community"),
        Code("Short Term Support: Other Short Term", "Other short term support", "community"),
        # Release 2
        Code("Long term support: Nursing care", "Long term support in nursing care", "nursing"),
        Code(
            "Long term support: Residential care",
            "Long term support in residential care",
            "residential",
        ),
        Code("Long term support: Community", "Long term support in the community", "community"),
        Code("Long term support: Prison", "Long term support in prison", "community"),
        Code(
            "Short term support: ST-Max", "Short term support to maximise independence", "community"
        ),
        Code("Short term support: Ongoing low level", "Ongoing low level support", "community"),
        Code("Short term support: Other short term", "Other short term support", "community"),
        Code(
            "Unpaid carer support: Direct to unpaid carer",
            "Support to an unpaid carer",
            "community",
        ),
        Code(
            "Unpaid carer support: Support involving the person cared-for",
            "Unpaid carer support involving the person cared for",
            "community",
        ),
    ),
)

#: Service Types that say which internal ``service_type`` the service is
SERVICE_OF_TYPE: dict[str, str] = {
    "Short Term Support: ST-Max": "reablement",
    "Short term support: ST-Max": "reablement",
    "Long Term Support: Residential Care": "residential_care",
    "Long term support: Residential care": "residential_care",
    "Long Term Support: Nursing Care": "nursing_care",
    "Long term support: Nursing care": "nursing_care",
}
#: "Other short term": the setting comes from the Service Component
OTHER_SHORT_TERM = ("Short Term Support: Other Short Term", "Short term support: Other short term")

#: The Service Component values read (a partial list: others are accepted, not read).
CLD_SERVICE_COMPONENT = CodeList(
    name="CLD Service Component (partial)",
    source=_DHSC,
    version="as used in DHSC's ASCOF 2A, 3D and person-details scripts (2024/25 onwards)",
    codes=(
        Code("Home support or domiciliary care", "Home support or domiciliary care", "home_care"),
        Code("Direct payment", "Direct payment", "direct_payment"),
        Code("Equipment", "Equipment", "equipment"),
        Code("Short term residential care", "Short term residential care", "residential_care"),
        Code("Short term nursing care", "Short term nursing care", "nursing_care"),
    ),
)
#: the setting of an "Other short term" service with this component
SETTING_OF_COMPONENT = {
    "Short term residential care": "residential",
    "Short term nursing care": "nursing",
}
