# Two entry points for a fresh machine (see README Quickstart):
#   make demo   set up, then run the main job on embedded defaults
#   make test   set up, then run the test suite
# Setup is idempotent: the virtualenv is rebuilt only when pyproject.toml changes,
# and system packages are installed only when missing.
PYTHON ?= python3
VENV   := .venv
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: setup demo test outside-in bench clean
setup: $(STAMP)

$(STAMP): pyproject.toml scripts/system-packages.sh
	bash scripts/system-packages.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# checkov (infra security checks in the tests) pins packaging<24, which pytest cannot use: it gets
# a virtualenv of its own, installed only for the tests.
$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

demo: setup
	$(VENV)/bin/cauce demo

test: setup $(CHECKOV_STAMP)
	$(VENV)/bin/python -m pytest

# Cauce as a user gets it: the wheel in a fresh virtualenv, a `cauce init` project, every command in it
outside-in: setup
	$(VENV)/bin/python -m pytest -m outside_in -rA -s

# Every benchmark, each writing its rows to .cauce/bench/, then one table of them all (benchmarks/summary.py).
# `make bench BENCH_ARGS=--quick` checks that they run, on small inputs (the figures then mean little).
BENCH_ARGS ?=
BENCHMARKS := handlers_throughput statemachines_overhead etl_overhead analytics_throughput analytics_rcf glue_scripts local_stack local_endpoint test_loop
bench: setup
	rm -rf .cauce/bench
	for name in $(BENCHMARKS); do $(VENV)/bin/python benchmarks/$$name.py $(BENCH_ARGS) || exit 1; done
	$(VENV)/bin/python benchmarks/summary.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .cauce
