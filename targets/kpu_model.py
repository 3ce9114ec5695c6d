"""map-kpu physics: GEMMs cut into scratchpad-sized tiles on the KPU's tile engines.

Why: a KPU tile engine computes only on data in its own scratchpad. A GEMM is therefore
split into output tiles (tm x tn) and K chunks (tk) whose working set - input tile, weight
tile and output tile, each double-buffered - fits the per-tile scratchpad. Each tiling
iteration loads operands, computes on the PE array and (at the end of an output tile)
stores results; with double buffering the three overlap, so an engine takes
max(its loads, its compute, its stores) plus one prologue load and one epilogue store
(overlap efficiency = compute / that time). Small
scratchpads force small tiles, more iterations and more re-fetched operands, which shows
up as load-bound engines (overlap efficiency < 1). When the whole K fits one chunk the
weight tile stays resident while an engine walks down M (weight-stationary reuse).

The tile shape is searched (PE-array multiples, powers of two and the exact extent) for
the fewest seconds; tiles are dealt round-robin to the engines. Numbers come from
targets/devices/kpu-*.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Mapping as TypingMapping

from targets.catalog import Device
from targets.mapping_common import (
    Part, achievable_fraction, balance, ceil_div, check_class, clamp_fraction, combine_plans,
    element_bytes, gemms_of, lanes_per_cycle, resolve_execution, serving_level,
    vector_precision, vector_unit, working_set,
)
from targets.workload import Gemm, Mapping, Workload

# Accumulators are 32-bit, as in every int8/fp16 MAC array (TPU v1: int8 products summed
# in 32-bit accumulators, Jouppi et al., ISCA 2017); the KPU spec (issue #4) is silent.
KPU_ACCUMULATOR_BYTES = 4

# Buffers per operand for load/compute/store overlap (double buffering, as the KPU
# architecture spec asks): the working set that must fit the scratchpad is doubled.
KPU_BUFFERS = 2


def _i(fig) -> int:
    return int(fig.value)


def _sizes(extent: int, step: int) -> list[int]:
    """Candidate tile extents: step x 2^i below the extent, plus the extent rounded up."""
    top = ceil_div(extent, step) * step
    out, size = [], step
    while size < top:
        out.append(size)
        size *= 2
    return out + [top]


@dataclass(frozen=True)
class TilePlan:
    gemm: Gemm
    tm: int
    tn: int
    tk: int
    output_tiles: int
    k_iterations: int
    units_used: int          # tile engines busy
    iterations_per_engine: int
    weight_tile_loads_per_engine: int
    scratchpad_bytes: int
    load_s: float            # per engine, all iterations
    compute_s: float
    store_s: float
    total_s: float
    tiled_traffic_bytes: int
    padding_efficiency: float
    overlap_efficiency: float
    utilization: float       # engines busy / engines; uneven tile counts are in efficiency
    efficiency: float


def _weight_loads(tiles: int, row_blocks: int, k_iters: int) -> int:
    """Weight tiles an engine loads for its `tiles` output tiles. With the whole K in one
    chunk the weight tile stays in the scratchpad while the engine walks down M, so it is
    reloaded only when the engine's contiguous run of tiles (M fastest) crosses into the
    next column block; otherwise every iteration needs a new weight chunk."""
    if k_iters > 1:
        return tiles * k_iters
    return min(tiles, ceil_div(tiles, row_blocks) + 1)


def plan_gemm(g: Gemm, device: Device, unit: str, precision: str,
              bandwidth: float) -> TilePlan | None:
    """The fastest scratchpad-fitting tiling of one GEMM, or None if nothing fits.

    Per engine: loads L, compute C and stores S overlap under double buffering, so the
    engine takes max(L, C, S) plus the first load (prologue) and the last store
    (epilogue). Engines share the source level's bandwidth equally."""
    kpu = device.kpu
    engines = _i(kpu.tiles)
    scratch = _i(kpu.scratchpad_per_tile_bytes)
    pe_r = _i(kpu.pe_rows) if kpu.pe_rows else 1
    pe_c = _i(kpu.pe_cols) if kpu.pe_cols else 1
    clock = float(device.unit(unit).clock_hz.value)
    peak = device.peak_flops(precision, unit)
    macs_per_cycle = peak / 2 / clock / engines          # per tile engine, at this precision
    b = element_bytes(precision)
    useful = g.m * g.n * g.k * g.batch
    best = None
    for tm, tn, tk in product(_sizes(g.m, pe_r), _sizes(g.n, pe_c), _sizes(g.k, pe_r)):
        need = KPU_BUFFERS * ((tm * tk + tk * tn) * b + tm * tn * KPU_ACCUMULATOR_BYTES)
        if need > scratch:
            continue
        row_blocks = ceil_div(g.m, tm)
        out_tiles = row_blocks * ceil_div(g.n, tn) * g.batch
        k_iters = ceil_div(g.k, tk)
        busy = min(out_tiles, engines)
        bw = bandwidth / busy
        tiles = ceil_div(out_tiles, busy)
        iters = tiles * k_iters
        w_loads = _weight_loads(tiles, row_blocks, k_iters)
        load = (iters * tm * tk + w_loads * tk * tn) * b / bw
        compute = iters * (tm * tn * tk / macs_per_cycle + pe_r + pe_c) / clock
        store = tiles * tm * tn * b / bw
        total = max(load, compute, store) + (tm * tk + tk * tn) * b / bw + tm * tn * b / bw
        if best is None or (total, -tm * tn * tk) < (best[0], -best[1] * best[2] * best[3]):
            best = (total, tm, tn, tk, out_tiles, k_iters, busy, iters, w_loads, need,
                    load, compute, store)
    if best is None:
        return None
    (total, tm, tn, tk, out_tiles, k_iters, busy, iters, w_loads, need,
     load, compute, store) = best
    w_total = busy * w_loads if k_iters == 1 else out_tiles * k_iters
    traffic = (out_tiles * k_iters * tm * tk + w_total * tk * tn + out_tiles * tm * tn) * b
    padded = ceil_div(g.m, tm) * tm * ceil_div(g.n, tn) * tn * k_iters * tk * g.batch
    return TilePlan(
        gemm=g, tm=tm, tn=tn, tk=tk, output_tiles=out_tiles, k_iterations=k_iters,
        units_used=busy, iterations_per_engine=iters, weight_tile_loads_per_engine=w_loads,
        scratchpad_bytes=int(need), load_s=load, compute_s=compute, store_s=store,
        total_s=total, tiled_traffic_bytes=int(traffic), padding_efficiency=useful / padded,
        overlap_efficiency=compute / total, utilization=busy / engines,
        efficiency=clamp_fraction(useful / (total * peak / 2)))


