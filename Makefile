# Everything runs from a project-local virtualenv so a fresh machine needs only Python and pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean lint models fuzz native

# setuptools >= 77 in the venv too: `make native` builds the C kernels with it in place.
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 'setuptools>=77' wheel
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The optional C kernels (setup.py) compiled in place; quick when nothing changed. Without a
# compiler the package runs on its numpy/Python fallbacks (FENGHUO_NATIVE=0 forces them).
native: $(STAMP)
	$(BIN)/python setup.py -q build_ext --inplace

# `make demo DEMO_ARGS=--console` leaves the web console running afterwards and prints its URL and tokens.
demo: $(STAMP) native
	$(BIN)/fenghuo demo $(DEMO_ARGS)

# ruff's rules are in pyproject.toml ([tool.ruff]); ruff comes with the test extra.
lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# Two worker processes, each taking whole test files (--dist loadfile: a file's module fixtures
# are built once, in one process): ~13 -> ~7 minutes on a 2-core machine. Every test has its own
# database, PostgreSQL schema, NATS prefix, ports and home directory, so files never meet.
# Files go out longest first (tests/conftest.py's LONGEST_FILES; --no-loadscope-reorder keeps
# that order), so no long file is left for the end while the other worker idles.
# PYTEST_WORKERS=0 runs everything in this one process (for a debugger or -x).
PYTEST_WORKERS ?= 2
test: $(STAMP) native
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# A bounded schemathesis run over the OpenAPI schema with a token of each role; fails on any 500.
# Not part of `make test` (time); .ci/run runs it after the tests. FUZZ_SECONDS=120 by default (about 3 minutes in all).
fuzz: $(STAMP)
	$(BIN)/python -m tests.security.fuzz_api $(FUZZ_ARGS)

bench: $(STAMP) native
	$(BIN)/python -m bench $(BENCH_ARGS)

# Rebuild the detection artefacts shipped in src/fenghuo/checks/shipped/ from ../shared/data
# (or $$FENGHUO_DATA); see src/fenghuo/checks/build/__init__.py. MODELS_ARGS="--only classifier".
models: $(STAMP)
	$(BIN)/python -m fenghuo.checks.build $(MODELS_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache
