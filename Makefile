# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast test-web test-browser test-hostile lint typecheck bench bench-web clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bettercare demo --out out

# The full gate CI runs: lint (ruff check + format), the type checker, then every test
# including Spark.
test: lint typecheck
	$(BIN)/pytest -q

# Quick lane while developing: no Spark, no slow integration tests.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not spark and not slow"

# The web app alone: its tests on SQLite and PostgreSQL (a private server is started and
# stopped by the tests), schemathesis, and the browser tests in headless Chromium.
test-web: $(STAMP)
	$(BIN)/pytest -q tests/web tests/browser

# The standing hostile suite alone (tests/hostile, marker `hostile`; also part of `test`).
test-hostile: $(STAMP)
	$(BIN)/pytest -q tests/hostile

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
	for b in synth ingest linkage metrics calibration plan_validate minimisation modelling risk; do $(BIN)/python benchmarks/$$b.py || exit 1; done

# 50 signed-in users on the plan overview and metrics dashboard (bettercare serve, SQLite).
bench-web: $(STAMP)
	$(BIN)/python benchmarks/web_load.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache test-artifacts
