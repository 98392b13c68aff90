# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_TIMEOUT ?= 3000
# The Debian sysroots that run the runtimes/architectures this machine's Pythons cannot (arm64 under
# qemu, python3.13): outside the test cache that `make test` wipes, so they are fetched once.
export LAYERSMITH_SYSROOTS ?= $(CURDIR)/.layersmith/cache/sysroots
# The venv's modules are compiled to bytecode once, at their first import, as with Python's default:
# with PYTHONDONTWRITEBYTECODE set (this kind of machine sets it) every command compiled pulumi and
# pulumi_aws again (plans and checks ~1.5x as long, measured here). Only the interpreters make starts
# are concerned: layer builds compile their bytecode explicitly and ship no host .pyc (slim, tree
# excludes), and invoke runs handlers on read-only trees.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv demo test lint docs unit fuzz bench bench-report bench-fleet browser clean runtimes mutate

# uv, pinned in requirements.txt, installs the venv (pip took ~100 s on a fresh 2-core machine). It is
# bootstrapped into a pip-less venv by the host's pip (`pip --python`, pip >= 22.3), or by the venv's
# own ensurepip'd pip where the host's pip is missing or older. tools/uv_pip.py hands uv the indexes,
# find-links, constraints and certificate this machine's pip is configured with (uv reads no pip.conf).
# pip itself is installed too (pinned in requirements-dev.txt): `pip install -e .` and Pulumi's
# `toolchain: pip` keep working in this venv.
UV_PIN = $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements.txt)
UV := $(VENV)/bin/uv

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check uv==$(UV_PIN) 2>/dev/null \
	  || { $(PY) -m ensurepip --default-pip >/dev/null && $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_PIN); }
	$(PYTHON) tools/uv_pip.py $(UV) pip install --quiet --python $(PY) -r requirements-dev.txt
	$(PYTHON) tools/uv_pip.py $(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

LS := $(VENV)/bin/layersmith

## runtimes: prepare, side by side, the Debian sysroots the project's layers and functions need (here: arm64
## python3.11, x86_64 + arm64 python3.13) and qemu; idempotent
runtimes: venv
	$(LS) runtimes fetch

## demo: build every layer variant, plan + check dev and prod, invoke every example function. The sysroot the
## functions need (thumbnail-index: python3.13/arm64, Debian's CPython under qemu; its bytecode compiled natively by
## its twin trixie-amd64, fetched with it) is fetched in the background
## from the start (`runtimes fetch --functions`, log in .layersmith/demo-runtimes.log), beside the build, the
## plans and the checks; the invoke that needs it waits for it (the sysroot's lock) and finds it prepared. If
## that fetch fails, the invoke tries once more itself and says why in one line. One shell: the fetch is waited
## for before the recipe ends, and stopped if a step fails. Each step prints its duration
## ("make demo: <command> took N.N s"), which bench/first_run.py reads.
DEMO_FETCH_LOG := .layersmith/demo-runtimes.log
demo: venv
	@set -e; mkdir -p .layersmith; \
	  run() { echo "$$*"; s=$$(date +%s%N); "$$@"; ms=$$(( ($$(date +%s%N) - s) / 1000000 )); \
	    printf 'make demo: %s took %d.%d s\n' "$${*#$(LS) }" $$((ms / 1000)) $$((ms % 1000 / 100)); }; \
	  run $(LS) runtimes list; \
	  $(LS) runtimes fetch --functions > $(DEMO_FETCH_LOG) 2>&1 & fetch=$$!; \
	  trap 'kill $$fetch 2>/dev/null || true' EXIT; \
	  echo "(in the background: $(LS) runtimes fetch --functions > $(DEMO_FETCH_LOG))"; \
	  run $(LS) build; \
	  run $(LS) plan --stack dev; \
	  run $(LS) plan --stack prod; \
	  run $(LS) check --stack dev; \
	  run $(LS) check --stack prod; \
	  run $(LS) invoke sales-report; \
	  run $(LS) invoke ingest-orders; \
	  run $(LS) invoke partner-digest --stack consumer; \
	  echo "thumbnail-index is python3.13/arm64: it runs on Debian's arm64 CPython 3.13 under qemu:"; \
	  run $(LS) invoke thumbnail-index; \
	  wait $$fetch || echo "note: the background sysroot fetch failed; see $(DEMO_FETCH_LOG)"; trap - EXIT

## lint: ruff over everything; one mypy run (strict, incremental with its cache) over the library, the
## code the layers ship and tools/ (pyproject.toml's [tool.mypy] files)
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

## docs: the manual (mkdocs.yml, pages under docs/) built with --strict into .layersmith/site: a broken
## link or anchor, or a page missing from the nav, fails the build. Offline: no fonts or plugins that fetch.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

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
# One fresh build cache for the whole run: every tier reuses the repo's layer builds.
# The sysroots' fetch (`runtimes fetch --all`: Debian downloads, then qemu-run precompiling) starts as
# soon as the venv exists, in the background, and runs beside lint, browser (apt-get) and the tests:
# a test that needs a sysroot takes that sysroot's lock (Sysroots.ensure), so it waits for the fetch
# and finds it prepared. LAYERSMITH_REQUIRE_RUNTIMES makes one that cannot run a failure, not a skip;
# a failed fetch fails the run too. Its log is printed at the end, and each step's duration.
# -rs lists every skip with its reason: the variants not executed here are named there.
# The tests run on every core (pytest-xdist, one group per worker at a time: a group is a file, so
# module fixtures run once, or a test's own xdist_group, as the docker stand-in's builds per userland),
# the longest first (tests/run_order.py; --no-loadscope-reorder keeps that order); the first
# worker builds the repo's layers under a lock and the others find them in the cache
# (tests/conftest.py). Tests marked `serial` (wall-clock bounds, processes racing each other) run
# afterwards, alone.
PYTEST_WORKERS ?= auto
# The files that hold `serial` tests: collecting only them, not the whole tree again, saves the
# serial step ~5 s of imports (measured here).
SERIAL_FILES = $(shell grep -rlE 'mark\.serial' tests --include='test_*.py')
PYTEST := LAYERSMITH_CACHE_DIR=$(CURDIR)/.layersmith/test-cache LAYERSMITH_REQUIRE_RUNTIMES=1 timeout $(PYTEST_TIMEOUT) \
  $(PY) -m pytest -q -rs -p no:cacheprovider
FETCH_LOG := .layersmith/runtimes-fetch.log
# Not $(MAKE) itself in the recipe: make runs a recipe line naming $(MAKE) even under `make -n`, and
# this one runs the whole suite.
SUBMAKE = $(MAKE)
# `step NAME START`: one line of the run's breakdown (seconds since START).
STEP = step() { echo "make test: $$1 took $$(( $$(date +%s) - $$2 )) s"; }
test: venv
	@# Every sysroot, not only the declared targets': the suite also runs the py313-x86_64 variants on
	@# Debian's own CPython 3.13 where a host 3.13 exists (test_variants_execute.py).
	@$(STEP); mkdir -p .layersmith; rm -rf .layersmith/test-cache; t0=$$(date +%s); \
	  $(LS) runtimes fetch --all --image-tools > $(FETCH_LOG) 2>&1 & fetch=$$!; \
	  trap 'kill $$fetch 2>/dev/null' EXIT; \
	  $(SUBMAKE) --no-print-directory -j2 -O lint docs browser || exit 1; step "lint + docs + browser (beside the fetch)" $$t0; \
	  t1=$$(date +%s); $(PYTEST) -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not serial" tests; \
	  code=$$?; step "pytest -n $(PYTEST_WORKERS)" $$t1; \
	  wait $$fetch; fetched=$$?; trap - EXIT; echo "--- runtimes fetch --all (in the background):"; cat $(FETCH_LOG); \
	  if [ $$fetched -ne 0 ]; then echo "runtimes fetch --all failed (exit $$fetched)" >&2; exit 1; fi; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; [ $$code -eq 0 ] || exit $$code; \
	  t2=$$(date +%s); $(PYTEST) -m serial $(SERIAL_FILES); code=$$?; step "pytest -m serial" $$t2; \
	  step "make test after the venv" $$t0; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no serial tests" >&2; exit 1; fi; exit $$code

unit: venv
	$(PY) -m pytest -q tests/unit

## fuzz: the model-based tests (tests/properties) with many more generated fleets and fresh randomness
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider tests/properties

## bench: naive pip+zip vs layersmith and plan scaling (bench/layers.py), then the real peers,
## Chalice and the SAM CLI, in a bench-only virtualenv (bench/peers.py), then the first run: `make demo`'s
## steps timed in a fresh clone with empty caches (bench/first_run.py; `--ci` adds `bash .ci/run`). Long: ~15 minutes.
bench: venv
	$(PY) bench/layers.py
	$(PY) bench/peers.py
	$(PY) bench/first_run.py
	$(PY) bench/scan_fleet.py

## mutate: mutation testing of the safety-critical modules ([tool.mutmut] in pyproject.toml); prints the
## score per module and the survivors. Long: about an hour on 2 cores. Not part of `make test`.
MUTATE_MIN ?= 90
mutate: venv
	rm -rf mutants && mkdir -p .layersmith
	LAYERSMITH_CACHE_DIR=$(CURDIR)/.layersmith/mutate-cache $(VENV)/bin/mutmut run > .layersmith/mutmut.log 2>&1 \
	  || { tail -30 .layersmith/mutmut.log; exit 1; }
	$(PY) scripts/mutation_report.py --mutmut $(VENV)/bin/mutmut --min $(MUTATE_MIN)

## bench-report: the report for a synthetic 100 accounts x 17 regions inventory: written in <= 5 s, opened
## in headless Chromium in <= 1 s (bench/report.py); --screenshot docs/report.png redraws the manual's picture
bench-report: venv browser
	$(PY) bench/report.py

## bench-fleet: only the fleet section: inventory/prune over accounts × regions behind a latency and
## throttle proxy, sequential vs concurrent (bench/scan_fleet.py; FLEET_SIZES=100x17 for the goal size)
FLEET_SIZES ?= 5x2,10x3,20x3
bench-fleet: venv
	$(PY) bench/scan_fleet.py --sizes $(FLEET_SIZES)

clean:
	rm -rf $(VENV) .layersmith .pytest_cache .mypy_cache .ruff_cache mutants
