"""Synthetic population and feeds for a Health and Wellbeing Board (no real patient data).

``generate(params, years, seed, out_dir)`` writes every feed in
:data:`bettercare.data.schema.FEEDS` as Parquet; see :mod:`.generator` for the layout and
:mod:`.world` for the risk model.
"""

from bettercare.data.synth.generator import GENERATOR_VERSION, STEPS, generate
from bettercare.data.synth.params import ParamsError, SynthParams, json_schema, load_params
from bettercare.data.synth.presets import PRESETS, preset

__all__ = [
    "GENERATOR_VERSION",
    "PRESETS",
    "STEPS",
    "ParamsError",
    "SynthParams",
    "generate",
    "json_schema",
    "load_params",
    "preset",
]
