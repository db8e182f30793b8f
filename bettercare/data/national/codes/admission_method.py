"""ADMISSION METHOD (HOSPITAL PROVIDER SPELL), HES field ``ADMIMETH``.

Source: NHS Data Dictionary, attribute METHOD OF ADMISSION, archive release July 2022,
https://archive.datadictionary.nhs.uk/DD%20Release%20July%202022/attributes/method_of_admission.html
(national codes 11-13, 21-25, 2A-2D, 31-32, 81-83); code 28 "Other means" and its
replacement by 2A, 2B, 2C and 2D: NHS Data Dictionary, ADMISSION METHOD,
https://datadictionary.nhs.uk/data_dictionary/attributes/a/add/admission_method_de.asp?shownav=1;
default codes 98/99 ("not applicable", "not known"): NHS Data Dictionary July 2013,
ADMISSION METHOD (HOSPITAL PROVIDER SPELL) data element.

Mapping onto the internal ``admission_method`` (``elective`` | ``non_elective``):
elective admissions 11-13 are ``elective``; every other admission (emergency 21-25,
2A-2D, 28; maternity 31-32; other 81-83) is ``non_elective``. Codes 98/99 are not a
method: such a row is quarantined (unknown), since a spell must have one.
"""

from __future__ import annotations

from bettercare.data.national.codes import Code, CodeList

ADMISSION_METHOD = CodeList(
    name="admission method (ADMIMETH)",
    source="https://archive.datadictionary.nhs.uk/DD%20Release%20July%202022/attributes/"
    "method_of_admission.html",
    version="NHS Data Dictionary, July 2022 release",
    codes=(
        Code("11", "Elective Admission: Waiting list", "elective"),
        Code("12", "Elective Admission: Booked", "elective"),
        Code("13", "Elective Admission: Planned", "elective"),
        Code("21", "Emergency Admission: Emergency Care Department", "non_elective"),
        Code("22", "Emergency Admission: General Practitioner", "non_elective"),
        Code("23", "Emergency Admission: Bed bureau", "non_elective"),
        Code("24", "Emergency Admission: Consultant Clinic", "non_elective"),
        Code("25", "Emergency Admission: Mental Health Crisis Resolution Team", "non_elective"),
        Code(
            "2A",
            "Emergency Admission: Emergency Care Department of another provider",
            "non_elective",
        ),
        Code("2B", "Emergency Admission: Transfer from another Hospital Provider", "non_elective"),
        Code("2C", "Emergency Admission: Baby born at home as intended", "non_elective"),
        Code("2D", "Emergency Admission: Other emergency admission", "non_elective"),
        Code(
            "28",
            "Emergency Admission: Other means (replaced by 2A-2D)",
            "non_elective",
            retired=True,
        ),
        Code("31", "Maternity Admission: Admitted ante partum", "non_elective"),
        Code("32", "Maternity Admission: Admitted post partum", "non_elective"),
        Code(
            "81",
            "Other Admission: Transfer from other Hospital Provider, not emergency",
            "non_elective",
        ),
        Code("82", "Other Admission: Birth of a baby in this Health Care Provider", "non_elective"),
        Code("83", "Other Admission: Baby born outside the Health Care Provider", "non_elective"),
    ),
)

#: Emergency admission methods (the "emergency admissions" of PHOF / BCF definitions).
EMERGENCY = ("21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28")
