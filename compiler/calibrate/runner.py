"""perf-calibrate's work: run the micro-benchmarks on this machine and write the
calibration document (schema in targets/calibration.py).

Order: wait for a quiet machine; identity and clock; dispatch and fork/join overheads;
bandwidth per memory level; the op benchmarks (each also exported through perf-opt's
importer, so its Workload is the one the pipeline builds); then the fit, which turns
times into the efficiencies map-cpu uses. Every timed sample records its CPU utilization
and the other processes' share of the machine; busy samples are redone
(compiler/calibrate/timing.py).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Sequence

from compiler.calibrate import compiled_graph, machine, memory
from compiler.calibrate.progress import Progress
from compiler.calibrate.suite import Bench, suite
from compiler.model_zoo import torch_dtype
from compiler.calibrate.timing import (
    DEFAULT_MAX_FOREIGN, SpeedProbe, Timer, load_average, wait_until_quiet,
)


RETRY_ROUNDS = 2


class FitError(Exception):
    """Measurements succeeded but turning them into efficiencies failed; `doc` holds them."""

    def __init__(self, message: str, doc: dict):
        super().__init__(message)
        self.doc = doc


@dataclass(frozen=True)
class Settings:
    repeats: int
    min_time_s: float
    warmup: int
    measure_clock: bool
    guard_models: tuple[str, ...] = compiled_graph.GUARD_MODELS   # zoo models Dynamo traces


PRESET_SETTINGS = {
    "full": Settings(repeats=7, min_time_s=0.05, warmup=3, measure_clock=True),
    "quick": Settings(repeats=3, min_time_s=0.02, warmup=2, measure_clock=True),
    "tiny": Settings(repeats=2, min_time_s=0.002, warmup=1, measure_clock=False,
                     guard_models=("mlp",)),
}


def benchmark_workloads(module, inputs, name: str) -> list:
    """The Workloads perf-opt's eager pipeline builds for `module` (one per unit)."""
    from compiler.importer import import_model
    from compiler.model_zoo import BuiltModel
    from passes import units as U

    batch = int(inputs[0].shape[0]) if inputs and len(inputs[0].shape) else 1
    result = import_model(BuiltModel(name, module, tuple(inputs), batch))
    return [U.workload(u) for u in U.units(result.module)]


def run_bench(bench: Bench, precision: str, timer: Timer) -> dict:
    import torch

    from targets.calibration_fit import workload_to_dict

    module, inputs = bench.build(torch_dtype(precision))
    module = module.eval()
    with torch.inference_mode():
        m = timer.measure(lambda: module(*inputs))
    if bench.described_by is not None:
        module, inputs = bench.described_by(torch_dtype(precision))
    workloads = benchmark_workloads(module.eval(), inputs, bench.name.split()[0])
    main = max(workloads, key=lambda w: (w.matrix_flops, w.flops, w.bytes_moved))
    if bench.native_attention:
        main = dataclasses.replace(main, native_attention=bench.native_attention)
    summary = m.summary()
    return {
        "name": bench.name, "op_class": bench.op_class, "precision": precision,
        "params": bench.params, "units": len(workloads),
        "workload": workload_to_dict(main),
        "time_s": {"min": summary["min_s"], "median": summary["median_s"], "max": summary["max_s"]},
        "timing": summary,
        "class_matches": main.op_class == bench.op_class,
    }


