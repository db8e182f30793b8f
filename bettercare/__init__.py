"""bettercare: open, reproducible software for running a Better Care Fund (BCF).

Layers (data flows one way; lower layers never import higher ones):
``domain`` -> ``data`` -> ``analytics`` -> ``reporting`` / ``api`` / ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

# pyproject.toml is the one place the version is set.

try:
    __version__ = version("bettercare")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
