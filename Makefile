# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-browser fuzz-api lint venv dev-venv db check clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the lock files (every package, direct or not, pinned with its hashes), never
# from requirements*.txt directly; those list only what we chose, and `make lock` turns them into
# the locks. A lock that lacks a pin of its requirements file is stale: refuse it rather than
# install something else than what was asked for.
define check_lock
	@for pin in $$(grep -hE '^[A-Za-z0-9]' $(1) | tr 'A-Z' 'a-z' \
	    | sed -e 's/[[:space:];#].*//' -e 's/\[[^]]*\]//' -e ':a' -e 's/^\([a-z0-9-]*\)[._]/\1-/' -e 'ta'); do \
	  grep -qxF "$$pin \\" $(2) || { echo "$(2) does not pin $$pin of $(1): run make lock" >&2; exit 1; }; \
	done
endef

$(VENV)/.runtime: $(BIN)/python requirements.lock
	$(call check_lock,requirements.txt,requirements.lock)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(call check_lock,requirements-dev.txt,requirements-dev.lock)
	bash tests/services.sh build-deps $(BIN)/python  # mysqlclient builds from source
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

## make lock: requirements*.txt -> requirements*.lock (pip-tools in its own venv, Python 3.11, Linux).
## Keeps the transitive pins already locked; LOCK_ARGS=--upgrade moves them all to the newest
## release, LOCK_ARGS="--upgrade-package NAME" just one. The dev lock is constrained by the runtime
## lock, so the packages both hold are pinned alike.
PIP_TOOLS := $(VENV)/pip-tools
PIP_COMPILE := $(PIP_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

$(PIP_TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(PIP_TOOLS)
	$(PIP_TOOLS)/bin/pip install --quiet pip==26.3 pip-tools==7.6.2

lock: $(PIP_TOOLS)/bin/pip-compile
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

## make run: set up, migrate the embedded SQLite database, seed the demo once, serve on :5000
run: venv
	$(FLASK) db upgrade
	$(FLASK) autotrack seed-demo --if-empty
	@echo "AutoTrack on http://$(HOST):$(PORT)/"
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: set up, bring up what the tests talk to (Dovecot, Redis: tests/services.sh), run the
## suite (SQLite; MariaDB with TEST_DATABASE_URL=mysql+pymysql://…, or mysql+mysqldb://… for mysqlclient)
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

## make lint: ruff's lint rules (ruff.toml) and its format check, as CI runs them
lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make check: the models and the migrations agree
check: venv
	$(FLASK) db check

clean:
	rm -rf $(VENV) .pytest_cache
