"""Compositions: synthetic population -> ingest -> measure.

The one place production code may use the synthetic generator (:mod:`bettercare.data.synth`):
the demo, the web app's demo store and the benchmarks run a synthetic HWB through the
same ingest and metrics engine as real feeds (:mod:`.synthetic`; the app's demo store
recipe is :mod:`.demo_store`, its demo care register :mod:`.care_demo`), and
:mod:`.calibration` compares what was measured with the rates the generator was given.
Sits above analytics and reporting, below the services, the web app and the CLI.
"""
