# Two commands for a fresh machine: `make demo` and `make test`.
# The tests run on every core (pytest-xdist, a test file per worker so that module
# fixtures are built once); each test has its own folders and ports.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/insyn: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

install: $(BIN)/insyn

demo: $(BIN)/insyn
	$(BIN)/insyn demo

test: $(BIN)/insyn
	$(BIN)/python -m pytest -n auto --dist loadfile

clean:
	rm -rf $(VENV) data/demo data/warehouse build dist