def calibrate(preset: str = "full", repeats: int | None = None, precisions: Sequence[str] | None = None,
              benches: Sequence[Bench] | None = None, name: str | None = None,
              progress: bool = True, stream=None, max_foreign: float = DEFAULT_MAX_FOREIGN,
              quiet_wait_s: float = 60.0, measure_clock: bool | None = None) -> dict:
    """Run the benchmarks of `preset` (or `benches`) and return the fitted document."""
    import torch

    from targets import host
    from targets.calibration import ONEDNN_PROBE_MARK, SCHEMA, SCHEMA_VERSION
    from targets.calibration_fit import fit

    settings = PRESET_SETTINGS[preset]
    repeats = repeats or settings.repeats
    info = host.probe()
    threads = info.logical_cpus
    torch.set_num_threads(threads)
    precisions = list(precisions or (["fp32", "bf16"] if machine.bf16_supported(info) else ["fp32"]))
    custom = benches is not None
    benches = list(benches if custom else suite(preset))
    benches_by_name = {b.name: b for b in benches}
    from targets.catalog import load_device

    device = load_device("host")
    levels = [{"name": lvl.name, "scope": lvl.scope, "capacity_bytes": float(lvl.capacity_bytes.value)}
              for lvl in device.memory]
    plan = memory.level_plan(levels, info.physical_cores, quick=preset != "full")
    bar = Progress(7 + len(plan) + len(benches) * len(precisions), stream=stream or sys.stderr,
                   enabled=progress)
    started = time.monotonic()
    load_before = load_average()
    bar.show("waiting for a quiet machine")
    probe = SpeedProbe()
    foreign_at_start = wait_until_quiet(max_foreign, timeout_s=quiet_wait_s,
                                        report=bar.note if progress else None, probe=probe)
    timer = Timer(threads=threads, repeats=repeats, min_time_s=settings.min_time_s,
                  warmup=settings.warmup, max_foreign=max_foreign, probe=probe)

    bar.step("clock")
    do_clock = settings.measure_clock if measure_clock is None else measure_clock
    clock = machine.measure_clock(info.logical_cpus, repeats=3 if preset == "full" else 1) \
        if do_clock else None

    bar.step("dispatch overhead")
    dispatch, bare, dispatch_raw = memory.dispatch_overheads(timer)
    bar.step("thread-pool fork/join")
    launch, launch_raw = memory.launch_overhead(timer, info.physical_cores, bare["median"])

    bw = memory.bandwidths(timer, plan, bare["median"], progress=lambda s: bar.step(s))
    bar.step("first touch of fresh memory")
    touch = memory.first_touch(timer)
    bar.step("layout reorders")
    reorder = memory.layout_reorder(timer, precisions, bare["median"])
    bar.step("library calls")
    calls, calls_raw = memory.library_calls(timer, precisions, dispatch["median"])
    bar.step("compiled graph call")
    compiled_call, compiled_raw = compiled_graph.compiled_call_overhead(timer)
    bar.step("Dynamo's guard check")
    guard, guard_raw = compiled_graph.guard_check(settings.guard_models)
    allocator = memory.pin_allocator()

    results = []
    for precision in precisions:
        for bench in benches:
            bar.step(f"{bench.name} {precision}")
            results.append(run_bench(bench, precision, timer))
    # Benchmarks that never had a quiet sample are redone once the machine is quiet again.
    for _round in range(RETRY_ROUNDS):
        busy_idx = [i for i, r in enumerate(results) if r["timing"]["busy"]]
        if not busy_idx:
            break
        bar.note(f"{len(busy_idx)} benchmarks ran on a busy machine; waiting to redo them")
        wait_until_quiet(max_foreign, timeout_s=quiet_wait_s, report=bar.note if progress else None,
                         probe=probe)
        for i in busy_idx:
            again = run_bench(benches_by_name[results[i]["name"]], results[i]["precision"], timer)
            again["timing"]["rejected_busy"] += results[i]["timing"]["rejected_busy"]
            results[i] = again

    rejected = sum(r["timing"]["rejected_busy"] for r in results)
    busy = [r["name"] for r in results if r["timing"]["busy"]]
    utils = [r["timing"]["cpu_utilization"] for r in results]
    doc = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "name": name or machine.default_name(info),
        "target": "cpu", "device": "host",
        "date": machine.now(), "mode": "custom" if custom else preset,
        "machine": machine.identity(info, threads),
        "software": machine.software(),
        "conditions": {
            "repeats": repeats, "min_sample_s": settings.min_time_s, "warmup": settings.warmup,
            "max_foreign_load": max_foreign, "foreign_load_at_start": round(foreign_at_start, 4),
            "max_reference_slowdown": timer.max_slowdown, "reference_gemm_best_s": probe.best,
            "load_average_before": load_before, "load_average_after": load_average(),
            "busy_samples_redone": rejected, "benchmarks_still_busy": busy,
            "cpu_utilization_median": statistics.median(utils) if utils else None,
            "threads": threads, "duration_s": None,
            "allocator": allocator or "default (could not pin glibc malloc)",
            "note": "cpu_utilization = process CPU time / (wall time x threads); a sample is "
                    "busy and redone when other processes used more than max_foreign_load of "
                    "the machine during it (/proc/stat), or when a reference 512^3 GEMM timed "
                    "around it ran more than max_reference_slowdown above its best (a VM "
                    "neighbour on our core's sibling hyperthread shows only this way)",
        },
        "clock": clock,
        "peak_flops": {},
        "dispatch_overhead_s": dispatch,
        "dispatch_overhead_bare_op_s": bare,
        "launch_overhead_s": launch,
        "overhead_timing": {"dispatch": dispatch_raw, "launch": launch_raw,
                            "library_calls": calls_raw, "compiled_call": compiled_raw,
                            "guard_check": guard_raw},
        "bandwidth": bw,
        "first_touch": touch,
        "layout_reorder": reorder,
        "library_call_s": calls,
        "library_call_method": "median time of a minimal call of the class through an "
                               "nn.Module (compiler/calibrate/memory.LIBRARY_CALLS) less the "
                               f"module dispatch overhead; {ONEDNN_PROBE_MARK}",
        "compiled_call_s": compiled_call,
        "guard_check_per_parameter_s": guard,
        "op_classes": {},
        "benchmarks": results,
    }
    try:
        fit(doc, device, origin="<perf-calibrate>")
    except Exception as err:  # keep minutes of measurements: the caller saves them raw
        bar.finish("measured; the fit failed")
        raise FitError(f"the fit failed ({type(err).__name__}: {err}); the measurements are "
                       "kept, refit them with perf-calibrate --refit", doc) from err
    from targets.calibration_fit import calibrated_host

    calibrated = calibrated_host(doc, device, "<perf-calibrate>")
    for precision in precisions:
        ex = calibrated.execution_for(precision)
        doc["peak_flops"][precision] = {
            "unit": ex.unit, "catalog": device.execution_for(precision).peak_flops,
            "calibrated": ex.peak_flops}
    doc["conditions"]["duration_s"] = round(time.monotonic() - started, 1)
    bar.finish(f"done in {doc['conditions']['duration_s']:.0f} s")
    return doc
