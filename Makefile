# Two commands on a fresh machine with only Python: `make test` and `make report`.
# torch is pinned and installed first: this machine carries a CPU build of torch 2.13.0, whereas an unpinned
# `torch` requirement could pull a multi-GB CUDA build. Every other package is pinned by constraints.txt, so that a
# fresh clone renders the committed reports/ byte for byte.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  ?= torch==2.13.0

.PHONY: test test-fast report lint benchmark mutants clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest tests verify theory simulate discover

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" tests verify theory simulate discover

report: $(STAMP)
	$(VENV)/bin/lawbook report

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

benchmark: $(STAMP)
	$(PY) benchmarks/simulate_throughput.py
	$(PY) benchmarks/threads.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/equivalence.py

# Mutation testing (slow: hours for the whole tree on one worker; not part of `test`). Runs mutmut on [tool.mutmut]
# of pyproject.toml, merges the results into the committed ledger tools/mutants_results/ and writes reports/mutants.md
# from it. Narrow it with MUTANTS_ARGS, e.g.
#   make mutants MUTANTS_ARGS="--paths theory/modes.py --tests tests/test_theory.py verify/test_modes.py theory/modes.py"
MUTANTS_ARGS ?=
mutants: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) tools/mutants.py run $(MUTANTS_ARGS)
	$(PY) tools/mutants.py report --command "make mutants MUTANTS_ARGS='$(MUTANTS_ARGS)'"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info mutants
