"""What every per-architecture mapping model needs and must do the same way.

Why one module: the GPU, TPU, KPU and CPU models differ in how they cut work onto hardware,
but they must agree on what a refused precision is (one exception, one message), on how
load balance over identical units is counted, on which memory level serves a working set,
on how several matrix products in one kernel combine, and on which precision a vector unit
really computes. `targets.roofline` uses the same helpers, so a mapping and its estimate
cannot disagree about, say, the vector precision.

Plain Python: no IR, no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping as TypingMapping

from targets.catalog import (
    PRECISIONS, Device, Execution, ExecutionUnit, MemoryLevel, UnsupportedPrecisionError,
)
from targets.precision import FLOAT_PRECISIONS, PRECISION_BITS
from targets.workload import Gemm, Workload

# Unit kinds that run element-wise (non-matrix) work, best first.
VECTOR_UNIT_KINDS = ("simt", "simd", "vector", "scalar")


class PrecisionNotSupportedError(UnsupportedPrecisionError):
    """The device refuses the workload's precision; the message lists what it supports.

    A subclass of the catalog's UnsupportedPrecisionError, hence of ValueError."""


def supported_precisions(device: Device) -> list[str]:
    """Precisions the device computes, natively or by upcasting, in enum order."""
    return [p for p in PRECISIONS if device.supports(p)]


def resolve_execution(device: Device, precision: str) -> Execution:
    """Where `precision` runs on `device` (emulation followed); refusal raises with the list."""
    if precision not in PRECISIONS:
        raise PrecisionNotSupportedError(
            f"unknown precision {precision!r}; valid precisions: {', '.join(PRECISIONS)}")
    if not device.supports(precision):
        reason = device.emulation[precision].reason
        raise PrecisionNotSupportedError(
            f"{device.name} cannot run {precision} ({reason}); supported precisions: "
            f"{', '.join(supported_precisions(device))}")
    return device.execution_for(precision)


# --------------------------------------------------------------------------- counting


