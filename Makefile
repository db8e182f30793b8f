# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every package pinned (==): installs are reproducible; `make lock` refreshes the file.
LOCK   := requirements-dev.lock

.PHONY: demo test test-fast test-web test-browser lint typecheck bench bench-web lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r $(LOCK)
	$(BIN)/pip install --quiet -e . --no-deps
	touch $(STAMP)

# Re-resolve the lock after a change to pyproject.toml's dependencies; pins already in the
# file are kept unless a requirement forces a change (`make lock UPGRADE=--upgrade` to move
# everything to the newest allowed). Uses uv (from PyPI) in its own small venv.
UV := .venv-uv/bin/uv
$(UV):
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/pip install --quiet uv

lock: $(UV)
	$(UV) pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 \
		$(UPGRADE) -o $(LOCK)

demo: $(STAMP)
	$(BIN)/bettercare demo --out out

# Tests run in parallel (pytest-xdist, one worker per core); a module's tests stay on one
# worker (--dist loadfile), so a module's Spark session or server starts once.
XDIST := -n auto --dist loadfile

# The full gate CI runs: lint (ruff check + format), the type checker, then every test
# including Spark.
test: lint typecheck
	$(BIN)/pytest -q $(XDIST)

# Quick lane while developing: no Spark, no slow integration tests.
test-fast: $(STAMP)
	$(BIN)/pytest -q $(XDIST) -m "not spark and not slow"

# The web app alone: its tests on SQLite and PostgreSQL (a private server is started and
# stopped by the tests), schemathesis, and the browser tests in headless Chromium.
test-web: $(STAMP)
	$(BIN)/pytest -q $(XDIST) tests/web tests/browser

# Browser tests only; screenshots of the main pages land in test-artifacts/screenshots/.
test-browser: $(STAMP)
	$(BIN)/pytest -q tests/browser

lint: $(STAMP)
	$(BIN)/ruff check bettercare tests benchmarks
	$(BIN)/ruff format --check bettercare tests benchmarks

# mypy on the whole package; strict on domain and analytics ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy bettercare

bench: $(STAMP)
	for b in synth ingest linkage metrics calibration plan_validate minimisation modelling risk returns_read; do $(BIN)/python benchmarks/$$b.py || exit 1; done

# 50 signed-in users on the plan overview and metrics dashboard (bettercare serve, SQLite).
bench-web: $(STAMP)
	$(BIN)/python benchmarks/web_load.py

clean:
	rm -rf $(VENV) .venv-uv out .pytest_cache .mypy_cache .ruff_cache test-artifacts
