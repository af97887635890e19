# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when it is missing.
# `make run` installs only what running the bot needs; `make test` (and `make bench`) add the developer tools.
# `make test` drives the calendar page in Chromium when there is one (`apt install chromium`), and says so when not.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench screenshot clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[slack,discord,s3,postgres]'
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[slack,discord,s3,postgres,dev]'
	touch $(RUN_STAMP) $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/infinipost-bot run

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage adapters app sandbox

test: lint
	$(BIN)/pytest

# The README's picture of the calendar page, drawn by its browser test (needs a Chromium, as `make test` does).
screenshot: $(DEV_STAMP)
	CALENDAR_SCREENSHOT=docs/calendar-page.png $(BIN)/pytest tests/web -k readme

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
