# Two entry points for newcomers: `make demo` runs the main job, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS := tests/e2e/js
JS_STAMP := $(JS)/node_modules/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The AWS SDK for JavaScript, driven by tests/e2e/test_js_sdk.py.
$(JS_STAMP): $(JS)/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js >= 20) is needed for the tests: tests/e2e/ drive the AWS SDK for JavaScript" >&2; exit 1; }
	npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

# The whole chain on this machine: an account set up through the API, simulated AWS logs in,
# emails, Datadog-style events and an alarm's notifications out (into ./logsieve-demo/,
# emptied on each run). 30 s of traffic, stretched until the alarm has gone ALARM and back.
demo: $(STAMP)
	$(BIN)/logsieve demo --duration 30

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint $(JS_STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/patterns.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/alerts.py

clean:
	rm -rf $(VENV) $(JS)/node_modules .pytest_cache .ruff_cache .hypothesis
