# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_TIMEOUT ?= 3000
# The Debian sysroots that run the runtimes/architectures this machine's Pythons cannot (arm64 under
# qemu, python3.13): outside the test cache that `make test` wipes, so they are fetched once.
export LAYERSMITH_SYSROOTS ?= $(CURDIR)/.layersmith/cache/sysroots

.PHONY: venv demo test lint unit fuzz bench clean runtimes

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

LS := $(VENV)/bin/layersmith

## runtimes: prepare the Debian sysroots (arm64 python3.11, x86_64 + arm64 python3.13) and qemu; idempotent
runtimes: venv
	$(LS) runtimes fetch

## demo: build every layer variant, plan + check dev and prod, invoke every example function
demo: venv runtimes
	$(LS) runtimes list
	$(LS) build
	$(LS) plan --stack dev
	$(LS) plan --stack prod
	$(LS) check --stack dev
	$(LS) check --stack prod
	$(LS) invoke sales-report
	$(LS) invoke ingest-orders
	$(LS) invoke partner-digest --stack consumer
	@echo "thumbnail-index is python3.13/arm64: it runs on Debian's arm64 CPython 3.13 under qemu:"
	$(LS) invoke thumbnail-index

## lint: ruff over everything; mypy (strict) over the library and the code the layers ship
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	cd layers/utils/src && $(CURDIR)/$(VENV)/bin/mypy --strict --no-incremental shared_utils
	cd layers/monitoring/src && $(CURDIR)/$(VENV)/bin/mypy --strict --no-incremental shared_monitoring

## test: lint, then every test tier (unit, functional, integration); real builds need PyPI, the sysroots Debian
# One fresh build cache for the whole run: every tier reuses the repo's layer builds. The sysroots are
# prepared first, and LAYERSMITH_REQUIRE_RUNTIMES makes one that cannot run a failure, not a skip.
# -rs lists every skip with its reason: the variants not executed here are named there.
test: venv lint runtimes
	rm -rf .layersmith/test-cache
	@# pytest's exit 5 means no test ran: a failure, not a pass. timeout guards hanging mock runs.
	LAYERSMITH_CACHE_DIR=$(CURDIR)/.layersmith/test-cache LAYERSMITH_REQUIRE_RUNTIMES=1 timeout $(PYTEST_TIMEOUT) \
	  $(PY) -m pytest -q -rs -p no:cacheprovider tests; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$code

unit: venv
	$(PY) -m pytest -q tests/unit

## fuzz: the model-based tests (tests/properties) with many more generated fleets and fresh randomness
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider tests/properties

## bench: naive pip+zip vs layersmith and plan scaling (bench/layers.py), then the real peers,
## Chalice and the SAM CLI, in a bench-only virtualenv (bench/peers.py). Long: ~10 minutes.
bench: venv
	$(PY) bench/layers.py
	$(PY) bench/peers.py

clean:
	rm -rf $(VENV) .layersmith .pytest_cache .mypy_cache .ruff_cache
