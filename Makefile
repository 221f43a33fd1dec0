# Two promises: `make run` serves the demo on SQLite, `make test` passes the suite — on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app:create_app
# `make run HOST=0.0.0.0 PORT=8080` serves elsewhere; loopback and 5000 unless told.
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint venv db demo serve bench clean ralph

# Ralph, the Learning Record Store the xAPI tests start on loopback, lives in its own venv: its
# pins conflict with the application's. `make test` builds it once (about 20 s).
RALPH_VENV := .venv-ralph
RALPH_STAMP := $(RALPH_VENV)/.installed

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

venv: $(STAMP)

$(RALPH_STAMP): requirements-ralph.txt constraints-ralph.txt
	$(PYTHON) -m venv $(RALPH_VENV)
	$(RALPH_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-ralph.txt -c constraints-ralph.txt
	touch $(RALPH_STAMP)

ralph: $(RALPH_STAMP)

db: $(STAMP)
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask imh content sync
	$(BIN)/flask imh demo --base-url http://$(HOST):$(PORT)

run: demo
	HOST=$(HOST) PORT=$(PORT) bash scripts/run.sh

# Production-style: gunicorn, several workers, PostgreSQL + Redis (needs IMH_SECRET_KEY and IMH_BASE_URL; see README).
serve: $(STAMP)
	bash scripts/serve.sh

# Seeds 10,000 learners on SQLite and writes bench/RESULTS.md (IMH_BENCH_DATABASE_URL for PostgreSQL).
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Load test under make serve: recreates the PostgreSQL database imh_bench_load, starts scripts/serve.sh on
# 127.0.0.1:8765, measures dashboard throughput and 50 concurrent learner journeys (needs Redis). LOAD_ARGS.
.PHONY: load
load: $(STAMP)
	$(BIN)/python bench/load.py $(LOAD_ARGS)

test: $(STAMP) $(RALPH_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(RALPH_VENV) instance
