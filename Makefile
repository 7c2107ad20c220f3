# Two commands for a fresh machine: `make demo` and `make test`.
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
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data/demo data/warehouse
