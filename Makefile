# `make check`: the conformance report for the reference implementation (the main job).
# `make test`: lint, type-check, the test suite and the docs build.
# Both create .venv on first use and reuse it afterwards.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export HYPOTHESIS_PROFILE ?= ci

.PHONY: check test lint typecheck pytest docs bench bench-quick clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,docs]'
	touch $(STAMP)

check: $(STAMP)
	$(BIN)/streamspec check

test: lint typecheck pytest docs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

docs: $(STAMP)
	$(BIN)/sphinx-build -q -W --keep-going -b html docs build/docs

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache .hypothesis
