"""Emergency Care Data Set (ECDS) code lists: department type, arrival mode, discharge destination.

EMERGENCY CARE DEPARTMENT TYPE (``ec_department_type``), national codes 01-04: NHS Data
Model and Dictionary, EMERGENCY CARE DEPARTMENT TYPE (PATIENT LEVEL INFORMATION COSTING),
"the same as attribute EMERGENCY CARE DEPARTMENT TYPE" (URL in
``EC_DEPARTMENT_TYPE.source``). Confirmed against that page.

EMERGENCY CARE ARRIVAL MODE (SNOMED CT) and EMERGENCY CARE DISCHARGE DESTINATION (SNOMED
CT) are SNOMED CT reference sets published in NHS England's ECDS Enhanced Technical Output
Specification (ETOS, a spreadsheet; v4.0.8 from 1 April 2025), which could not be opened
with the tools available to this project. The codes below were confirmed against public
NHS analysts' code that reads ECDS, not against the ETOS itself:

* arrival mode: the five ambulance codes are the Strategy Unit's New Hospital Programme
  list (``The-Strategy-Unit/nhp_data``, ``src/nhp/data/raw_data/ecds.py``,
  ``ambulance_arrival_modes``); the four other codes (own transport, public transport,
  police, prison transport) and every label agree across several independently
  published NHS analyses of the NCDR ECDS tables (one citing ``ECDS_ETOS_v4.0.6``);
* discharge destination: UKHSA's ``epidm`` package
  (``ukhsa-collaboration/epidm``, ``data-raw/inpatient_lookups.R``,
  ``group_ecds_discharge_destination``) groups them as Discharged, Ambulatory/Short stay,
  Admitted, Transfer and Died; bettercare's ``disposal`` takes those groups. Three codes
  epidm also lists under "Discharged" (989501000000106, 1066111000000103,
  301791000000104) are follow-up arrangements (ECDS DISCHARGE FOLLOW UP, e.g. the
  Strategy Unit's ``discharged_home``), not destinations, so they are NOT listed here;
  183919006 (hospice) is in two independent analyses' lists (as a transfer) though not in
  epidm's.

A code outside these lists is quarantined naming field and code (never guessed); check
the lists against the ETOS version your provider submits. EMERGENCY CARE ATTENDANCE
CATEGORY (``ec_attendancecategory``) could not be confirmed, so it is accepted and not
read.
"""

from __future__ import annotations

from bettercare.data.national.codes import Code, CodeList

EC_DEPARTMENT_TYPE = CodeList(
    name="EC department type (EC_DEPARTMENT_TYPE)",
    source="https://www.datadictionary.nhs.uk/data_elements/"
    "emergency_care_department_type__patient_level_information_costing_.html",
    version="NHS Data Model and Dictionary (codes 01 and 03 as updated by DCB0092-2062)",
    codes=(
        Code("01", "Consultant-led 24 hour emergency department", "type_1"),
        Code("02", "Consultant-led mono specialty emergency care service", "type_2"),
        Code("03", "Other type of A&E / minor injury activity (incl. UTCs)", "type_3"),
        Code("04", "NHS walk in centre", "type_4"),
    ),
)

_NHP = "https://github.com/The-Strategy-Unit/nhp_data/blob/main/src/nhp/data/raw_data/ecds.py"

EC_ARRIVAL_MODE = CodeList(
    name="EC arrival mode (EC_ARRIVAL_MODE_SNOMED_CT)",
    source=_NHP,
    version="ECDS ETOS v4 arrival mode refset, as read by NHS analysts (not the ETOS itself)",
    codes=(
        Code("1048031000000100", "Arrival by emergency road ambulance", "ambulance"),
        Code(
            "1048041000000109",
            "Arrival by emergency road ambulance with medical escort",
            "ambulance",
        ),
        Code("1048021000000102", "Arrival by non-emergency road ambulance", "ambulance"),
        Code("1048051000000107", "Arrival by helicopter air ambulance", "ambulance"),
        Code("1048081000000101", "Arrival by medical repatriation air ambulance", "ambulance"),
        Code("1048071000000103", "Arrival by own transport", "other"),
        Code("1048061000000105", "Arrival by public transport", "other"),
        Code("1048001000000106", "Arrival by police transport", "other"),
        Code("1047991000000102", "Arrival by prison transport", "other"),
    ),
)

EC_DISCHARGE_DESTINATION = CodeList(
    name="EC discharge destination (DISCHARGE_DESTINATION_SNOMED_CT)",
    source="https://github.com/ukhsa-collaboration/epidm/blob/main/data-raw/inpatient_lookups.R",
    version="ECDS ETOS v4 discharge destination refset, as grouped by UKHSA epidm",
    codes=(
        Code("306706006", "Discharge to ward", "admitted"),
        Code("1066361000000104", "Discharge to high dependency unit", "admitted"),
        Code("1066391000000105", "Discharge to intensive care unit", "admitted"),
        Code("1066371000000106", "Discharge to coronary care unit", "admitted"),
        Code("1066381000000108", "Discharge to special baby care unit", "admitted"),
        Code("1066401000000108", "Discharge to neonatal intensive care unit", "admitted"),
        Code("1066331000000109", "Discharge to emergency department short stay ward", "ambulatory"),
        Code("1066341000000100", "Discharge to ambulatory emergency care service", "ambulatory"),
        Code("1066351000000102", "Discharge to hospital at home service", "ambulatory"),
        Code("306689006", "Discharge to home", "discharged"),
        Code("306691003", "Discharge to residential home", "discharged"),
        Code("306694006", "Discharge to nursing home", "discharged"),
        Code("306705005", "Discharge to police custody", "discharged"),
        Code("50861005", "Discharge to legal custody", "discharged"),
        Code("19712007", "Patient transfer to another health care facility", "transferred"),
        Code("183919006", "Hospice", "transferred"),
        Code("305398007", "Mortuary (the patient died)", "died"),
    ),
)

#: ECDS field -> code list (the reader maps each)
ECDS_CODES = {
    "ec_department_type": EC_DEPARTMENT_TYPE,
    "ec_arrival_mode_snomed_ct": EC_ARRIVAL_MODE,
    "discharge_destination_snomed_ct": EC_DISCHARGE_DESTINATION,
}
