# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
BIN := $(VENV)/bin
# uv resolves and installs Airflow's ~200 dependencies in seconds instead of minutes.
UV := $(BIN)/uv
INSTALLED := $(VENV)/.installed-$(AIRFLOW_VERSION)

.PHONY: install test lint format unit demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(INSTALLED): pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -e '.[test]' "apache-airflow==$(AIRFLOW_VERSION)"
	touch $@

install: $(INSTALLED)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests -m "not slow"

demo: install
	$(BIN)/python -m airflow_provider_atlas_restore.testing.demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
