# Assembly Engine — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.js web/package.json web/package-lock.json
# HOST/PORT given to make win; otherwise `serve` takes ENGINE_HOST/ENGINE_PORT (default
# 127.0.0.1:8000) from the environment like every other setting.
HOST ?=
PORT ?=
# Test processes of `make test` (pytest-xdist), each running whole modules: CI's machine
# has 2 cores, and one pytest process keeps only about one of them busy.
TEST_WORKERS ?= 2

.PHONY: run test test-fast lint install web browser postgresql official-library bench cluster clean dist deb

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(WEB_BUILD): web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build --silent

web: $(WEB_BUILD)

browser:
	tools/ensure_chromium.sh

postgresql:
	tools/ensure_postgresql.sh

run: $(STAMP) web
	$(VENV)/bin/assemblies serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: $(STAMP) web browser postgresql
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=20

# The inner loop: unit, storage-contract and service tests (no engine process, no browser).
FAST_TESTS := tests/storage tests/services tests/assemblies tests/test_docs.py tests/test_stands_alone.py

test-fast: $(STAMP) postgresql
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(FAST_TESTS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests tools bench
	$(VENV)/bin/ruff check src tests tools bench
	$(VENV)/bin/mypy

# OFFICIAL_SIGNING_KEY=path/to/private-key signs the build; OFFICIAL_LIBRARY is the staging
# root it (re)builds (Docs/official-library.md).
OFFICIAL_LIBRARY ?= Data/Engine/Assemblies
official-library: $(STAMP)
	$(PY) tools/build_official_library.py --out "$(OFFICIAL_LIBRARY)"
	$(if $(OFFICIAL_SIGNING_KEY),$(VENV)/bin/assemblies official sign --key "$(OFFICIAL_SIGNING_KEY)" --root "$(OFFICIAL_LIBRARY)")

bench: $(STAMP) postgresql
	$(PY) bench/run.py

cluster: $(STAMP) web postgresql
	$(PY) tools/try_cluster.py

# The wheel and sdist carry the built UI and the official library (setup.py, Docs/deploying.md).
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
WHEEL := dist/assembly_engine-$(VERSION)-py3-none-any.whl

dist: $(STAMP) web
	rm -rf build/lib dist/assembly_engine-$(VERSION)*
	$(PY) -m build --outdir dist .

deb: dist
	tools/ensure_deb_tools.sh
	$(PY) tools/build_deb.py --wheel $(WHEEL) --out dist

clean:
	rm -rf $(VENV) build dist *.egg-info web/dist web/node_modules