def map_workload(workload: Workload, device: Device,
                 calibration: TypingMapping[str, float] | None = None) -> Mapping:
    """Place one kernel on a KPU. Raises PrecisionNotSupportedError (a ValueError) listing
    the supported precisions when the device refuses the precision. Matrix work at a
    precision the tile array lacks (fp32, and bf16 upcast to it) runs on the vector unit."""
    check_class(device, "kpu")
    ex = resolve_execution(device, workload.precision)
    kpu, engines = device.kpu, _i(device.kpu.tiles)
    vec = vector_unit(device)
    vec_prec = vector_precision(vec, ex.computed_as)
    lanes = max(1, int(lanes_per_cycle(vec, vec_prec)))
    elements = max(1, workload.output_elements)
    vec_eff = clamp_fraction(balance(elements, lanes))
    vec_used = min(engines, ceil_div(elements, max(1, lanes // engines)))
    ws = working_set(workload)
    level = serving_level(device, ws)
    details: dict[str, int | float | str | bool] = {
        "tile_engines": engines,
        "scratchpad_capacity_bytes": _i(kpu.scratchpad_per_tile_bytes),
        "pe_rows": _i(kpu.pe_rows) if kpu.pe_rows else 1,
        "pe_cols": _i(kpu.pe_cols) if kpu.pe_cols else 1,
        "tile_source_level": level.name, "working_set_bytes": ws,
        "vector_precision": vec_prec, "vector_lanes": lanes,
    }
    gemms = gemms_of(workload)
    plans = []
    if workload.matrix_flops > 0 and gemms and device.unit(ex.unit).kind == "tile":
        bandwidth = level.achievable_bandwidth_bytes_per_s
        plans = [plan_gemm(g, device, ex.unit, ex.computed_as, bandwidth) for g in gemms]
    if plans and all(plans):
        achievable, source = achievable_fraction(calibration, workload.op_class, 1.0)
        part = combine_plans(workload, plans, achievable)
        main = max(plans, key=lambda p: p.gemm.flops)
        unit, prec = ex.unit, ex.computed_as
        details.update({
            "unit_kind": "tile", "tile_m": main.tm, "tile_n": main.tn, "tile_k": main.tk,
            "output_tiles": sum(p.output_tiles for p in plans),
            "tiling_iterations": sum(p.output_tiles * p.k_iterations for p in plans),
            "iterations_per_engine": main.iterations_per_engine,
            "scratchpad_bytes_used": main.scratchpad_bytes,
            "weights_resident": main.k_iterations == 1,
            "weight_tile_loads_per_engine": main.weight_tile_loads_per_engine,
            "load_s_per_engine": main.load_s, "compute_s_per_engine": main.compute_s,
            "store_s_per_engine": main.store_s,
            "tiled_traffic_bytes": sum(p.tiled_traffic_bytes for p in plans),
            "padding_efficiency": main.padding_efficiency,
            "overlap_efficiency": main.overlap_efficiency,
            "achievable_fraction": achievable, "achievable_fraction_source": source,
        })
    else:
        unit, prec = vec.name, vec_prec
        part = Part(workload.flops, vec_eff, vec_used / engines, vec_used)
        details["unit_kind"] = "vector"
    return Mapping(
        target="kpu", device=device.name, exec_unit=unit, precision=prec,
        units_used=part.units_used, units_total=engines, utilization=part.utilization,
        efficiency=part.efficiency, memory_level=level.name, vector_unit=vec.name,
        vector_efficiency=vec_eff, overhead_s=float(device.overheads.launch_s.value),
        emulated=ex.emulated, details=details)
