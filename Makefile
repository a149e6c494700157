# `make check`: the conformance report for the reference implementation (the main job).
# `make test`: lint, type-check, the test suite and the docs build, on the default Python.
# `make first-run`: what a new user meets, from the wheel (see below).
# All create .venv on first use and reuse it afterwards.
# `make test-pythons`: the test suite and the conformance report on every supported Python
# (PYTHONS, each found on PATH or under pyenv; a missing one fails), in .venv-3.X each.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHONS ?= 3.10 3.11 3.12 3.13
export HYPOTHESIS_PROFILE ?= ci

.PHONY: check test test-pythons lint typecheck pytest docs bench bench-quick first-run anyio-suite clean

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

test-pythons:
	PYTHONS="$(PYTHONS)" tools/test-pythons

# The wheel, installed with its check extra into a fresh venv (from the package index pip is
# configured with), checks a target module in a fresh folder by `streamspec check` and by plain
# `pytest` (the ini way), and both must run on asyncio and trio.
FIRST_RUN := build/first-run
first-run: $(STAMP)
	rm -rf $(FIRST_RUN)
	mkdir -p $(FIRST_RUN)/project
	$(BIN)/python -m pip wheel --quiet --no-deps -w $(FIRST_RUN)/wheel .
	$(PYTHON) -m venv $(FIRST_RUN)/venv
	$(FIRST_RUN)/venv/bin/pip install --quiet "$$(ls $(FIRST_RUN)/wheel/streamspec-*.whl)[check]" pytest
	echo "from streamspec.conformance.examples.socketpair import target" > $(FIRST_RUN)/project/mymod.py
	printf '[pytest]\nstreamspec_target = mymod:target\nstreamspec_roles = byte\n' \
		> $(FIRST_RUN)/project/pytest.ini
	cd $(FIRST_RUN)/project && ../venv/bin/streamspec check mymod:target --role byte -q > check.txt
	grep -x '  backends:   asyncio, trio' $(FIRST_RUN)/project/check.txt
	cd $(FIRST_RUN)/project && ../venv/bin/pytest -v -p no:cacheprovider > pytest.txt
	grep 'mymod.py::streamspec\[BYTE-INTACT-trio\] PASSED' $(FIRST_RUN)/project/pytest.txt
	grep 'mymod.py::streamspec\[BYTE-INTACT-asyncio\] PASSED' $(FIRST_RUN)/project/pytest.txt

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

# AnyIO 4.16's own stream tests against streamspec (downloads AnyIO's sdist once; ~10 s).
anyio-suite: $(STAMP)
	$(BIN)/python tests/anyio_suite/run.py

clean:
	rm -rf $(VENV) $(addprefix $(VENV)-,$(PYTHONS)) build .mypy_cache .ruff_cache .hypothesis
