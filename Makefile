# leonet: the two commands of the README.
#   make run    installs leonet (pinned) into .venv and runs `leonet run` on the built-in default scenario
#   make test   installs the test tools (pinned) and runs lint, type checks and the test suite
#   make web    rebuilds the page of `leonet serve` (web/ -> src/leonet/server/static/, committed; needs node + npm)
#   make mutate mutation testing of the core (tools/mutate.py, docs/testing.md; not part of CI)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint pytest bench mutate web clean

run: $(VENV)/.run-installed
	$(BIN)/leonet run

test: $(VENV)/.test-installed lint pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy

pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench_snapshot.py
	$(BIN)/python benchmarks/bench_dijkstra.py
	$(BIN)/python benchmarks/bench_policy.py

# Mutation testing of the core (tools/mutate.py; long: minutes per module, not in CI). MODULES="router routing"
# limits it to some modules; the table it prints is the one in docs/testing.md.
mutate: $(VENV)/.test-installed
	$(BIN)/python tools/mutate.py $(MODULES)

# The page served by `leonet serve` at / (docs/web.md): npm ci from web/package-lock.json, then Vite writes the
# build into src/leonet/server/static/ (committed, so that installing leonet needs no node).
web:
	cd web && npm ci --no-audit --no-fund && npm run build

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements/run.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements/run.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: requirements/test.txt $(VENV)/.run-installed
	$(BIN)/python -m pip install -q -r requirements/test.txt
	touch $@

clean:
	rm -rf $(VENV) leonet-out .pytest_cache .mypy_cache .ruff_cache web/node_modules test-artifacts
