# converter: every target that runs Python sets up .venv first when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# torch/torchvision are pinned in constraints.txt: those releases install from local disk.
PIP    := $(BIN)/pip install --constraint constraints.txt

.PHONY: setup run test test-all lint bench ui clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --editable '.[dev]'
	touch $(STAMP)

# The main job on embedded defaults: every starter model through every backend.
run: setup
	$(BIN)/python -m converter --multirun \
	  +model=classification,input_confirm,resnet18 \
	  export=torch_export,torchscript_trace,torchscript_script

test: setup
	$(BIN)/python -m pytest

# Slow tests too (full-size models).
test-all: setup
	$(BIN)/python -m pytest -m ''

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/harness.py --out benchmarks/results.md

ui: setup
	$(BIN)/python -c 'import mlflow' 2>/dev/null || $(PIP) mlflow
	mkdir -p outputs
	$(BIN)/mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db --host 127.0.0.1 --port 5000

clean:
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache multirun
