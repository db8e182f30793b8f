"""Synthetic population and feeds for a Health and Wellbeing Board (no real patient data).

``generate(params, years, seed, out_dir)`` writes every feed in
:data:`bettercare.data.schema.FEEDS` as Parquet; see :mod:`.generator` for the layout and
:mod:`.world` for the risk model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bettercare.data.synth.generator import GENERATOR_VERSION, STEPS, generate
    from bettercare.data.synth.params import ParamsError, SynthParams, json_schema
    from bettercare.data.synth.presets import load_params, preset

#: The HWB presets (their parameters: :mod:`.presets`).
PRESETS = ("leicester", "leicestershire", "rutland", "lancashire")
#: The names of the noise presets, in order (their values: ``params.NOISE_LEVELS``).
#: Both here, in the package, so the command line lists them without loading the models.
NOISE_LEVEL_NAMES = ("low", "realistic", "high")

# Names load on first use (PEP 562), so reading a preset's name does not import the
# generator and its libraries (the command line's help lists the presets).
_HOME = {
    "GENERATOR_VERSION": "generator",
    "STEPS": "generator",
    "generate": "generator",
    "ParamsError": "params",
    "SynthParams": "params",
    "json_schema": "params",
    "load_params": "presets",
    "preset": "presets",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GENERATOR_VERSION",
    "NOISE_LEVEL_NAMES",
    "PRESETS",
    "STEPS",
    "ParamsError",
    "SynthParams",
    "generate",
    "json_schema",
    "load_params",
    "preset",
]
