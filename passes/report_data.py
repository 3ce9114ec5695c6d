"""The cost report as data: everything `cost-report` prints, read from the IR that
`cost` annotated, in the documented JSON schema (docs/report-schema.md). The text and
CSV forms render this same dictionary, so the three never disagree.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from dialects import graph
from dialects.perf import KernelOp
from passes import units as U
from passes.cost import module_value
from passes.diagnostic import DiagnosticError
from passes.map_target import CALIBRATION_KERNEL_ATTR, attribute_value, mapped_device, mapping_of

SCHEMA_VERSION = 1


def dominant_precision(kernels: list[KernelOp]) -> str:
    """The precision most of the FLOPs run at."""
    by_precision: dict[str, int] = {}
    for k in kernels:
        p = U.unit_precision(k)
        by_precision[p] = by_precision.get(p, 0) + max(1, sum(U.flops(k)))
    return max(by_precision, key=by_precision.get) if by_precision else "fp32"


def reason(entry: dict) -> str:
    """Why a kernel takes the time it takes, in one line with its figures."""
    text = _bound_reason(entry)
    reorder = _reorder_s(entry)
    if entry["bottleneck"] != "overhead" and reorder >= 0.1 * entry["latency_s"] > 0:
        text += f"; plus {reorder * 1e6:.1f} us {_reordering(entry)}"
    epilogue = entry.get("epilogue_s") or 0.0
    if epilogue >= 0.1 * entry["latency_s"] > 0:
        text += (f"; plus {epilogue * 1e6:.1f} us reading the library's "
                 f"{_decimal_bytes(entry['epilogue_bytes'])} result back for the ops after it")
    return text


def _reorder_s(entry: dict) -> float:
    return sum(entry.get(key) or 0.0 for key in
               ("weight_layout_copy_s", "weight_reorder_s", "activation_reorder_s"))


def _reordering(entry: dict) -> str:
    parts = []
    if entry.get("weight_layout_copy_bytes"):
        parts.append(f"copying {_decimal_bytes(entry['weight_layout_copy_bytes'])} of weights "
                     "into channels-last order")
    moved = [f"{_decimal_bytes(entry[key])} of {what}" for key, what in
             (("weight_reorder_bytes", "weights"), ("activation_reorder_bytes", "activations"))
             if entry.get(key)]
    if moved:
        parts.append(f"reordering {' and '.join(moved)} to and from the library's blocked layout")
    return " and ".join(parts)


def _decimal_bytes(nbytes: int) -> str:
    return f"{nbytes / 1e6:.2f} MB" if nbytes >= 10_000 else f"{nbytes / 1e3:.1f} KB"


def _bound_reason(entry: dict) -> str:
    if entry["bottleneck"] == "overhead":
        work = max(entry["compute_s"], entry["memory_s"])
        touch = entry.get("first_touch_s") or 0.0
        if touch > entry["overhead_s"] / 2:
            return (f"first touch of {entry['fresh_bytes'] / 1e6:.2f} MB of fresh pages "
                    f"({touch * 1e6:.1f} us, the allocator's) exceeds its {work * 1e6:.2f} us of work")
        reorder = _reorder_s(entry)
        if reorder > entry["overhead_s"] / 2:
            return (f"{_reordering(entry)} ({reorder * 1e6:.1f} us, every call) exceeds its "
                    f"{work * 1e6:.2f} us of work")
        parts = [f"{label} {seconds * 1e6:.1f} us" for label, seconds in
                 (("first touch", touch), ("layout copies", reorder),
                  ("reading results back", entry.get("epilogue_s") or 0.0)) if seconds]
        if parts:  # none of them half of it: say what it is made of
            return (f"per-call overhead {entry['overhead_s'] * 1e6:.1f} us ({', '.join(parts)}) "
                    f"exceeds its {work * 1e6:.2f} us of work")
        return (f"launch/dispatch overhead {entry['overhead_s'] * 1e6:.1f} us exceeds its "
                f"{work * 1e6:.2f} us of work")
    if entry["bottleneck"] == "memory":
        intensity = entry["flops"] / entry["bytes"] if entry["bytes"] else 0.0
        ridge = entry["peak_flops_per_s"] / entry["bandwidth_bytes_per_s"] if entry["bandwidth_bytes_per_s"] else 0.0
        return (f"memory-bound: {intensity:.1f} FLOP/B is below the ridge point {ridge:.0f} FLOP/B "
                f"({entry['bytes'] / 1e6:.2f} MB from {entry['memory_level']})")
    text = f"compute-bound at {entry['efficiency']:.0%} of the {entry['exec_unit']} peak ({entry['exec_precision']})"
    if entry["utilization"] < 0.5:
        text += f"; only {entry['units_used']} of {entry['units_total']} units busy (limited parallelism)"
    if entry.get("tensor_cores") is False and entry["exec_unit"] != "tensor_core" and entry["target"] == "gpu":
        text += "; no tensor cores at this precision"
    return text


def kernel_entry(k: KernelOp) -> dict:
    mapping = mapping_of(k)
    matrix, vector = U.flops(k)
    traffic = U.traffic(k)
    entry = {
        "name": U.unit_name(k), "location": U.fx_name(k), "pattern": k.pattern.data,
        "ops": sum(1 for o in U.inner_ops(k) if isinstance(o, graph.GraphOp)),
        "flops": matrix + vector, "bytes": traffic.bytes_moved,
        "latency_s": attribute_value(k, "latency_s", 0.0),
        "compute_s": attribute_value(k, "compute_s", 0.0),
        "memory_s": attribute_value(k, "memory_s", 0.0),
        "overhead_s": attribute_value(k, "overhead_s", 0.0),
        "energy_j": attribute_value(k, "energy_j", 0.0),
        "bottleneck": attribute_value(k, "bottleneck", ""),
        "stage": attribute_value(k, "stage", 0),
        "utilization": mapping.utilization, "efficiency": mapping.efficiency,
        "units_used": mapping.units_used, "units_total": mapping.units_total,
        "exec_unit": mapping.exec_unit, "exec_precision": mapping.precision,
        "memory_level": mapping.memory_level, "target": mapping.target,
        "peak_flops_per_s": attribute_value(k, "peak_flops_per_s", 0.0),
        "bandwidth_bytes_per_s": attribute_value(k, "bandwidth_bytes_per_s", 0.0),
        "tensor_cores": attribute_value(k, "tensor_cores"),
        "first_touch_s": attribute_value(k, "first_touch_s", 0.0),
        "fresh_bytes": attribute_value(k, "fresh_bytes", 0),
        "weight_layout_copy_s": attribute_value(k, "weight_layout_copy_s", 0.0),
        "weight_layout_copy_bytes": attribute_value(k, "weight_layout_copy_bytes", 0),
        "weight_reorder_s": attribute_value(k, "weight_reorder_s", 0.0),
        "weight_reorder_bytes": attribute_value(k, "weight_reorder_bytes", 0),
        "activation_reorder_s": attribute_value(k, "activation_reorder_s", 0.0),
        "activation_reorder_bytes": attribute_value(k, "activation_reorder_bytes", 0),
        "epilogue_s": attribute_value(k, "epilogue_s", 0.0),
        "epilogue_bytes": attribute_value(k, "epilogue_bytes", 0),
        "calibration_kernel": attribute_value(k, CALIBRATION_KERNEL_ATTR),
    }
    entry["reason"] = reason(entry)
    return entry


def caveats(module: ModuleOp) -> list[str]:
    """Figures every estimate of the mapped device scales with that are assumed, not known
    (a KPU's clock implied by its TOPS; a VM's nominal clock), each with why."""
    clock = mapped_device(module).compute.boost_clock_hz
    if clock.kind != "assumption":
        return []
    return [f"the clock, {float(clock.value) / 1e9:.3f} GHz, is an assumption: {clock.note}"]


def collect(module: ModuleOp) -> dict:
    """The report dictionary (JSON schema version SCHEMA_VERSION)."""
    if module_value(module, "perf.latency_s") is None:
        raise DiagnosticError("cost-report needs the cost pass: add `cost` before `cost-report`", module)
    kernels = [u for u in U.units(module) if isinstance(u, KernelOp)]
    latency = module_value(module, "perf.latency_s")
    batch = module_value(module, graph.BATCH_ATTR, 1)
    energy = module_value(module, "perf.energy_j")
    entries = [kernel_entry(k) for k in kernels]
    return {
        "schema_version": SCHEMA_VERSION,
        "model": module_value(module, graph.MODEL_ATTR, "model"),
        "device": module_value(module, "perf.device"),
        "power_mode": module_value(module, "perf.power_mode"),
        "target": module_value(module, "perf.target"),
        "batch": batch,
        "precision": dominant_precision(kernels),
        "runtime": module_value(module, "perf.runtime"),
        "latency_s": latency,
        "serial_latency_s": module_value(module, "perf.serial_latency_s"),
        "host_issue_s": module_value(module, "perf.host_issue_s"),
        "program_overhead_s": module_value(module, "perf.program_overhead_s"),
        "compiled_call_s": module_value(module, "perf.compiled_call_s"),
        "guard_check_s": module_value(module, "perf.guard_check_s"),
        "parameters": U.parameters(module),
        "throughput_per_s": batch / latency if latency else 0.0,
        "energy_j": energy,
        "energy_per_sample_j": energy / batch if batch else energy,
        "average_power_w": energy / latency if latency else 0.0,
        "energy_breakdown_j": {"compute": module_value(module, "perf.energy_compute_j"),
                               "memory": module_value(module, "perf.energy_memory_j"),
                               "static": module_value(module, "perf.energy_static_j")},
        "peak_memory_bytes": module_value(module, "perf.peak_memory_bytes"),
        "memory_breakdown_bytes": {"weights": module_value(module, "perf.weights_bytes"),
                                   "activations": module_value(module, "perf.peak_activation_bytes"),
                                   "workspace": module_value(module, "perf.workspace_bytes")},
        "memory_capacity_bytes": module_value(module, "perf.memory_capacity_bytes"),
        "fits": module_value(module, "perf.fits"),
        "flops": module_value(module, "perf.flops"),
        "bytes_moved": module_value(module, "perf.bytes_moved"),
        "utilization": module_value(module, "perf.utilization"),
        "efficiency": module_value(module, "perf.efficiency"),
        "time_by_bottleneck_s": {"compute": module_value(module, "perf.time_compute_s"),
                                 "memory": module_value(module, "perf.time_memory_s"),
                                 "overhead": module_value(module, "perf.time_overhead_s")},
        "kernels": len(entries),
        "subgraphs": entries,
        "suggestions": [],
        "caveats": caveats(module),
    }
