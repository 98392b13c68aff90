# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_TIMEOUT ?= 3000
# The Debian sysroots that run the runtimes/architectures this machine's Pythons cannot (arm64 under
# qemu, python3.13): outside the test cache that `make test` wipes, so they are fetched once.
export LAYERSMITH_SYSROOTS ?= $(CURDIR)/.layersmith/cache/sysroots

.PHONY: venv demo test lint unit bench bench-report browser clean runtimes mutate

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

## browser: headless Chromium for the report's browser test (Debian's chromium-headless-shell), installed
## with apt-get when missing. Without apt-get (not Debian) it says so and the test skips, except in CI
## (CI set), where it fails: CI starts from a fresh machine and must test the report in a browser.
BROWSER_BIN := $(firstword $(foreach b,chromium-headless-shell chromium chromium-browser,$(shell command -v $(b) 2>/dev/null)))
browser:
ifeq ($(BROWSER_BIN),)
	@if command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium-headless-shell; \
	elif [ -n "$$CI" ]; then echo "make browser: no apt-get to install chromium-headless-shell, and CI is set" >&2; exit 1; \
	else echo "make browser: no apt-get here; install Chromium yourself, or the report's browser test is skipped"; fi
else
	@echo "browser: $(BROWSER_BIN)"
endif

## test: lint, then every test tier (unit, functional, integration); real builds need PyPI, the sysroots Debian
# One fresh build cache for the whole run: every tier reuses the repo's layer builds. The sysroots are
# prepared first, and LAYERSMITH_REQUIRE_RUNTIMES makes one that cannot run a failure, not a skip.
# -rs lists every skip with its reason: the variants not executed here are named there.
test: venv lint runtimes browser
	rm -rf .layersmith/test-cache
	@# pytest's exit 5 means no test ran: a failure, not a pass. timeout guards hanging mock runs.
	LAYERSMITH_CACHE_DIR=$(CURDIR)/.layersmith/test-cache LAYERSMITH_REQUIRE_RUNTIMES=1 timeout $(PYTEST_TIMEOUT) \
	  $(PY) -m pytest -q -rs -p no:cacheprovider tests; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$code

unit: venv
	$(PY) -m pytest -q tests/unit

## bench: naive pip+zip vs layersmith and plan scaling (bench/layers.py), then the real peers,
## Chalice and the SAM CLI, in a bench-only virtualenv (bench/peers.py). Long: ~10 minutes.
bench: venv
	$(PY) bench/layers.py
	$(PY) bench/peers.py

## mutate: mutation testing of the safety-critical modules ([tool.mutmut] in pyproject.toml); prints the
## score per module and the survivors. Long: ~15 minutes on 2 cores. Not part of `make test`.
MUTATE_MIN ?= 90
mutate: venv
	rm -rf mutants && mkdir -p .layersmith
	LAYERSMITH_CACHE_DIR=$(CURDIR)/.layersmith/mutate-cache $(VENV)/bin/mutmut run > .layersmith/mutmut.log 2>&1 \
	  || { tail -30 .layersmith/mutmut.log; exit 1; }
	$(PY) scripts/mutation_report.py --mutmut $(VENV)/bin/mutmut --min $(MUTATE_MIN)
## bench-report: the report for a synthetic 100 accounts x 17 regions inventory: written in <= 5 s, opened
## in headless Chromium in <= 1 s (bench/report.py); --screenshot docs/report.png redraws the README's picture
bench-report: venv browser
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) .layersmith .pytest_cache .mypy_cache .ruff_cache mutants
