"""map-tpu physics: matrix work on weight-stationary systolic arrays, the rest on the VPU.

Why: a systolic array is only as busy as its shape allows. A rows x cols array holds one
weight tile (rows of K by cols of N); dimensions that are not multiples of the array
waste the padded cells; every pass pays rows + cols cycles of pipeline fill and drain
before the streamed M rows produce results; and weights that do not fit on chip stream
from off-chip memory on every inference (Coral's 8 MiB SRAM, USB behind it).

Passes: one per weight tile, ceil(K/rows) x ceil(N/cols) per GEMM batch, each streaming M
rows. The compiler may also split M across MXUs that load the same weight tile (more MXUs
busy, shorter streams, more fill per row); the split with the fewest cycles is chosen.
Efficiency = useful MACs / (cycles x MACs per cycle of all MXUs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping as TypingMapping

from targets.catalog import Device
from targets.mapping_common import (
    Part, achievable_fraction, balance, ceil_div, check_class, clamp_fraction, combine_plans,
    gemms_of, lanes_per_cycle, resolve_execution, serving_level, vector_peak, vector_unit,
    working_set,
)
from targets.workload import Gemm, Mapping, Workload


def _i(fig) -> int:
    return int(fig.value)


@dataclass(frozen=True)
class ArrayPlan:
    """One GEMM on the MXUs."""

    gemm: Gemm
    passes: int              # weight tiles loaded per inference (all batches)
    row_splits: int          # M chunks per weight tile
    items: int               # (weight tile, M chunk) pairs
    units_used: int          # MXUs with work
    rounds: int
    cycles: int
    padding_efficiency: float
    fill_efficiency: float
    utilization: float       # MXUs with work / MXUs; round quantization is in efficiency
    efficiency: float


def plan_gemm(g: Gemm, rows: int, cols: int, mxus: int) -> ArrayPlan:
    """Weight-stationary tiling of one GEMM over `mxus` arrays of rows x cols.

    A pass costs max(streamed rows, rows) + rows + cols array cycles. rows + cols is the
    wavefront filling and draining the array. A weight tile takes `rows` cycles to shift in
    and is double-buffered, so the shift hides behind the previous pass only when that pass
    streams at least `rows` rows (Jouppi et al., "In-Datacenter Performance Analysis of a
    Tensor Processing Unit", ISCA 2017: one weight tile plus one for double buffering, to
    hide the cycles it takes to shift a tile in). Passes are dealt to the MXUs in rounds."""
    passes = ceil_div(g.k, rows) * ceil_div(g.n, cols) * g.batch
    fill = rows + cols
    best = None
    for splits in range(1, max(1, min(mxus, g.m)) + 1):
        chunk = ceil_div(g.m, splits)
        items = passes * splits
        rounds = ceil_div(items, mxus)
        stream = max(chunk, rows)
        cycles = rounds * (stream + fill)
        if best is None or cycles < best[0]:
            best = (cycles, splits, chunk, items, rounds, stream)
    cycles, splits, chunk, items, rounds, stream = best
    useful = g.m * g.n * g.k * g.batch
    padded_kn = ceil_div(g.k, rows) * rows * ceil_div(g.n, cols) * cols
    return ArrayPlan(
        gemm=g, passes=passes, row_splits=splits, items=items, units_used=min(items, mxus),
        rounds=rounds, cycles=cycles,
        padding_efficiency=g.k * g.n / padded_kn,
        fill_efficiency=chunk / (stream + fill),
        utilization=min(items, mxus) / mxus,
        efficiency=clamp_fraction(useful / (cycles * mxus * rows * cols)))


def _vector_part(workload: Workload, device: Device, precision: str):
    """(unit name, precision, efficiency, units used, units total) of the element-wise work.

    On a VPU: lane quantization over the output elements, units = one VPU per TensorCore.
    A chip without a vector unit (Coral, TPU Edge Pro) runs element-wise ops through its
    array, where one op occupies one row of PEs: modelling assumption, efficiency 1/rows of
    the array's peak."""
    cores = _i(device.tpu.cores_per_chip)
    vec = vector_unit(device)
    elements = max(1, workload.output_elements)
    if vec is None:
        unit = device.unit_for(precision)
        return unit.name, precision, 1.0 / _i(device.tpu.systolic_rows), 1, cores
    prec, _ = vector_peak(device, vec.name, precision)
    lanes = max(1, int(lanes_per_cycle(vec, prec)))
    used = min(cores, ceil_div(elements, max(1, lanes // cores)))
    return vec.name, prec, clamp_fraction(balance(elements, lanes)), used, cores


def map_workload(workload: Workload, device: Device,
                 calibration: TypingMapping[str, float] | None = None) -> Mapping:
    """Place one kernel on a TPU-class device. Raises PrecisionNotSupportedError (a
    ValueError) listing the supported precisions when the device refuses the precision."""
    check_class(device, "tpu")
    ex = resolve_execution(device, workload.precision)
    tpu = device.tpu
    rows, cols = _i(tpu.systolic_rows), _i(tpu.systolic_cols)
    mxus = _i(tpu.mxus_per_core) * _i(tpu.cores_per_chip)
    vec_unit, vec_prec, vec_eff, vec_used, vec_total = _vector_part(
        workload, device, ex.computed_as)
    gemms = gemms_of(workload)
    capacity = max((device.total_capacity_bytes(lvl) for lvl in device.memory[:-1]), default=0.0)
    # Parameters stay on chip only when the whole model's fit (the Edge TPU compiler caches
    # a model's parameters in its SRAM when they fit; otherwise they stream from host
    # memory on every inference: Coral docs, "Edge TPU Compiler: parameter data caching").
    resident = max(workload.bytes_weights, workload.model_weight_bytes)
    weights_on_chip = resident <= capacity
    ws = working_set(workload)
    # Activations live on chip either way; weights that do not fit stream from off chip.
    level = serving_level(device, ws - (0 if weights_on_chip else workload.bytes_weights),
                          include_per_unit=True)
    details: dict[str, int | float | str | bool] = {
        "systolic_rows": rows, "systolic_cols": cols, "mxus_total": mxus,
        "cores": _i(tpu.cores_per_chip), "weights_on_chip": weights_on_chip,
        "weight_bytes": workload.bytes_weights,
        "weight_bytes_streamed": 0 if weights_on_chip else workload.bytes_weights,
        "on_chip_capacity_bytes": int(capacity), "working_set_bytes": ws,
        "vector_units_used": vec_used,
    }
    if workload.matrix_flops > 0 and gemms and device.unit(ex.unit).kind == "systolic":
        achievable, source = achievable_fraction(calibration, workload.op_class, 1.0)
        plans = [plan_gemm(g, rows, cols, mxus) for g in gemms]
        part = combine_plans(workload, plans, achievable)
        main = max(plans, key=lambda p: p.gemm.flops)
        unit, prec, total_units = ex.unit, ex.computed_as, mxus
        details.update({
            "unit_kind": "mxu", "passes": sum(p.passes for p in plans),
            "weight_tiles_loaded": sum(p.passes * p.row_splits for p in plans),
            "row_splits": main.row_splits, "rounds": sum(p.rounds for p in plans),
            "array_cycles": sum(p.cycles for p in plans),
            "fill_drain_cycles_per_pass": rows + cols,
            "padding_efficiency": main.padding_efficiency,
            "fill_efficiency": main.fill_efficiency,
            "achievable_fraction": achievable, "achievable_fraction_source": source,
        })
    else:
        unit, prec, total_units = vec_unit, vec_prec, vec_total
        part = Part(workload.flops, vec_eff, vec_used / vec_total, vec_used)
        details["unit_kind"] = "vpu" if vector_unit(device) else "array_row"
    return Mapping(
        target="tpu", device=device.name, exec_unit=unit, precision=prec,
        units_used=part.units_used, units_total=total_units, utilization=part.utilization,
        efficiency=part.efficiency, memory_level=level.name, vector_unit=vec_unit,
        vector_efficiency=vec_eff, overhead_s=float(device.overheads.launch_s.value),
        emulated=ex.emulated, details=details,
        stream_bytes=0 if weights_on_chip else workload.bytes_weights,
        stream_level="" if weights_on_chip else device.outermost_memory.name)
