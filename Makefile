# contentintel: `make demo` serves the synthetic catalog; `make test` runs the suite.
# Both create .venv when missing and install what they need (re-installing only when
# pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint schema bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The ml extra pins torch==2.13.0: pip takes the CPU build from local disk on these machines.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,ml]'
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(BIN)/contentintel demo

test: $(VENV)/.installed-dev
	HF_HUB_OFFLINE=1 $(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

schema: $(VENV)/.installed-base
	$(BIN)/contentintel schema --output schema.graphql

# One benchmark: `make bench BENCH=similarity` (ingest, embed, similarity, audiences, forecast,
# scenes, load); each prints its figures and ratios, nothing is asserted.
BENCH ?= ingest
bench: $(VENV)/.installed-dev
	HF_HUB_OFFLINE=1 $(BIN)/python bench/$(BENCH).py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
