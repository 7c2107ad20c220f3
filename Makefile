# Two commands for a fresh machine: `make demo` and `make test`.
# The tests run on every core (pytest-xdist, a test file per worker so that module
# fixtures are built once); each test has its own folders and ports.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

AXE = node_modules/axe-core/axe.min.js

.PHONY: demo test install clean

$(BIN)/insyn: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

# axe-core for the browser tests' accessibility check, at the version package-lock.json pins
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/insyn $(AXE)

demo: $(BIN)/insyn
	$(BIN)/insyn demo

test: $(BIN)/insyn $(AXE)
	$(BIN)/python -m pytest -n auto --dist loadfile --durations=25

clean:
	rm -rf $(VENV) node_modules data/demo data/warehouse build dist
