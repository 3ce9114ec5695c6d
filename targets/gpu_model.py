"""map-gpu physics: how one kernel's work lands on a GPU's SMs, and what share of peak it gets.

Why: a GPU reaches its datasheet peak only when every SM holds enough work, the output
tiles divide evenly into waves, the tiles are not mostly padding and the K loop is long
enough to fill the MMA pipeline. At batch 1 a small layer cannot fill 132 SMs; a large
GEMM can. Utilization (time-averaged share of SMs holding work) and efficiency (expected
share of the unit's peak) are computed separately and never confused.

Matrix work (GEMMs, implicit-GEMM convolutions) is tiled the way cuBLAS/CUTLASS do it: a
thread block computes a tile x tile block of the output; blocks = output tiles x batch.
Split-K is not modelled. Vector work gets one thread per output element on the CUDA cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping as TypingMapping

from targets.catalog import Device, GpuSpec
from targets.mapping_common import (
    Part, achievable_fraction, balance, bits, ceil_div, check_class, clamp_fraction,
    combine_plans, element_bytes, gemms_of, resolve_execution, serving_level,
    vector_precision, vector_unit, working_set,
)
from targets.workload import Gemm, Mapping, Workload

# Square output tiles a GEMM thread block may compute, largest first. 128x128 and 64x64
# are among cuBLAS's tile sizes (NVIDIA, "Matrix Multiplication Background User's Guide",
# DU-09799-001, 2023, sec. 2.3 "Typical Tile Dimensions in cuBLAS"); 32x32 (four warps of
# 16x16, two mma.m16n8k16 each) is the smallest four-warp tile: modelling assumption.
# Rectangular tiles (256x128, ...) are not modelled.
GEMM_TILE_SIZES = (128, 64, 32)

# Warps per GEMM thread block: one per SM sub-partition, so one block can issue to all
# four tensor cores (4 warp schedulers per SM since Volta: NVIDIA V100/A100/H100
# whitepapers); CUTLASS's default 128x128 tensor-op tile uses 2x2 warps of 64x64.
GEMM_BLOCK_WARPS = 4

# K extent of one main-loop step, in bytes of one operand row: 64 elements of 16-bit data
# (CUTLASS's Hopper examples use TileShape 128x128x64 for bf16), 128 of 8-bit, 32 of
# 32-bit. Modelling assumption: 128 bytes for every type.
GEMM_K_TILE_BYTES = 128

# Main-loop steps that do no math: the prologue load before the first MMA and the epilogue
# that writes the accumulators out. Modelling assumption (one step each): pipeline
# efficiency = k_steps / (k_steps + 2), so K = 64 in bf16 (1 step) reaches 1/3 and
# K = 4096 (64 steps) 97 %.
GEMM_PIPELINE_OVERHEAD_STEPS = 2

# Tensor cores need K and N to be multiples of 16 bytes of elements (8 for fp16/bf16, 16
# for int8/fp8, 4 for tf32, 2 for fp64): NVIDIA, "Matrix Multiplication Background
# User's Guide", sec. 2.2 "Tensor Core Requirements".
TENSOR_CORE_ALIGNMENT_BYTES = 16

# Share of the dense tensor-core peak a large, well-shaped GEMM reaches after the wave,
# padding and pipeline losses modelled above. Calibrated on a published H100-SXM bf16
# measurement: OpenXLA's GEMM cost table (xla/service/gpu/model/matmul_interpolator_data.h,
# kDefaultMatmulPTable, sm_90, b=1 m=n=k=4096) gives 7.8333e14 FLOP/s, i.e. 175.5 us per
# call. Its small shapes show a ~5.9 us floor, so the time includes launch: the catalog's
# 5 us H100 launch is taken off, leaving 170.5 us = 806 TFLOPS = 81.5 % of the 989.4 TFLOPS
# dense peak, then divided by this model's own factors at that shape (1024 tiles on 132
# SMs: 1024/1056; 64 k-steps: 64/66), so the model reproduces the measurement there.
XLA_H100_BF16_GEMM_4096_S = 2 * 4096**3 / 7.83328793548203e14
GEMM_ACHIEVABLE_FRACTION = ((2 * 4096**3 / (XLA_H100_BF16_GEMM_4096_S - 5e-6) / 989.4e12)
                            / ((1024 / 1056) * (64 / 66)))

# One thread per output element, 256 threads per block for vector kernels (CUDA C++ Best
# Practices Guide: 128-256 threads per block is a good starting point).
VECTOR_BLOCK_THREADS = 256

# Registers per thread of a simple elementwise kernel. Modelling assumption: such kernels
# compile to at most 32 registers, so registers never limit their occupancy.
VECTOR_REGISTERS_PER_THREAD = 32

# Resident warps per SM needed to issue an arithmetic instruction every cycle: 4 warp
# schedulers x 4-cycle dependent-issue latency of FP32 FMA (Jia et al., "Dissecting the
# NVIDIA Volta GPU Architecture via Microbenchmarking", arXiv:1804.06826, 2018).
WARPS_TO_HIDE_ALU_LATENCY = 4 * 4


def _i(fig) -> int:
    return int(fig.value)


def resident_blocks(gpu: GpuSpec, threads_per_block: int, registers_per_thread: int,
                    shared_memory_per_block: int) -> int:
    """Blocks one SM holds at once: the tightest of its thread, warp, block, register and
    shared-memory limits (CUDA occupancy calculator rules, allocation granularity ignored)."""
    warps = ceil_div(threads_per_block, _i(gpu.warp_size))
    limits = [_i(gpu.max_threads_per_unit) // threads_per_block,
              _i(gpu.max_warps_per_unit) // warps,
              _i(gpu.max_blocks_per_unit),
              _i(gpu.registers_per_unit) // max(1, threads_per_block * registers_per_thread)]
    if shared_memory_per_block:
        limits.append(_i(gpu.shared_memory_per_unit_bytes) // shared_memory_per_block)
    return max(0, min(limits))


@dataclass(frozen=True)
class GemmPlan:
    """One GEMM on the SMs, with every factor of its efficiency kept for the IR."""

    gemm: Gemm
    tile: int
    blocks: int
    units_used: int          # SMs holding blocks
    waves: int
    tail_sms: int
    utilization: float
    wave_efficiency: float
    padding_efficiency: float
    k_steps: int
    pipeline_efficiency: float
    operand_efficiency: float
    stages: int
    resident_blocks_per_sm: int
    efficiency: float


def plan_gemm(g: Gemm, device: Device, unit: str, precision: str, achievable: float) -> GemmPlan:
    """Tile a GEMM: the tile that puts work on the most SMs wins; on a tie the one with
    the least padding, then the largest (larger tiles re-read less operand data, which is
    why cuBLAS prefers them once the GPU is full)."""
    gpu, sms = device.gpu, _i(device.compute.units)

    def rank(t: int) -> tuple[int, float, int]:
        r, c = ceil_div(g.m, t), ceil_div(g.n, t)
        return min(r * c * g.batch, sms), (g.m * g.n) / (r * t * c * t), t

    tile = max(GEMM_TILE_SIZES, key=rank)
    rows, cols = ceil_div(g.m, tile), ceil_div(g.n, tile)
    blocks = rows * cols * g.batch
    size = element_bytes(precision)
    # Multistage pipelines are sized to fill shared memory (CUTLASS 3 StageCountAutoCarveout),
    # so one GEMM block is resident per SM and co-resident tiles never share tensor cores.
    stage_bytes = 2 * tile * GEMM_K_TILE_BYTES  # one A and one B slab of K_TILE bytes
    stages = max(1, _i(gpu.shared_memory_per_unit_bytes) // stage_bytes)
    threads = GEMM_BLOCK_WARPS * _i(gpu.warp_size)
    resident = resident_blocks(gpu, threads, ceil_div(tile * tile, threads),
                               stages * stage_bytes)
    slots = sms * max(1, resident)
    waves = ceil_div(blocks, slots)
    last = blocks - (waves - 1) * slots
    k_tile = max(1, int(GEMM_K_TILE_BYTES * 8 // bits(precision)))
    k_steps = ceil_div(g.k, k_tile)
    pipeline = k_steps / (k_steps + GEMM_PIPELINE_OVERHEAD_STEPS)
    padding = (g.m * g.n) / (rows * tile * cols * tile)
    wave = blocks / (waves * slots)
    # Operand feed: a tile x tile block reads 2*tile elements per tile*tile MACs from shared
    # memory; the SM's shared-memory bandwidth caps the MMA rate for small tiles.
    macs_per_sm = device.peak_flops(precision, unit) / 2 / sms
    need = macs_per_sm * (2 * tile) / (tile * tile) * size
    smem_bw = device.memory[0].bandwidth_bytes_per_s.value / sms
    operand = min(1.0, smem_bw / need)
    eff = clamp_fraction(wave * padding * pipeline * operand * achievable)
    return GemmPlan(g, tile, blocks, min(blocks, sms), waves, min(sms, last),
                    balance(blocks, sms), wave, padding, k_steps, pipeline, operand, stages,
                    resident, eff)


@dataclass(frozen=True)
class VectorPlan:
    threads: int
    warps: int
    blocks: int
    units_used: int          # SMs holding blocks
    waves: int
    resident_blocks_per_sm: int
    warps_per_busy_sm: int
    utilization: float
    issue_efficiency: float
    efficiency: float


def plan_vector(elements: int, device: Device) -> VectorPlan:
    """One thread per output element on the CUDA cores; efficiency = time-averaged share of
    SMs busy x the share of issue slots the resident warps can fill."""
    gpu, sms = device.gpu, _i(device.compute.units)
    threads = max(1, elements)
    warp = _i(gpu.warp_size)
    warps = ceil_div(threads, warp)
    blocks = ceil_div(threads, VECTOR_BLOCK_THREADS)
    resident = max(1, resident_blocks(gpu, VECTOR_BLOCK_THREADS, VECTOR_REGISTERS_PER_THREAD, 0))
    used = min(blocks, sms)
    per_sm = min(resident * VECTOR_BLOCK_THREADS // warp, ceil_div(warps, used))
    util = balance(blocks, sms)
    issue = min(1.0, per_sm / WARPS_TO_HIDE_ALU_LATENCY)
    return VectorPlan(threads, warps, blocks, used, ceil_div(blocks, sms * resident), resident,
                      per_sm, util, issue, clamp_fraction(util * issue))


def tensor_core_aligned(gemms: tuple[Gemm, ...], precision: str) -> bool:
    """K and N of every GEMM are multiples of 16 bytes of elements."""
    step = _alignment_step(precision)
    return all(g.k % step == 0 and g.n % step == 0 for g in gemms)


def _alignment_step(precision: str) -> int:
    return max(1, int(TENSOR_CORE_ALIGNMENT_BYTES * 8 // bits(precision)))


def pad_for_tensor_cores(gemms: tuple[Gemm, ...], precision: str) -> tuple[tuple[Gemm, ...], float]:
    """Unaligned K and N are zero-padded up to the tensor-core alignment, as cuDNN and
    TensorRT do (a 3-channel 7x7 stem conv has K = 147, padded to 152 in fp16): the GEMMs
    stay on the tensor cores and the padding is wasted work. Returns the padded GEMMs and
    useful / padded FLOPs. NVIDIA Deep Learning Performance Guide, 'Tensor Core
    Requirements': cuDNN pads channel counts that are not multiples of 8 automatically
    (since cuDNN 7.6.3)."""
    step = _alignment_step(precision)
    padded = tuple(Gemm(g.m, ceil_div(g.n, step) * step, ceil_div(g.k, step) * step, g.batch) for g in gemms)
    useful = sum(g.flops for g in gemms)
    total = sum(g.flops for g in padded)
    return padded, (useful / total if total else 1.0)


def map_workload(workload: Workload, device: Device,
                 calibration: TypingMapping[str, float] | None = None) -> Mapping:
    """Place one kernel on a GPU. Raises PrecisionNotSupportedError (a ValueError) listing
    the supported precisions when the device refuses the workload's precision."""
    check_class(device, "gpu")
    ex = resolve_execution(device, workload.precision)
    gpu, sms = device.gpu, _i(device.compute.units)
    cuda = vector_unit(device)
    vec_prec = vector_precision(cuda, ex.computed_as)
    vec = plan_vector(workload.output_elements, device)
    gemms = gemms_of(workload)
    details: dict[str, int | float | str | bool] = {
        "sms_total": sms, "warp_size": _i(gpu.warp_size),
        "vector_threads": vec.threads, "vector_warps": vec.warps, "vector_blocks": vec.blocks,
        "vector_threads_per_block": VECTOR_BLOCK_THREADS,
        "vector_resident_blocks_per_sm": vec.resident_blocks_per_sm,
        "vector_warps_per_busy_sm": vec.warps_per_busy_sm,
        "vector_issue_efficiency": vec.issue_efficiency, "vector_precision": vec_prec,
    }
    if workload.matrix_flops > 0 and gemms:
        tensor = device.unit(ex.unit).kind == "matrix"
        aligned = tensor_core_aligned(gemms, ex.computed_as)
        alignment_efficiency = 1.0
        if tensor and not aligned:
            gemms, alignment_efficiency = pad_for_tensor_cores(gemms, ex.computed_as)
        # Off the tensor cores, a GEMM runs on the CUDA cores at the nearest precision they have.
        unit, prec = (ex.unit, ex.computed_as) if tensor else (cuda.name, vec_prec)
        achievable, source = achievable_fraction(calibration, workload.op_class,
                                                 GEMM_ACHIEVABLE_FRACTION)
        plans = [plan_gemm(g, device, unit, prec, achievable * alignment_efficiency) for g in gemms]
        part = combine_plans(workload, plans)
        main = max(plans, key=lambda p: p.gemm.flops)
        threads = GEMM_BLOCK_WARPS * _i(gpu.warp_size)
        blocks = sum(p.blocks for p in plans)
        details.update({
            "tensor_cores": tensor, "tensor_core_aligned": aligned,
            "alignment_efficiency": alignment_efficiency, "tile_m": main.tile, "tile_n": main.tile,
            "tile_k": max(1, int(GEMM_K_TILE_BYTES * 8 // bits(prec))),
            "blocks": blocks, "threads_per_block": threads, "threads": blocks * threads,
            "warps": blocks * GEMM_BLOCK_WARPS,
            "resident_blocks_per_sm": main.resident_blocks_per_sm,
            "pipeline_stages": main.stages,
            "occupancy": main.resident_blocks_per_sm * GEMM_BLOCK_WARPS
            / _i(gpu.max_warps_per_unit),
            "waves": sum(p.waves for p in plans), "tail_sms_busy": main.tail_sms,
            "tail_fraction": main.tail_sms / sms, "k_steps": main.k_steps,
            "wave_efficiency": main.wave_efficiency,
            "padding_efficiency": main.padding_efficiency,
            "pipeline_efficiency": main.pipeline_efficiency,
            "operand_bandwidth_efficiency": main.operand_efficiency,
            "achievable_fraction": achievable, "achievable_fraction_source": source,
        })
    else:
        unit, prec = cuda.name, vec_prec
        part = Part(workload.vector_flops, vec.efficiency, vec.utilization, vec.units_used)
        details.update({
            "tensor_cores": False, "blocks": vec.blocks,
            "threads_per_block": VECTOR_BLOCK_THREADS, "threads": vec.threads,
            "warps": vec.warps, "resident_blocks_per_sm": vec.resident_blocks_per_sm,
            "occupancy": vec.warps_per_busy_sm / _i(gpu.max_warps_per_unit),
            "waves": vec.waves,
        })
    ws = working_set(workload)
    details["working_set_bytes"] = ws
    return Mapping(
        target="gpu", device=device.name, exec_unit=unit, precision=prec,
        units_used=part.units_used, units_total=sms, utilization=part.utilization,
        efficiency=part.efficiency, memory_level=serving_level(device, ws).name,
        vector_unit=cuda.name, vector_efficiency=vec.efficiency,
        overhead_s=float(device.overheads.launch_s.value), emulated=ex.emulated,
        details=details)
