"""Readers for the national datasets as a Health and Wellbeing Board receives them.

A file in a feed directory whose name (stem) is a key of :data:`NATIONAL_FILES` is read
in its national layout and converted into the internal layout of the feed it feeds
(:data:`bettercare.data.schema.FEEDS`) before the ingest's usual steps (identifiers by
value, row rules, opt-outs, linkage, load). One module per dataset:

* ``gp_registrations.csv`` -> ``residents`` (:mod:`.gp_registrations`)
* ``apc_episodes.csv`` / ``apc_spells.csv`` -> ``hospital_spells`` (:mod:`.apc`, HES/SUS+
  Admitted Patient Care; episodes are joined into spells)
* ``ecds.csv`` -> ``ae_attendances`` (:mod:`.ecds`, Emergency Care Data Set A&E
  attendances)
* ``cld.csv`` -> ``social_care_services`` (:mod:`.cld`, Adult Social Care Client Level Data)
* ``ons_population.csv`` -> ``population`` (:mod:`.ons_population`, ONS mid-year
  estimates by single year of age, summed into age bands)
* ``ndop_response.dat`` (read with ``ndop_request.dat``) -> ``opt_outs`` (:mod:`.ndop`,
  the national data opt-out check: the NHS numbers sent that did not come back)

Any of them but the opt-out check's ``.dat`` files may also be ``.parquet``. Code lists
with citations: :mod:`.codes`. Pages per dataset: ``docs/datasets/``. This package
imports nothing of the ingest (the shared reading primitives are
:mod:`bettercare.data.feed_files`'s); the ingest consults :data:`NATIONAL_FILES`.
"""

from __future__ import annotations

from pathlib import PurePath

#: national file stem -> internal feed it is converted into
NATIONAL_FILES: dict[str, str] = {
    "gp_registrations": "residents",
    "apc_episodes": "hospital_spells",
    "apc_spells": "hospital_spells",
    "ecds": "ae_attendances",
    "cld": "social_care_services",
    "ons_population": "population",
    "ndop_response": "opt_outs",
}
#: national files whose format is neither CSV nor Parquet: stem -> suffix
OTHER_SUFFIX: dict[str, str] = {"ndop_response": ".dat", "ndop_request": ".dat"}
#: files read by another national file's reader: stem -> the stem of that file
COMPANIONS: dict[str, str] = {"ndop_request": "ndop_response"}


def national_stem(file_name: str, feed_name: str) -> str | None:
    """The national file a file named ``file_name`` is, when it is read into ``feed_name``.

    None for a feed's own file (the internal layout). The ingests read such a file with
    its national reader and name their findings by its own fields.
    """
    stem = PurePath(file_name).stem
    return stem if stem in NATIONAL_FILES and stem != feed_name else None


def feed_of_file(stem: str) -> str:
    """The internal feed a file of this stem feeds (a feed name for an internal file)."""
    stem = COMPANIONS.get(stem, stem)
    return NATIONAL_FILES.get(stem, stem)
