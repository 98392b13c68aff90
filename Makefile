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

LS := $(VENV)/bin/layersmith

## demo: build every layer variant, plan + check dev and prod, invoke every function this machine can run
demo: venv
	$(LS) build
	$(LS) plan --stack dev
	$(LS) plan --stack prod
	$(LS) check --stack dev
	$(LS) check --stack prod
	$(LS) invoke sales-report
	$(LS) invoke ingest-orders
	$(LS) invoke partner-digest --stack consumer
	@echo "thumbnail-index is python3.12/arm64: it runs only with Docker or on such a host; here it is refused:"
	-$(LS) invoke thumbnail-index

## lint: ruff over everything; mypy (strict) over the library and the code the layers ship
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	cd layers/utils/src && $(CURDIR)/$(VENV)/bin/mypy --strict --no-incremental shared_utils
	cd layers/monitoring/src && $(CURDIR)/$(VENV)/bin/mypy --strict --no-incremental shared_monitoring

## test: lint, then every test tier (unit, functional, integration); real builds need PyPI
# One fresh build cache for the whole run: every tier reuses the repo's layer builds.
test: venv lint
	rm -rf .layersmith/test-cache
	@# pytest's exit 5 means no test ran: a failure, not a pass. timeout guards hanging mock runs.
	LAYERSMITH_CACHE_DIR=$(CURDIR)/.layersmith/test-cache timeout $(PYTEST_TIMEOUT) \
	  $(PY) -m pytest -q -p no:cacheprovider tests; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$code

unit: venv
	$(PY) -m pytest -q tests/unit

## bench: naive pip+zip vs layersmith and plan scaling (bench/layers.py), then the real peers,
## Chalice and the SAM CLI, in a bench-only virtualenv (bench/peers.py). Long: ~10 minutes.
bench: venv
	$(PY) bench/layers.py
	$(PY) bench/peers.py

clean:
	rm -rf $(VENV) .layersmith .pytest_cache .mypy_cache .ruff_cache
