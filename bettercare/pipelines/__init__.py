"""Compositions above analytics: synth -> ingest -> measure, and the demo data built from them.

The only production package that imports the synthetic generator (``bettercare.data.synth``):
the demo, the app's demo store and register, and the benchmarks call these.
"""
