# Beatbook: `make run` serves the demo on SQLite; `make test` sets up and runs every test.
# Needs python3-venv; the tests also need Node 20+ with npm, and Chromium for the browser tests
# (README.md, "Requirements").
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PG_URL = $${BEATBOOK_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
export BEATBOOK_DATABASE_URL ?=

.PHONY: run test test-pg soak lint bench setup clean lock

# requirements.lock pins every Python package (with hashes) for the app and its tests; `make lock`
# regenerates it after pyproject.toml changes. The app itself is installed on top, without deps.
$(STAMP): pyproject.toml setup.py requirements.lock
	$(PY) -m venv $(VENV)
	# Debian's venv brings pip 23.2, which fails hash-checking mode on a pinned package that
	# another asks for with an extra (pip-audit's CacheControl[filecache]): a current pip does not.
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24.2'
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra test --extra postgres --generate-hashes --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# ruff (lint and format), mypy (sync/ and schema/ strict, server/ at mypy's default checks),
# eslint over the officers' app; the dependency audit fails on a known vulnerability, and says
# so and skips where PyPI's data cannot be reached. `make test` and CI run it first.
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check server schema sync tests
	$(BIN)/ruff format --check server schema sync tests
	$(BIN)/mypy sync schema server
	npx --no-install eslint pwa tests/pwa
	$(BIN)/python scripts/audit.py

# Only the tests and lint use npm (fake-indexeddb for the JS units, axe-core for the browser
# tests, eslint for make lint).
$(NODE_STAMP): package.json package-lock.json
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
	  echo "The JavaScript tests need Node 20 or later (this is $$(node --version)): see README.md, Requirements"; \
	  exit 1; }
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

run: $(STAMP)
	$(BIN)/beatbook db upgrade
	$(BIN)/beatbook demo
	@echo "The beatbook command is $(BIN)/beatbook (or: export PATH=\"$(CURDIR)/$(BIN):\$$PATH\")."
	$(BIN)/beatbook serve --dev --host 127.0.0.1 --port 8000 --workers 2

test: lint
	node --test tests/pwa/
	$(BIN)/pytest -m "not slow"

# The browser tests serve their own SQLite database and the JavaScript tests use none, so on
# PostgreSQL the rest of the suite is what can differ.
test-pg: $(STAMP)
	@echo "make test-pg: the Python tests except the browser tests and the long fault runs"
	@echo "  (pytest -m 'not e2e and not slow') on PostgreSQL at $(PG_URL);"
	@echo "  each run makes and drops its own database."
	@echo "  The JavaScript and browser tests do not use PostgreSQL: make test runs them."
	BEATBOOK_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not e2e and not slow"

# The long forms of the fault tests (tests/faults/, docs/faults.md): schemathesis with 100
# examples per operation on both databases, then 100 SIGKILLs under 500-change batches and a
# 200-phone shift for 5 minutes, each on SQLite and PostgreSQL, ending with one table. About an
# hour on a shared 2-core machine (100 SIGKILLs on SQLite took 22 min under a load average of 10).
soak: $(STAMP)
	BEATBOOK_SCHEMATHESIS_EXAMPLES=100 $(BIN)/pytest tests/server/test_api_schemathesis.py
	BEATBOOK_SCHEMATHESIS_EXAMPLES=100 BEATBOOK_TEST_DATABASE_URL=$(PG_URL) \
		$(BIN)/pytest tests/server/test_api_schemathesis.py
	BEATBOOK_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m tests.faults.soak \
		--crash-rounds $${BEATBOOK_CRASH_ROUNDS:-100} --shift-seconds $${BEATBOOK_SHIFT_SECONDS:-300}

# pouchdb-server, the peer the sync bench measures against (tests/bench/bench_peers.py), comes
# from the npm registry into tests/bench/peers/: never a dependency of Beatbook itself. Without
# the registry the bench still runs and says the peer was skipped.
PEERS_STAMP := tests/bench/peers/node_modules/.installed
$(PEERS_STAMP): tests/bench/peers/package.json tests/bench/peers/package-lock.json
	cd tests/bench/peers && npm ci --no-audit --no-fund --silent && touch node_modules/.installed \
		|| echo "make bench: pouchdb-server could not be installed; the peers bench is skipped"

bench: $(STAMP)
	-@$(MAKE) --no-print-directory $(PEERS_STAMP)
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) node_modules
