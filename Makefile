# Two-command quick start: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench golden clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps record which install ran, so a changed pyproject.toml reinstalls.
$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.base

# The bench case `distributed` runs mpiexec: the mpi extra (mpi4py + the MPICH wheel).
$(VENV)/.mpi: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[mpi]'
	touch $@ $(VENV)/.base

run: $(VENV)/.base
	$(BIN)/trainctl train configs/linreg.yaml

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/python -m ruff check trainctl tests bench examples

bench: $(VENV)/.mpi
	$(BIN)/python bench/run.py

# Regenerates the PyTorch golden fixtures; needs torch (pip install torch==2.13.0).
golden: $(VENV)/.base
	$(BIN)/python tests/golden/make_golden.py

clean:
	rm -rf $(VENV) build *.egg-info
