# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_TIMEOUT ?= 3000

.PHONY: venv demo test lint unit bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## demo: build the three shared layers for every variant and print the table
demo: venv
	$(VENV)/bin/layersmith build

## lint: ruff + mypy (strict) over the library
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## test: lint, then every test tier (unit, functional, integration); real builds need PyPI
test: venv lint
	timeout $(PYTEST_TIMEOUT) $(PY) -m pytest -q -p no:cacheprovider tests

unit: venv
	$(PY) -m pytest -q tests/unit

bench: venv
	$(PY) bench/layers.py

clean:
	rm -rf $(VENV) .layersmith .pytest_cache .mypy_cache .ruff_cache
