# Seneca: two commands. `make run` brings the platform up; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 3000
LOGS ?= $(CURDIR)/data/marcus_logs
LAKE ?= $(CURDIR)/data/lake
# The Dagster instance: `sqlite` (./dagster.yaml, embedded) or `postgres` (deploy/postgres/, with
# DAGSTER_PG_HOST, DAGSTER_PG_PORT, DAGSTER_PG_USER, DAGSTER_PG_PASSWORD and DAGSTER_PG_DB set).
INSTANCE ?= sqlite
INSTANCE_HOME_sqlite := $(CURDIR)
INSTANCE_HOME_postgres := $(CURDIR)/deploy/postgres
INSTANCE_HOME = $(or $(INSTANCE_HOME_$(INSTANCE)),$(error INSTANCE is sqlite or postgres, not "$(INSTANCE)"))

.PHONY: install run test lint docs bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Seneca needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Demo logs if the log folder is empty, the whole asset graph once, then the UI and the daemon
# (sensors and schedules running) on http://$(HOST):$(PORT).
run: install
	mkdir -p data/dagster "$(LOGS)"
	if [ -z "$$(ls -A "$(LOGS)")" ]; then $(BIN)/seneca demo-logs "$(LOGS)"; fi
	DAGSTER_HOME=$(INSTANCE_HOME) SENECA_LOG_DIR="$(LOGS)" SENECA_LAKE_DIR="$(LAKE)" $(BIN)/seneca run
	DAGSTER_HOME=$(INSTANCE_HOME) SENECA_LOG_DIR="$(LOGS)" SENECA_LAKE_DIR="$(LAKE)" \
		exec $(BIN)/dagster dev --host $(HOST) --port $(PORT) --workspace workspace.yaml

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: install
	$(BIN)/seneca docs --dir docs

bench: install
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/silver.py
	$(BIN)/python benchmarks/rollups.py
	$(BIN)/python benchmarks/query.py
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/semantic.py
	$(BIN)/python benchmarks/analytics.py
	$(BIN)/python benchmarks/lifecycle.py
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) data/lake data/dagster
