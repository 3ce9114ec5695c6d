"""perf-calibrate on a CUDA GPU, the fitting half: a measurements file (compiler/calibrate/
gpu.py) turned into a calibration for `map-gpu{device=NAME calibration=FILE}`.

Why here and not on the GPU's machine: the fit needs each benchmark's Workload as the
importer builds it (shapes only, so it runs on the CPU) and the GPU model to invert, i.e.
all of perf-opt; the GPU machine may have only torch.

What the calibration holds (schema in targets/calibration.py, `target` "gpu"):
    device       the catalog GPU it was measured on (compiler/validate_gpu.GPU_CATALOG, or
                 the caller's choice); map-gpu applies it to that device only
    bandwidth    the device copy rate, under the name of the catalog's device-memory level
    launch_overhead_s    host time of an eager kernel-launching op less a view's: the module
                         call and CUDA launch a kernel costs beyond dispatch
    dispatch_overhead_s  host time of a view: the dispatch every eager op pays
    op_classes   per class, precision and decade of FLOPs, the fraction of the tensor-core
                 (or CUDA-core) peak at which targets/gpu_model.py reproduces each timed
                 kernel (targets/calibration_fit.py)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Mapping

from compiler.calibrate.gpu import SCHEMA as MEASUREMENTS_SCHEMA
from targets.calibration import SCHEMA, SCHEMA_VERSION, CalibrationError, from_dict


def _require(raw: Any, origin: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict) or raw.get("schema") != MEASUREMENTS_SCHEMA:
        got = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise CalibrationError(f"{origin}: error: schema: expected \"{MEASUREMENTS_SCHEMA}\", "
                               f"got {got!r} (is this the output of python -m compiler.calibrate.gpu?)")
    for key in ("gpu", "software", "host", "copy", "benchmarks"):
        if key not in raw:
            raise CalibrationError(f"{origin}: error: {key}: missing (required: gpu, software, "
                                   "host, copy, benchmarks)")
    if not isinstance(raw["gpu"], dict) or "name" not in raw["gpu"]:
        raise CalibrationError(f"{origin}: error: gpu: missing the GPU's 'name'")
    return raw


@functools.lru_cache(maxsize=None)
def _benches_by_name() -> dict:
    from compiler.calibrate.gpu import gpu_suite

    return {b.name: b for preset in ("full", "tiny") for b in gpu_suite(preset)}


@functools.lru_cache(maxsize=None)
def _main_workload(name: str, storage: str):
    """(main Workload, units) the importer builds for benchmark `name` with `storage` tensors
    (shapes only, so one import serves every file and TF32 as FP32)."""
    from compiler.calibrate.runner import benchmark_workloads
    from compiler.model_zoo import torch_dtype

    module, inputs = _benches_by_name()[name].build(torch_dtype(storage))
    workloads = benchmark_workloads(module.eval(), inputs, name.split()[0])
    return max(workloads, key=lambda w: (w.matrix_flops, w.flops, w.bytes_moved)), len(workloads)


def gpu_calibration(raw: Any, origin: str = "<gpu measurements>",
                    device_name: str | None = None) -> dict:
    """The calibration document of a GPU measurements document. Raises CalibrationError
    for a malformed file or a GPU the catalog cannot name."""
    from compiler.validate_gpu import GpuError, catalog_device, storage_precision
    from targets.calibration_fit import fit, workload_to_dict
    from targets.catalog import load_device

    raw = _require(raw, origin)
    try:
        catalog = catalog_device(raw["gpu"]["name"], device_name)
    except GpuError as err:
        raise CalibrationError(f"{origin}: error: {err}") from None
    device = load_device(catalog)
    known = _benches_by_name()
    benchmarks, skipped = [], []
    for entry in raw["benchmarks"]:
        bench = known.get(entry.get("name"))
        if bench is None or "time_s" not in entry:
            skipped.append(f"{entry.get('name')} {entry.get('precision')}: "
                           + (entry.get("error") or "not a benchmark of this perf-opt"))
            continue
        main, units = _main_workload(bench.name, storage_precision(entry["precision"]))
        workload = dataclasses.replace(main, precision=entry["precision"])
        t = entry["time_s"]
        benchmarks.append({
            "name": f"{bench.name} {entry['precision']}", "op_class": bench.op_class,
            "precision": entry["precision"], "params": bench.params, "units": units,
            "workload": workload_to_dict(workload),
            "time_s": {k: t[k] for k in ("min", "median", "max")},
            "timing": {"calls_per_burst": t.get("calls_per_burst"), "clock": "cuda events"},
            "class_matches": workload.op_class == bench.op_class,
        })
    host, copy = raw["host"], raw["copy"]
    view = host["view_op_s"]
    launch = {k: max(0.0, host["eager_op_s"][k] - view["median"]) for k in ("min", "median", "max")}
    doc = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "name": f"gpu-{catalog}",
        "target": "gpu", "device": catalog, "date": raw.get("date", ""), "mode": "gpu",
        "machine": dict(raw["gpu"]), "software": dict(raw["software"]),
        "conditions": {"repeats": raw.get("repeats"), "duration_s": raw.get("duration_s"),
                       "measurements": origin, "skipped": skipped,
                       "host_method": host.get("method", ""), "host_sync_s": host.get("sync_s")},
        "bandwidth": {device.outermost_memory.name: {
            "bytes_per_s": copy["bytes_per_s"], "method": copy.get("method", "device copy")}},
        "dispatch_overhead_s": view,
        "launch_overhead_s": launch,
        "op_classes": {},
        "benchmarks": benchmarks,
    }
    fit(doc, device, origin=origin)
    from_dict(doc, origin)
    return doc
