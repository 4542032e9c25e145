# Beatbook: `make run` serves the demo on SQLite; `make test` sets up and runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export BEATBOOK_DATABASE_URL ?=

.PHONY: run test test-py test-js test-pg soak bench setup clean

$(STAMP): pyproject.toml package.json
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	npm install --no-audit --no-fund --silent
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/beatbook init-db
	$(BIN)/beatbook demo
	$(BIN)/beatbook serve --dev --host 127.0.0.1 --port 8000 --workers 2

test: $(STAMP)
	node --test tests/pwa/
	$(BIN)/pytest -m "not slow"

test-pg: $(STAMP)
	BEATBOOK_TEST_DATABASE_URL=$${BEATBOOK_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/pytest -m "not e2e and not slow"

# The long forms of the fault tests (tests/faults/): a whole shift syncing for 3 minutes.
soak: $(STAMP)
	$(BIN)/pytest -m slow tests/faults

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) node_modules
