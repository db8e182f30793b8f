"""``python -m bettercare``: the same command line as the ``bettercare`` script."""

from bettercare.cli.main import run

run()
