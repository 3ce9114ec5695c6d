# Two commands (see README):
#   make run    set up the environment, import resnet18, print its cost report on an H100
#   make test   set up the environment, run every test (pytest, which also drives lit)
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
MODEL  ?= resnet18
PIPELINE ?= fuse,annotate-deps,assign-precision,map-gpu,cost,cost-report

.PHONY: setup run test lit bench calibrate validate clean

setup: $(VENV)/.installed

# torch/torchvision are pinned to the builds that lie on this machine's disk (pip takes
# them from there); xdsl is pinned exactly because its API changes between releases.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[import,test]'
	touch $@

run: setup
	@mkdir -p build
	$(BIN)/perf-import $(MODEL) -o build/$(MODEL).mlir
	$(BIN)/perf-opt build/$(MODEL).mlir --pass-pipeline='$(PIPELINE)'

test: setup
	PATH=$(abspath $(BIN)):$$PATH $(PY) -m pytest -q test/unit

lit: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/lit -sv test/lit

bench: setup
	PATH=$(abspath $(BIN)):$$PATH $(PY) bench/import_and_parse.py

# This machine: measure it, then compare estimates with real eager runs of the zoo.
CALIBRATION ?= build/host-calibration.json
calibrate: setup
	@mkdir -p build
	$(BIN)/perf-calibrate -o $(CALIBRATION)

validate: setup
	$(BIN)/perf-validate $(if $(wildcard $(CALIBRATION)),--calibration $(CALIBRATION))

clean:
	rm -rf build test/lit/Output
