# Fangkong — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QUICK ?=

.PHONY: demo test check lint format typecheck pytest bench fuzz messages compilemessages install clean-demo browsers screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install when the project's dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) node_modules/.package-lock.json compilemessages

compilemessages: $(STAMP)
	cd fangkong && ../$(BIN)/fangkong compilemessages --ignore=.venv --ignore=node_modules -v 0

messages: $(STAMP)
	cd fangkong && ../$(BIN)/fangkong makemessages -l zh_Hans -l en --ignore=tests --ignore=conftest.py --no-obsolete
	cd fangkong && ../$(BIN)/fangkong makemessages -d djangojs -l zh_Hans -l en --ignore=tests --ignore=conftest.py --no-obsolete

# Build the demo city (about 20,000 residents) and serve it at http://127.0.0.1:8000
demo: install
	$(BIN)/fangkong demo

# Every module's pages as the demo logins, in both languages, in Debian's Chromium:
# PNGs under var/screenshots/; fails on console errors, failed requests, internal
# codes in the visible text or a map without its base layer.
screenshots: install
	$(BIN)/fangkong screenshots

# Lint, types, migrations and the whole test suite (on PostgreSQL if DATABASE_URL says so).
test: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy fangkong bench
	$(BIN)/fangkong makemigrations --check --dry-run
	$(BIN)/pytest -n 2 --dist loadfile

check: test

# The API fuzz of `make test` at length: many valid and invalid requests per
# operation and role (FUZZ=N examples of each), asserting no 5xx; prints the figures.
FUZZ ?= 25
fuzz: install
	FANGKONG_FUZZ_EXAMPLES=$(FUZZ) $(BIN)/pytest -p no:randomly -s -q fangkong/core/tests/test_api_fuzz.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/fangkong bench $(if $(QUICK),--quick,)
