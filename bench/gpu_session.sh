#!/usr/bin/env bash
# The GPU validation of a session that is lent a device machine (issue 6, item 5), as one
# prepared command sized to about 8 of its 15 device minutes. Run there from the repository
# root through the device tool's `run`:
#
#     bash bench/gpu_session.sh            (timeout_s 600; what it writes comes back from $OUT)
#
# It uses that machine's own python3 (torch and torchvision are there, xDSL is not), so the
# models are measured only (perf-validate --measure-only); back here the estimates are added
# to each file and its table printed, with the datasheet model and with the GPU's own
# calibration fitted from this session's measurements:
#
#     .venv/bin/perf-calibrate --gpu-measurements gpu-measurements.json -o CAL.json
#     .venv/bin/python bench/rescore_host_validation.py FILE... --write --calibration none
#     .venv/bin/python bench/rescore_host_validation.py FILE... --calibration CAL.json
#
# Output: nvidia-smi.txt (GPU, driver), gpu-measurements.json (compiler/calibrate/gpu.py: the
# GPU benchmarks per precision, device copy rate, host cost of an eager op; written after
# each precision, so a timeout keeps the ones done), eager-PREC.json per precision (the zoo
# at batch 1, 8 and 64, 5 samples per row, the GPU's name, driver, CUDA and cuDNN in its
# `gpu` block).
# Each precision runs in its own process under its own time limit, so one slow precision
# cannot cost the others their files.
set -uo pipefail
OUT=${OUT:-build/gpu-session}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
timeout 100 "$PY" -m compiler.calibrate.gpu --precisions bf16 fp32 tf32 fp16 \
    -o "$OUT/gpu-measurements.json"
echo "gpu-measurements: exit $?"
for prec in bf16 fp16 tf32 fp32; do
    timeout 100 "$PY" -m tools.perf_validate --device cuda --measure-only \
        --batches 1 8 64 --precisions "$prec" --repeats 5 --quiet-wait 5 --no-progress \
        --json "$OUT/eager-$prec.json"
    echo "eager-$prec: exit $?"
done
