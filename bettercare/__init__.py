"""bettercare: open, reproducible software for running a Better Care Fund (BCF).

Layers (data flows one way; lower layers never import higher ones):
``domain`` -> ``data`` -> ``analytics`` -> ``reporting`` / ``api`` / ``cli``.
"""

__version__ = "0.1.0"
