"""DISCHARGE DESTINATION CODE (HOSPITAL PROVIDER SPELL), HES field ``DISDEST``.

Sources: current codes (19, 29, 30, 37, 40, 42, 48-53, 55, 56, 66, 79, 84, 87, 88, 89,
98, 99): NHS Data Dictionary DESTINATION OF DISCHARGE (HOSPITAL PROVIDER SPELL) as
published in the COSD model,
(URL in ``DISCHARGE_DESTINATION.source``);
retired codes (38 penal establishment or police station, 54 NHS run care home,
65 Local Authority residential accommodation, 85 non-NHS run care home): the earlier
list, HL7 UK Core code system NHSDataModelAndDictionary-DischargeDestination v2.0.0
(status retired),
(URL in :data:`RETIRED_SOURCE`).
Default codes 98 (spell not finished) and 99 (not known): NHS Data Dictionary January
2011, DISCHARGE DESTINATION (HOSPITAL PROVIDER SPELL).

Mapping onto the internal ``discharge_destination``: the internal model's
``reablement`` is a service, not a destination (no national code): a spell discharged
home with reablement has code 19 and its reablement is in the reablement feed.
"""

from __future__ import annotations

from bettercare.data.national.codes import Code, CodeList

_NHS_OTHER = "NHS other Hospital Provider"
#: the earlier list (UK Core code system v2.0.0) that had the four retired codes
RETIRED_SOURCE = (
    "https://simplifier.net/guide/uk-core-implementation-guide/Home/Terminology/"
    "AllCodeSystems/CodeSystemNHSDataModelandDictionaryDischargeDestination?version=0.2.0"
)

DISCHARGE_DESTINATION = CodeList(
    name="discharge destination (DISDEST)",
    source="https://health-informatics-uon.github.io/nuh-data/datasets/cosd/"
    "DestinationOfDischargeHospitalProviderSpell/",
    version="NHS Data Dictionary (current list, with the four codes it replaced)",
    codes=(
        Code("19", "Usual place of residence", "usual_residence"),
        Code("29", "Temporary place of residence", "other"),
        Code("30", "Repatriation from high security psychiatric accommodation", "other_hospital"),
        Code("37", "Court", "other"),
        Code("40", "Penal establishment", "other"),
        Code("42", "Police Station / Police Custody Suite", "other"),
        Code("48", "High Security Psychiatric Hospital, Scotland", "other_hospital"),
        Code("49", f"{_NHS_OTHER} - high security psychiatric accommodation", "other_hospital"),
        Code("50", f"{_NHS_OTHER} - medium secure unit", "other_hospital"),
        Code("51", f"{_NHS_OTHER} - ward for general patients", "other_hospital"),
        Code("52", f"{_NHS_OTHER} - ward for maternity patients or neonates", "other_hospital"),
        Code(
            "53",
            f"{_NHS_OTHER} - ward for mental illness or learning disabilities",
            "other_hospital",
        ),
        Code("55", "Care Home With Nursing", "nursing_home"),
        Code("56", "Care Home Without Nursing", "care_home"),
        Code("66", "Local Authority foster care", "other"),
        Code("79", "Patient died or still birth", "died"),
        Code("84", "Independent Sector run hospital - medium secure unit", "other_hospital"),
        Code("87", "Independent Sector run hospital - excluding medium secure", "other_hospital"),
        Code("88", "Hospice", "other"),
        Code("89", "Organisation responsible for forced repatriation", "other"),
        Code("98", "Not applicable - spell not finished", None),
        Code("99", "Destination of discharge not known", None),
        Code(
            "38",
            "Penal establishment or police station (replaced by 40, 42)",
            "other",
            retired=True,
        ),
        Code("54", "NHS run Care Home (replaced by 55, 56)", "care_home", retired=True),
        Code(
            "65",
            "Local Authority residential accommodation (replaced by 55, 56)",
            "care_home",
            retired=True,
        ),
        Code("85", "Non-NHS run Care Home (replaced by 55, 56)", "care_home", retired=True),
    ),
)
