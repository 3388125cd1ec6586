# Two entry points for a fresh machine (see README Quickstart):
#   make demo   set up, then run the main job on embedded defaults
#   make test   set up, then run the test suite
# Setup is idempotent: the virtualenv is rebuilt only when pyproject.toml changes,
# and system packages are installed only when missing.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: setup demo test bench clean
setup: $(STAMP)

$(STAMP): pyproject.toml scripts/system-packages.sh
	bash scripts/system-packages.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(VENV)/bin/cauce demo

test: setup
	$(VENV)/bin/python -m pytest

bench: setup
	$(VENV)/bin/python benchmarks/etl_overhead.py
	$(VENV)/bin/python benchmarks/handlers_throughput.py
	$(VENV)/bin/python benchmarks/statemachines_overhead.py

clean:
	rm -rf $(VENV) .cauce
