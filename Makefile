# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-browser fuzz-api venv dev-venv db check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

## make run: set up, migrate the embedded SQLite database, seed the demo once, serve on :5000
run: venv
	$(FLASK) db upgrade
	$(FLASK) autotrack seed-demo --if-empty
	@echo "AutoTrack on http://$(HOST):$(PORT)/"
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: set up, bring up what the tests talk to (Dovecot, Redis: tests/services.sh), run the
## suite (SQLite; MariaDB with TEST_DATABASE_URL=mysql+pymysql://…)
test: dev-venv
	bash tests/services.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make fuzz-api: schemathesis over every API operation against the live app (FUZZ_ARGS="--max-examples 60")
fuzz-api: dev-venv
	$(BIN)/python tests/api/fuzz.py $(FUZZ_ARGS)

## make test-browser: the end-to-end tests in Debian's Chromium (installed by tests/services.sh as root)
test-browser: dev-venv
	bash tests/services.sh browser
	$(BIN)/python -m pytest -m browser tests/browser $(PYTEST_ARGS)

## make check: the models and the migrations agree
check: venv
	$(FLASK) db check

clean:
	rm -rf $(VENV) .pytest_cache
