# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
BIN := $(VENV)/bin
# Every virtualenv is made by the same rules (below): uv installs Airflow's ~200 dependencies in
# seconds instead of minutes.
INSTALLED := $(VENV)/.installed-$(AIRFLOW_VERSION)
# The same code and tests on Airflow 2.11, in a virtualenv of its own (`make test-airflow2`).
AIRFLOW2_VERSION ?= 2.11.2
VENV2 ?= .venv-airflow2
BIN2 := $(VENV2)/bin
INSTALLED2 := $(VENV2)/.installed-$(AIRFLOW2_VERSION)

.PHONY: install test lint format unit demo clean install-airflow2 test-airflow2

# $(call virtualenv,DIR,STAMP,PACKAGES): create DIR, put uv in it, install PACKAGES (again
# whenever pyproject.toml changes); STAMP marks the install done.
define virtualenv
$(1)/bin/python:
	$$(PYTHON) -m venv $(1)

$(1)/bin/uv: $(1)/bin/python
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check uv

$(2): pyproject.toml | $(1)/bin/uv
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python $(3)
	touch $$@
endef

$(eval $(call virtualenv,$(VENV),$(INSTALLED),-e '.[test]' "apache-airflow==$(AIRFLOW_VERSION)"))
$(eval $(call virtualenv,$(VENV2),$(INSTALLED2),-e '.[test]' "apache-airflow==$(AIRFLOW2_VERSION)"))

install: $(INSTALLED)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The suite on PYTEST_WORKERS pytest-xdist workers (3 on 2 cores: the tests wait more than they
# compute), each with its own Airflow home and servers
# (tests/conftest.py); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 3

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS)

unit: install
	$(BIN)/pytest tests -m "not slow"

install-airflow2: $(INSTALLED2)

# No lint here: ruff and mypy run once, in `make test`, against the main virtualenv.
test-airflow2: install-airflow2
	$(BIN2)/pytest -n $(PYTEST_WORKERS)

# DEMO_ARGS: e.g. --keep (keep the temporary Airflow home and snapshot), --workdir DIR, --ready-after 2
# `make demo DEMO=export` or `DEMO=flex` runs another example DAG (the name after --example):
# the export example, or the flex variant (example_dags/atlas_flex_snapshot_download.py) on flex
# clusters. Plain `make demo` runs the download.
demo: install
	$(BIN)/python -m airflow_provider_atlas_restore.testing.demo $(if $(DEMO),--example $(DEMO)) $(DEMO_ARGS)

clean:
	rm -rf $(VENV) $(VENV2) $(VENV_BENCH) .pytest_cache .mypy_cache .ruff_cache .hypothesis benchmarks/.work

# Benchmarks beside their baselines (`make bench`, about 7 min on 2 cores; see benchmarks/README.md).
# Their own virtualenv, built like the main one, adds the HTTP provider (a baseline) and profilers.
HTTP_PROVIDER_VERSION ?= 6.3.0
VENV_BENCH ?= .venv-bench
BIN_BENCH := $(VENV_BENCH)/bin
INSTALLED_BENCH := $(VENV_BENCH)/.installed-$(AIRFLOW_VERSION)-http-$(HTTP_PROVIDER_VERSION)-s3
.PHONY: install-bench bench

$(eval $(call virtualenv,$(VENV_BENCH),$(INSTALLED_BENCH),-e . "apache-airflow==$(AIRFLOW_VERSION)" \
	"apache-airflow-providers-http==$(HTTP_PROVIDER_VERSION)" "pyinstrument>=5" "psutil>=5.9" \
	"moto[server]>=5" "s3fs" "apache-airflow-providers-amazon[s3fs]" "boto3"))

install-bench: $(INSTALLED_BENCH)

bench: install-bench
	$(BIN_BENCH)/python -m benchmarks.run $(BENCH_ARGS)

# End-to-end (~1.5 min): the example DAG on Airflow's real scheduler, dag-processor, triggerer and
# api-server against the emulator; the triggerer is SIGKILLed while the create task is deferred.
.PHONY: test-e2e
test-e2e: install
	$(BIN)/python e2e/run_e2e.py

# Distributed (~4 min): the example DAG on PostgreSQL, Redis, two Celery workers and S3 (moto); the
# triggerer and then the worker that downloads are SIGKILLed. Installs the `distributed` extra into
# the main virtualenv, and Debian's postgresql and redis-server with apt-get when they are missing
# (as root, or through sudo).
INSTALLED_DISTRIBUTED := $(VENV)/.installed-distributed-$(AIRFLOW_VERSION)
.PHONY: install-distributed test-distributed

$(INSTALLED_DISTRIBUTED): pyproject.toml | $(INSTALLED)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,distributed]' "apache-airflow==$(AIRFLOW_VERSION)"
	touch $@

install-distributed: $(INSTALLED_DISTRIBUTED)
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing=" postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
		sudo=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		echo "installing$$missing with apt-get"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test-distributed: install-distributed
	$(BIN)/python e2e/run_distributed.py
