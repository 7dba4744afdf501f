# Two entry points for newcomers: `make demo` runs the main job, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS := tests/e2e/js
JS_STAMP := $(JS)/node_modules/.installed

.PHONY: demo test lint bench clean vendor-refresh

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
	$(BIN)/pytest -n auto --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/patterns.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/alerts.py

# Maintainers only: fetch the console's pinned front-end files with `npm pack` and copy them
# into the package; then update the sha256 column of static/vendor/VENDOR.md from the output.
VENDOR := src/logsieve/console/static/vendor
HTMX_VERSION := 4.0.1
UPLOT_VERSION := 1.6.32
vendor-refresh:
	@tmp=$$(mktemp -d) && cd $$tmp && \
	npm pack --silent htmx.org@$(HTMX_VERSION) uplot@$(UPLOT_VERSION) >/dev/null && \
	mkdir htmx uplot && tar xzf htmx.org-$(HTMX_VERSION).tgz -C htmx && \
	tar xzf uplot-$(UPLOT_VERSION).tgz -C uplot && cd - >/dev/null && \
	cp $$tmp/htmx/package/dist/htmx.min.js $(VENDOR)/htmx-$(HTMX_VERSION).min.js && \
	cp $$tmp/htmx/package/dist/ext/hx-sse.min.js $(VENDOR)/hx-sse-$(HTMX_VERSION).min.js && \
	cp $$tmp/htmx/package/LICENSE $(VENDOR)/htmx.LICENSE && \
	cp $$tmp/uplot/package/dist/uPlot.iife.min.js $(VENDOR)/uPlot-$(UPLOT_VERSION).iife.min.js && \
	cp $$tmp/uplot/package/dist/uPlot.min.css $(VENDOR)/uPlot-$(UPLOT_VERSION).min.css && \
	cp $$tmp/uplot/package/LICENSE $(VENDOR)/uPlot.LICENSE && \
	rm -rf $$tmp && cd $(VENDOR) && sha256sum $$(ls | grep -v VENDOR.md)

clean:
	rm -rf $(VENV) $(JS)/node_modules .pytest_cache .ruff_cache .hypothesis
