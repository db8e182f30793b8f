"""PERSON STATED GENDER CODE (GP registrations ``gender``, HES ``SEX``).

Source: NHS Data Model and Dictionary Person Stated Gender Code as published in HL7 UK
Core (code system UKCore-NHSDataDictionary-PersonStatedGender, 4 concepts),
(URL in ``PERSON_STATED_GENDER.source``).

Mapping onto the internal ``sex`` (``M`` | ``F`` | ``U``): 1 male, 2 female, 9
indeterminate and X not known are ``U``.

:data:`ONS_SEX` (the ONS population estimates: 1 and 2 only) reuses codes 1 and 2 of this
list; that the ONS detailed estimates code sex this way could not be confirmed against an
ONS page, so a file coded otherwise is rejected naming the value rather than guessed.
"""

from __future__ import annotations

from bettercare.data.national.codes import Code, CodeList

PERSON_STATED_GENDER = CodeList(
    name="person stated gender code",
    source="https://project-wildfyre.github.io/uk-testcore-r4/"
    "ValueSet-UKCore-NHSDataDictionary-PersonStatedGender.html",
    version="UK Core 4.0.0 (NHS Data Dictionary, 2019)",
    codes=(
        Code("1", "Male", "M"),
        Code("2", "Female", "F"),
        Code("X", "Not Known (not recorded)", "U"),
        Code("9", "Indeterminate (unable to be classified as either male or female)", "U"),
    ),
)

#: The ONS mid-year estimates' sex: males and females only.
ONS_SEX = CodeList(
    name="ONS sex",
    source=PERSON_STATED_GENDER.source,
    version=PERSON_STATED_GENDER.version,
    codes=PERSON_STATED_GENDER.codes[:2],
)
