# Two commands do all set-up on a fresh machine:
#   make run   - install, initialise the embedded SQLite database with the bundled procedures and
#                the demo organisation and accounts, build a demo history (first time only),
#                serve on http://127.0.0.1:8080 (API /api/v1, docs /api/docs)
#   make test  - install, start a throwaway PostgreSQL, run the whole suite on SQLite and PostgreSQL;
#                installs the test-only tools where missing (bpmn-js by npm ci, Debian's chromium)
#   make soak  - the reliability suite's long variants (LANDFLOW_SOAK=1: more threads' work, 20 server
#                kills, more outages and hostile uploads); README "Reliability" has the figures
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=
LANDFLOW_DEMO_DOSSIERS ?= 2000

.PHONY: install run test lint soak bench clean translations

$(STAMP): pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Demo mode: the demo accounts (password "demo") exist and the demo history is built once
# (`landflow demo` skips a database that already has dossiers).
run: install
	LANDFLOW_DEMO=1 $(BIN)/landflow init
	LANDFLOW_DEMO=1 $(BIN)/landflow demo --dossiers $(LANDFLOW_DEMO_DOSSIERS)
	LANDFLOW_DEMO=1 $(BIN)/landflow serve --host 127.0.0.1 --port 8080

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	scripts/test-tools.sh
	scripts/with-postgres.sh $(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

# The pages' texts: extract from api/web, merge into the Vietnamese catalog, compile (commit the .po and .mo).
translations: install
	$(BIN)/pybabel extract -F api/babel.cfg -k _l -o api/translations/messages.pot --no-location --sort-output \
	  --omit-header .
	$(BIN)/pybabel update -i api/translations/messages.pot -d api/translations -l vi --no-fuzzy-matching \
	  --ignore-obsolete --ignore-pot-creation-date --width 120
	$(BIN)/pybabel compile -d api/translations -l vi --statistics
	rm -f api/translations/messages.pot

soak: install
	LANDFLOW_SOAK=1 scripts/with-postgres.sh $(BIN)/python -m pytest -q -n 2 tests/reliability $(PYTEST_ARGS)

# Every bench with its default size (a few minutes; results in bench/results/NAME.json). The issue's
# 1M-dossier scale run: `$(BIN)/landflow bench scale --dossiers 1000000` (about ten minutes more).
BENCH_ARGS ?=
bench: install
	$(BIN)/landflow bench engine
	$(BIN)/landflow bench storage
	$(BIN)/landflow bench http
	$(BIN)/landflow bench scale $(BENCH_ARGS)
	$(BIN)/landflow bench verify

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
