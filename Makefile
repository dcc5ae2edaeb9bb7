# Bookings: `make run` serves the demo, `make test` runs everything. Both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi
PYTEST := $(VENV)/bin/pytest
PORT ?= 5000
GOVUK := static/govuk

.PHONY: run test test-deploy test-systemd test-sqlite test-postgres lint format assets install install-test system-packages clean bench check bandit audit

run: install assets
	$(FLASK) db upgrade
	$(FLASK) bookings demo-data
	@echo
	@echo "Bookings is starting on http://127.0.0.1:$(PORT)"
	@$(PY) -m bookings.demo --print-logins
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/activate setup.cfg
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(PIP) install --quiet -e '.[test]'
	touch $@

# Byte-compiled on every install (a release), as the user who owns the code: the service user cannot
# write __pycache__, so every timer run of the sweep or mail would otherwise compile the app again.
install: $(VENV)/.installed
	@$(PY) -m compileall -q bookings config.py wsgi.py
install-test: $(VENV)/.installed-test

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(GOVUK)/govuk-frontend.min.js: node_modules/.package-lock.json
	rm -rf $(GOVUK) && mkdir -p $(GOVUK)
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(GOVUK)/
	cp -r node_modules/govuk-frontend/dist/govuk/assets $(GOVUK)/assets

static/css/app.css: static/src/app.scss node_modules/.package-lock.json
	mkdir -p static/css
	node_modules/.bin/sass --no-source-map --style=compressed --quiet --load-path=node_modules static/src/app.scss $@

assets: $(GOVUK)/govuk-frontend.min.js static/css/app.css

system-packages:
	@bash scripts/ensure-system-packages.sh

lint: install-test
	$(VENV)/bin/ruff check bookings tests config.py wsgi.py bench
	$(VENV)/bin/ruff format --check bookings tests config.py wsgi.py bench

format: install-test
	$(VENV)/bin/ruff check --fix bookings tests config.py wsgi.py bench
	$(VENV)/bin/ruff format bookings tests config.py wsgi.py bench

# The whole suite: lint, then every test on SQLite, then every database test on PostgreSQL.
test: system-packages install-test assets lint test-sqlite test-postgres

test-sqlite: install-test assets
	$(PYTEST) -n 2 --db=sqlite

test-postgres: install-test assets
	$(PYTEST) -n 2 --db=postgresql -m "not browser"

# The production topology on this machine (as root): two app hosts in network namespaces, nginx, one
# PostgreSQL, an SMTP sink; a rush, a host killed, PostgreSQL restarted; then the checks (docs/deployment.md).
# docs/deployment.md's one-machine walk-through, command for command, under a real systemd booted in a throwaway
# sandbox of this machine (as root); then nginx, PostgreSQL, the timers, mail, backups and the crontab are checked.
test-systemd: system-packages install-test
	$(PY) deploy/test/run_systemd_test.py

test-deploy: system-packages install-test assets
	$(PY) deploy/test/run_deploy_test.py

# Benchmarks (docs/performance.md): the app under gunicorn on PostgreSQL (fsync on) and SQLite, the framework
# ceiling with wrk in the same run; rewrites docs/performance.md. BENCH_SCALE=quick leaves out the 100x data set.
# Not part of `make test` or CI: it takes minutes and its figures depend on the machine.
bench: system-packages install-test
	$(PY) bench/run.py

# Security gates (docs/security.md): bandit fails on any medium- or high-severity finding in bookings/;
# pip-audit fails on a known vulnerability in the installed environment, once its self-test shows
# the vulnerability service answers (scripts/audit.sh; where it does not, it says loudly that the
# dependencies were not audited, and AUDIT_REQUIRED=1 makes that a failure).
check: bandit audit

bandit: install-test
	$(VENV)/bin/bandit -q -r bookings -ll

audit: install-test
	bash scripts/audit.sh $(VENV)/bin/pip-audit

clean:
	rm -rf $(VENV) node_modules $(GOVUK) static/css .pytest_cache
