# shopsense — two commands on a fresh machine:  make demo   |   make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= shopsense-data
PORT ?= 8000
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test test-fast test-long install browser-deps lint bench-ingest bench-search bench-recs bench clean-demo

install: $(VENV)/.installed

# torch is pinned and installed first so pip never resolves a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps flwr==1.13.1  # see pyproject.toml [federated]
	touch $@

demo: install
	$(BIN)/shopsense --home $(DEMO_HOME) demo run --port $(PORT)

# Browser tests drive Debian's chromium (no browser download); CJK fonts for Chinese text.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	   chromium fonts-wqy-microhei >/dev/null) || echo "warning: chromium not installed"; }

# Two pytest-xdist workers, a test module per worker at a time (its module fixtures built once):
# most tests wait on a subprocess, a server or the browser part of the time.
TEST_WORKERS ?= 2
test: install browser-deps
	$(BIN)/python -m pytest -q -m "not long" -n $(TEST_WORKERS) --dist loadfile

# Minutes-long runs kept out of `make test` (under 15 minutes on 2 cores): run before a release.
test-long: install
	$(BIN)/python -m pytest -q -m long

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser and not long"

lint: install
	$(BIN)/ruff check src tests benchmarks

bench-ingest: install
	$(BIN)/python benchmarks/ingest.py

bench-search: install
	$(BIN)/python benchmarks/search.py

bench-recs: install
	$(BIN)/python benchmarks/recs.py

bench: bench-ingest bench-search bench-recs

clean-demo:
	rm -rf $(DEMO_HOME)