def ceil_div(a: int, b: int) -> int:
    return -(-int(a) // int(b))


def balance(items: int, units: int) -> float:
    """Time-averaged share of `units` busy when `items` equal pieces of work are dealt
    round-robin and each unit's time is proportional to the pieces it holds:
    items / (units x ceil(items / units)). 4 items on 132 SMs -> 0.03; 133 -> 0.50.
    For an integer k, balance(k*n, u) >= balance(n, u) because ceil(k x) <= k ceil(x)."""
    if items <= 0 or units <= 0:
        return 0.0
    return items / (units * ceil_div(items, units))


def bits(precision: str) -> int:
    return PRECISION_BITS[precision]


def element_bytes(precision: str) -> float:
    """Bytes per element (0.5 for the 4-bit formats)."""
    return PRECISION_BITS[precision] / 8


def gemms_of(workload: Workload) -> tuple[Gemm, ...]:
    """The workload's matrix products. When the pass gave matrix FLOPs but no shapes, one
    GEMM is reconstructed: N = channels, M = output elements / N, K = FLOPs / (2 M N), so
    that 2 M N K equals the matrix FLOPs (up to rounding of K)."""
    if workload.gemms or workload.matrix_flops <= 0:
        return tuple(workload.gemms)
    n = max(1, workload.channels)
    m = max(1, workload.output_elements // n)
    k = max(1, round(workload.matrix_flops / (2 * m * n)))
    return (Gemm(m=m, n=n, k=k),)


@dataclass(frozen=True)
class Part:
    """One piece of a kernel (a GEMM, or the vector work) as a mapping model sees it."""

    flops: float
    efficiency: float     # share of the unit's device-wide peak
    utilization: float    # time-averaged share of units with work
    units_used: int


def combine(parts: Iterable[Part]) -> Part:
    """Parts that run one after the other on the same unit: efficiency is total FLOPs over
    the time-weighted sum (flops_i / eff_i), utilization is averaged over that time, and
    the units used are the most any part held."""
    parts = [p for p in parts if p.flops > 0]
    if not parts:
        return Part(0.0, 1.0, 0.0, 0)
    times = [p.flops / p.efficiency for p in parts]
    total = sum(times)
    return Part(
        flops=sum(p.flops for p in parts),
        efficiency=sum(p.flops for p in parts) / total,
        utilization=sum(p.utilization * t for p, t in zip(parts, times)) / total,
        units_used=max(p.units_used for p in parts),
    )


def combine_plans(workload: Workload, plans, achievable: float = 1.0) -> Part:
    """One Part for a kernel's GEMM plans (each with .gemm, .efficiency, .utilization,
    .units_used). GEMM FLOPs are scaled to the workload's matrix FLOPs (a reconstructed
    GEMM may round K), and `achievable` (a calibrated fraction) scales every efficiency."""
    scale = workload.matrix_flops / sum(p.gemm.flops for p in plans)
    return combine(Part(p.gemm.flops * scale, p.efficiency * achievable, p.utilization,
                        p.units_used) for p in plans)


def check_class(device: Device, device_class: str) -> None:
    """A model is only asked about its own kind of device."""
    if device.device_class != device_class:
        raise ValueError(f"{device.name} is a {device.device_class}, not a {device_class}; "
                         f"use the map-{device.device_class} model")


# --------------------------------------------------------------------------- units


def vector_unit(device: Device) -> ExecutionUnit | None:
    """The unit element-wise work runs on: the first non-matrix unit in VECTOR_UNIT_KINDS
    order (CUDA cores, SIMD, a TPU/KPU vector unit, scalar last), the fastest of a kind."""
    for kind in VECTOR_UNIT_KINDS:
        units = [u for u in device.execution_units if u.kind == kind]
        if units:
            return max(units, key=lambda u: max(float(f.value) for f in u.peak.values()))
    return None


def _family(precision: str) -> str:
    return "float" if precision in FLOAT_PRECISIONS else "int"


def vector_precision(unit: ExecutionUnit, precision: str) -> str:
    """The precision `unit` actually computes `precision` in: itself when native, else the
    nearest wider native precision of the same family (int8 -> int32 on CUDA cores, bf16
    -> fp32 on a TPU VPU), else the nearest wider of any family. tf32 counts as fp32-wide."""
    if precision in unit.peak:
        return precision
    width = PRECISION_BITS[precision]
    wider = [p for p in unit.peak if PRECISION_BITS[p] >= width]
    same = [p for p in wider if _family(p) == _family(precision)]
    pool = same or wider
    if not pool:
        raise PrecisionNotSupportedError(
            f"unit {unit.name} has no precision at least as wide as {precision}; it executes "
            f"{', '.join(unit.peak)}")
    return min(pool, key=lambda p: (PRECISION_BITS[p], p != "fp32"))


def vector_peak(device: Device, unit_name: str, precision: str) -> tuple[str, float]:
    """(precision computed, peak FLOP/s) of `unit_name` for work at `precision`."""
    unit = device.unit(unit_name)
    prec = vector_precision(unit, precision)
    return prec, float(unit.peak[prec].value)


def lanes_per_cycle(unit: ExecutionUnit, precision: str) -> float:
    """Operations the unit completes per clock at `precision`, device-wide (peak / clock):
    the parallel width that elementwise work must fill."""
    return float(unit.peak[precision].value) / float(unit.clock_hz.value)


# --------------------------------------------------------------------------- memory


def serving_level(device: Device, total_bytes: float, per_unit_bytes: float | None = None,
                  include_per_unit: bool = False) -> MemoryLevel:
    """The nearest memory level whose capacity holds the working set, else the outermost.

    Per-unit levels (L1/shared memory, scratchpads, CPU L1/L2) are compared with
    `per_unit_bytes` when given (CPU cache blocking), with the device-wide capacity of the
    level when `include_per_unit` (TPU VMEM as compiler-managed storage), and are skipped
    otherwise (private buffers that do not keep data between kernels)."""
    for level in device.memory[:-1]:
        if level.scope == "per_unit":
            if per_unit_bytes is not None:
                if per_unit_bytes <= float(level.capacity_bytes.value):
                    return level
                continue
            if not include_per_unit:
                continue
        if total_bytes <= device.total_capacity_bytes(level):
            return level
    return device.outermost_memory


def working_set(workload: Workload) -> int:
    """Bytes touched once by the kernel: the pass's figure, else in + weights + out."""
    return workload.working_set_bytes or workload.bytes_moved


# --------------------------------------------------------------------------- calibration


def achievable_fraction(calibration: TypingMapping[str, float] | None, op_class: str,
                        default: float) -> tuple[float, str]:
    """(fraction of peak, "calibration" | "default"): a measured calibration entry for the
    op class replaces the model's datasheet-derived default (DESIGN.md: measured
    calibration overrides datasheet efficiency)."""
    if calibration and op_class in calibration:
        value = float(calibration[op_class])
        if not 0.0 < value <= 1.0:
            raise ValueError(f"calibration[{op_class!r}] = {value} is not a fraction in (0, 1]")
        return value, "calibration"
    return default, "default"


def clamp_fraction(value: float) -> float:
    """Keep a modelled fraction inside (0, 1]; a zero would make time infinite."""
    return min(1.0, max(value, 1e-12)) if math.isfinite(value) else 1.0


def launches_asynchronously(device: Device) -> bool:
    """Whether the host enqueues a kernel and moves on before it runs (a GPU's CUDA
    stream), so issuing one kernel overlaps running the ones before it; a CPU runs each op
    on the thread that issued it."""
    return device.device_class == "gpu"


def program_overhead_s(device: Device) -> float:
    """Fixed cost of one inference on a device that runs the model as one compiled program:
    the host starts it and waits for its result (program_launch_s + sync_s); 0 elsewhere,
    where every kernel pays its own launch."""
    o = device.overheads
    if o.program_launch_s is None:
        return 0.0
    return float(o.program_launch_s.value) + float(o.sync_s.value)


def compiled_call_overhead_s(device: Device, runtime: str) -> float:
    """Fixed cost of one call of a torch.compile'd graph (its compiled_call_s) for the
    compiled runtime on a device that has the figure; 0 otherwise."""
    fig = device.overheads.compiled_call_s
    return float(fig.value) if runtime == "compiled" and fig is not None else 0.0


def guard_check_s(device: Device, runtime: str, parameters: int) -> float:
    """Dynamo's guard check on one call of a torch.compile'd graph of a model with
    `parameters` parameters (its guard_check_per_parameter_s each) for the compiled
    runtime on a device that has the figure; 0 otherwise."""
    fig = device.overheads.guard_check_per_parameter_s
    return float(fig.value) * parameters if runtime == "compiled" and fig is not None else 0.0


def host_issue_s(device: Device, launch_s: float, eager: bool) -> float:
    """Host time to issue one kernel: the launch, plus the framework's dispatch in eager
    code (a compiled graph calls its kernels directly)."""
    dispatch = device.overheads.framework_dispatch_s
    return launch_s + (float(dispatch.value) if eager and dispatch is not None else 0.0)
