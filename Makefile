# Single entry points: `make demo` and `make test` create .venv and install everything from PyPI.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup demo test fuzz lint unit lab-up lab-down bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + "): set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

unit: setup
	$(VENV)/bin/pytest -q

test: lint unit

# new random examples for the fuzz tests (make test replays a fixed set)
fuzz: setup
	$(VENV)/bin/pytest -q -k fuzz --hypothesis-profile=explore

demo: setup
	$(VENV)/bin/aftershock demo

lab-up: setup
	$(VENV)/bin/aftershock lab up --detach

lab-down: setup
	$(VENV)/bin/aftershock lab down

bench: setup
	$(PY) benchmarks/lab_startup.py
	$(PY) benchmarks/report_render.py
	$(PY) benchmarks/load_throughput.py
	$(PY) benchmarks/probe_cost.py
	$(PY) benchmarks/timeline_master.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
