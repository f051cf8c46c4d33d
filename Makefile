# Redress: `make run` to try it, `make test` to check it. See README.md.
#
#   make setup        what running needs: system packages (apt, when missing), .venv, npm
#                     packages, htmx copied to static/vendor/, compiled translations
#   make test-setup   setup + what testing needs (Chromium, Java, PostgreSQL 15)
#   make run          setup + migrate + demo data + web server, outbox worker, SMTP sink,
#                     a local IMAP server (Dovecot) and the mail fetcher (web on PORT=5000,
#                     sink on SINK_PORT, default PORT+3025, IMAP on IMAP_PORT, default
#                     PORT+4993: a second checkout runs beside the first with make run PORT=5001)
#   make serve        setup + migrate + what production runs, in the foreground: gunicorn
#                     (WORKERS=2, on 127.0.0.1:PORT, default 8000, or BIND=address), the
#                     outbox worker, and the mail fetcher when MAIL_INBOX_HOST is set; needs
#                     DATABASE_URL (or ALLOW_SQLITE=1). Servers: deploy/, docs/deployment.md
#   make test         test-setup + ruff + pytest on SQLite (browser tests included)
#                     + pytest on a throwaway PostgreSQL 15
#   make bench        setup + the load generator (wrk) + the benchmarks in tests/bench/bench_*.py
#   make lint | clean | distclean

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi.py

VENV_STAMP := $(VENV)/.redress-installed
NODE_STAMP := node_modules/.redress-installed
HTMX := static/vendor/htmx.min.js
CATALOGUES := $(wildcard translations/*/LC_MESSAGES/messages.po)

.PHONY: help setup test-setup system-packages test-system-packages bench-system-packages \
        run-system-packages \
        python-deps node-deps assets translations run serve test bench lint clean \
        distclean

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

setup: system-packages python-deps assets translations

test-setup: test-system-packages setup

system-packages:
	@bash scripts/system_packages.sh

test-system-packages:
	@bash scripts/system_packages.sh --test

run-system-packages:
	@bash scripts/system_packages.sh --run

bench-system-packages:
	@bash scripts/system_packages.sh --bench

python-deps: $(VENV_STAMP)

# Re-installs only when pyproject.toml changed (or the venv is new).
$(VENV_STAMP): pyproject.toml | system-packages
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

node-deps: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

assets: $(HTMX)

$(HTMX): $(NODE_STAMP)
	@mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Tolerant while no catalogue exists; once one does, a broken catalogue fails the build.
translations: $(VENV_STAMP)
ifeq ($(strip $(CATALOGUES)),)
	@echo "translations: no catalogue in translations/*/LC_MESSAGES/ yet; nothing to compile"
else
	@$(BIN)/pybabel -q compile -d translations
	@for po in $(CATALOGUES); do \
		[ "$${po%.po}.mo" -nt "$$po" ] || { echo "translations: $$po was not compiled" \
			"(a catalogue marked fuzzy is skipped; remove the header's fuzzy flag)" >&2; exit 1; }; \
	done
endif

run: run-system-packages setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/python scripts/run_dev.py --port $(PORT)

# PORT, WORKERS, BIND, DATABASE_URL and ALLOW_SQLITE reach scripts/serve.py from the
# environment or the command line (make serve PORT=8001); PORT's 5000 above is make run's.
serve: setup
	$(BIN)/python scripts/serve.py

test: test-setup
	@bash scripts/run_tests.sh

bench: bench-system-packages setup
	@set -e; shopt -s nullglob; found=0; \
	for file in tests/bench/bench_*.py; do \
		found=1; module=$${file%.py}; module=$${module//\//.}; \
		echo "==== $$module"; $(BIN)/python -m $$module; \
	done; \
	if [ $$found -eq 0 ]; then echo "bench: no tests/bench/bench_*.py yet" >&2; exit 1; fi

lint: python-deps
	$(BIN)/ruff check .

# Build products and caches; never instance/ (your database, uploads and notices).
clean:
	rm -rf static/vendor .pytest_cache .ruff_cache build *.egg-info $(VENV_STAMP) $(NODE_STAMP)
	find translations -name '*.mo' -delete
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './node_modules/*' \
		-prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
