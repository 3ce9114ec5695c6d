"""map-cpu physics: cores, SIMD/matrix extensions and cache blocking for one op on a CPU.

Why: a CPU reaches its FMA peak only when every core has a chunk of work worth a thread
(small ops stay on one core), when the right instruction set applies (AMX for bf16/int8
on Sapphire Rapids, VNNI for int8, AVX512_BF16), and when the working set lives in a
cache close enough. What fraction of peak real kernels then reach depends on the op class
(BLAS GEMM vs direct convolution vs streaming element-wise), so that fraction is a table of
measured defaults that a calibration file overrides. What PyTorch copies around each
library call, and which library runs a convolution, are targets/cpu_copies.py's. Default
device: `host`.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping as TypingMapping

from targets.catalog import Device
from targets.mapping_common import (
    achievable_fraction, bits, ceil_div, check_class, clamp_fraction, gemms_of, resolve_execution,
    serving_level, vector_peak, vector_precision, vector_unit, working_set,
)
from targets.cpu_copies import (
    REORDERED_CLASSES, activation_reorder_s, copy_s, library_result_bytes, per_call_copies,
    runs_natively, transposing_copy_s,
)
from targets.workload import Gemm, Mapping, Workload

DEFAULT_DEVICE = "host"

# Work per thread below which splitting across cores does not pay.
# Vector work: PyTorch's at::internal::GRAIN_SIZE = 32768 elements (aten/src/ATen/Parallel.h:
# "no parallel algorithm ... should split work into smaller than GRAIN_SIZE chunks").
VECTOR_GRAIN_ELEMENTS = 32768
# Matrix work: OpenBLAS runs a GEMM on one thread per 65536 x 4 = 262144 multiply-adds
# (interface/gemm.c get_gemm_optimal_nthreads: SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD).
GEMM_GRAIN_MACS = 65536 * 4
# A matrix-vector product (one row) splits far earlier: PyTorch's x86 wheels call oneMKL
# (torch.__config__.show(): BLAS_INFO=mkl), whose GEMV runs on 2 threads 1.28x faster than on
# one at 1x512->256 (131,072 multiply-adds), 1.05x at 65,536, 0.88x at 32,768, 2.07x at
# 1x784->512, while GEMMs of a few rows gain little (4x256->256 0.97x, 32x256->256 1.30x at
# 2.1 M); 2-core Xeon test machine, oneMKL 2024.2, bench/gemv_threads.py prints these. A
# GEMV is bound by reading its weights, and a second core brings its own cache and load ports.
GEMV_GRAIN_MACS = 65536

# Measured by perf-opt's predecessor on an i7-12700K (architecture notes, "Hardware Mapper
# Calibration Proposal"): OpenBLAS SGEMM 4096^2 833 GFLOPS, PyTorch conv2d 3x3 with 64
# channels 280 GFLOPS, ReLU 12 GFLOPS at 72.1 GB/s. The notes divided by 1280 GFLOPS (8
# P-cores at 5.0 GHz); the catalog's i7-12700k FP32 peak, against which every efficiency
# here is applied, is 1446.4 GFLOPS (8 P-cores at 4.7 GHz + 4 E-cores at 3.8 GHz).
I7_12700K_FP32_PEAK_FLOPS = 1446.4e9
CPU_GEMM_EFFICIENCY = 833e9 / I7_12700K_FP32_PEAK_FLOPS          # 0.576
# The notes' conv figure (280e9 / 1446.4e9 = 0.194) is one 64-channel 3x3 layer on a hybrid
# CPU. It contradicts the published measurement of Georganas et al., "Anatomy of
# High-Performance Deep Learning Convolutions on SIMD Architectures" (SC18,
# arXiv:1808.05567): oneDNN-style JIT direct convolutions run at GEMM-like fractions of
# peak. The published result wins, so a convolution defaults to the GEMM figure; this
# project's own calibration of a 2-core EPYC (targets/calibrations/ci-host-2core.json:
# conv 0.68-0.81, matmul 0.81-0.89 of peak above 1e8 FLOPs) agrees.
CPU_CONV_EFFICIENCY = CPU_GEMM_EFFICIENCY
I7_CONV_MEASURED_FRACTION = 280e9 / I7_12700K_FP32_PEAK_FLOPS     # 0.194
# The ReLU figure (0.8 % of peak) is bandwidth-bound: an FP32 ReLU moves 8 bytes per FLOP,
# so 72.1 GB/s (94 % of the 76.8 GB/s DRAM) allows ~9-12 GFLOPS whatever the cores can
# do. The roofline's memory term reproduces it, so it is recorded, not applied as a
# compute efficiency (that would count the DRAM limit twice).
CPU_RELU_MEASURED_FRACTION = 12e9 / I7_12700K_FP32_PEAK_FLOPS    # 0.0083
# Element-wise and other non-FMA vector work: one operation per lane per instruction where
# the peak counts an FMA as 2, so at most half the FMA peak. Modelling assumption.
CPU_VECTOR_EFFICIENCY = 0.5

# Default achieved fraction of the executing unit's peak, per op class (calibration wins).
# Classes without a measurement borrow the nearest measured kind (assumption, noted).
DEFAULT_CLASS_EFFICIENCY: dict[str, float] = {
    "matmul": CPU_GEMM_EFFICIENCY,
    "attention": CPU_GEMM_EFFICIENCY,      # two GEMMs dominate; assumption
    "conv": CPU_CONV_EFFICIENCY,
    # A depthwise convolution has no channel reduction to block in registers, so it keeps
    # the notes' slow-convolution figure (assumption; the 2-core calibration measures
    # 0.07-0.27 for it).
    "depthwise_conv": I7_CONV_MEASURED_FRACTION,
    "elementwise": CPU_VECTOR_EFFICIENCY,
    "reduction": CPU_VECTOR_EFFICIENCY,
    "normalization": CPU_VECTOR_EFFICIENCY,
    "data_movement": CPU_VECTOR_EFFICIENCY,
    "other": CPU_VECTOR_EFFICIENCY,
}

# PyTorch allocates CPU tensors with posix_memalign (c10/core/impl/alloc_cpu.cpp), i.e.
# glibc malloc, which serves a block above its mmap threshold with fresh pages from mmap.
# The threshold is dynamic but never rises above DEFAULT_MMAP_THRESHOLD_MAX, 4 MiB x
# sizeof(long) = 32 MiB on 64-bit systems (mallopt(3), M_MMAP_THRESHOLD), so every output
# larger than that is page-faulted and zeroed by the kernel on its first write, each time
# the op runs. Smaller blocks come from the heap, where they are fresh only when the heap
# was trimmed and regrown: that depends on the model's whole allocation history, which
# map-cpu simulates (targets/glibc_heap.py) and hands over as Workload.fresh_bytes.
FRESH_ALLOCATION_MIN_BYTES = 4 * 1024 * 1024 * 8

# The FP32 figures above are AVX2/AVX-512 FMA measurements; an AMX tile unit reaches a far
# smaller share of its 16x larger peak. Published measurement (github.com/johnnyw3/gemm,
# README benchmark table): a 4096^3 BF16 GEMM (FP32 results) on a Xeon 6972P (Granite
# Rapids), one thread, 1229 GFLOPS with oneMKL/OpenBLAS (4 threads: 4675 GFLOPS). Against
# 1024 FLOP/cycle per core at the 3.9 GHz maximum turbo (Hardwareluxx, Xeon 6900P table,
# 2024-09): 1229 / 3994 = 0.308 (4 threads 0.293; the AMX clock may be lower, so this is
# a floor). This project's calibration of a 2-core AMX Xeon VM agrees: eager PyTorch BF16
# matmuls reach 0.04-0.27 of the AMX peak (targets/calibrations/ci-host-xeon-2core-0305.json).
AMX_GEMM_EFFICIENCY = 1229e9 / (1024 * 3.9e9)                    # 0.308
AMX_CLASSES = ("matmul", "attention")

# PyTorch's x86 wheels send FP32 matmuls, and the GEMMs inside its CPU
# scaled_dot_product_attention, to oneMKL's sgemm (torch.__config__.show(): BLAS_INFO=mkl).
# On an AMD CPU oneMKL runs the kernels of its generic "def" library tuned for Zen, on
# 256-bit registers even where the CPU has AVX-512. Measured on the 2-core Zen 5 test VM
# (torch 2.14.1, oneMKL 2024.0 Update 2): perf puts 43-48% of a 1024^2 FP32 mm loop and of
# an FP32 sdpa loop in mkl_blas_def_sgemm_kernel_0_zen, whose instructions use ymm and xmm
# registers only; MKL_VERBOSE names "Intel(R) Architecture processors", where on an Intel
# CPU it names the AVX-512 code path. Its calibration (targets/calibrations/
# ci-host-zen5-2core-*.json) finds large FP32 GEMMs at 0.39 of the AVX-512 peak, 0.78 of
# the 256-bit rate, while oneDNN's AVX-512 convolutions reach 0.70. Published: pytorch/
# builder#504 (2020, oneMKL 2020.2 on a Ryzen 3700X: Zen kernels for DGEMM, a slower generic
# path for SGEMM). So on AMD an FP32 GEMM runs at most at the 256-bit rate; a CPU whose
# datapath is 256 bits (Zen 4) loses nothing. BF16 GEMMs go to oneDNN, which uses AVX-512.
BLAS_CLASSES = ("matmul", "attention")
MKL_AMD_SIMD_BITS = 256


def blas_code_path_fraction(workload: Workload, device: Device, computed_as: str,
                            amx: bool, native_conv: bool = False) -> float:
    """Share of the SIMD peak the BLAS's code path can use for this op: 256 bits of a wider
    datapath for an FP32 GEMM on an AMD CPU (oneMKL's Zen kernels; a convolution on
    PyTorch's native path is one such sgemm), else all of it."""
    width = _i(device.cpu.simd_width_bits)
    blas = workload.op_class in BLAS_CLASSES or native_conv
    if (blas and computed_as == "fp32" and not amx
            and device.vendor == "AMD" and width > MKL_AMD_SIMD_BITS):
        return MKL_AMD_SIMD_BITS / width
    return 1.0


# Eager BF16 convolutions gain far less than the BF16 units' peak: published measurement
# (M. Ma, V. Fedyunin, W. Wei, "Empowering PyTorch on Intel Xeon Scalable processors with
# Bfloat16", PyTorch blog, 2022-08-04): TorchVision models in eager PyTorch 1.12 on a Xeon
# 8380H (AVX512-BF16, 2x the FP32 peak) run 1.4x to 2.2x faster in BF16 than in FP32. So a
# BF16 convolution defaults to the FP32 convolution's throughput times the middle of that
# range, as a fraction of the BF16 unit's peak: 0.576 x 1.8 / 2 = 0.52 with AVX512-BF16,
# 0.576 x 1.8 / 16 = 0.065 on AMX tiles. This project's calibration of a 2-core AMX Xeon
# VM agrees: eager BF16 convolutions at 0.04-0.12 of the AMX peak, models 1.1-2.7x faster
# than in FP32 (targets/calibrations/ci-host-xeon-2core-0305.json, targets/measurements/).
EAGER_BF16_CONV_SPEEDUP = 1.8


# A compiled graph's tail is a loop Inductor generates, and it runs at about the rate eager
# PyTorch's kernel of each op does, far below the vector unit's default share: its batch
# norm + ReLU6 over 8x144x56x56 channels-last on the Zen 5 VM takes 0.69 ms in FP32 and 0.73
# ms in BF16 (5 G elements/s, hot; a copy of the same tensor 0.32 and 0.09 ms), over
# 8x96x112x112 BF16 1.88 ms against 1.62 ms for the two eager ops (the default, half the
# vector peak, gave a tenth of that). Exponentials (SiLU, sigmoid, GELU: passes/work.py gives
# exp one FLOP; vectorized it is ~10-20 instructions) likewise: BN + SiLU over 1x96x112x112
# FP32 takes 316 us, BN + ReLU 117 us. So the tail's ops of each kind a calibration measured
# run at that kind's rate. A frozen graph (prepacked weights) applies its tail as oneDNN
# post-ops on results still in registers: there only the exponentials keep their kind's
# rate.
EXPONENTIAL_KINDS = frozenset({"silu", "sigmoid", "gelu", "tanh", "softmax", "elu", "mish",
                               "exp", "log", "erf"})


def compiled_tail_efficiency(workload: Workload, calibration: TypingMapping[str, float] | None,
                             default: float, core_share: float) -> float:
    """Vector efficiency of a compiled unit's tail: its vector FLOPs over the time of each
    part at its rate (the kinds a calibration measured at their fraction times the share of
    cores the loop uses; for prepacked weights only the exponential kinds; the rest at
    `default`)."""
    if not calibration or not workload.vector_flops:
        return default
    seconds = float(workload.vector_flops) / default   # in units of 1 / (vector peak)
    for kind, flops in workload.tail:
        if workload.prepacked and kind not in EXPONENTIAL_KINDS:
            continue
        measured = calibration.get(f"kind:{kind}")
        if measured:
            seconds += flops / clamp_fraction(measured * core_share) - flops / default
    return clamp_fraction(workload.vector_flops / seconds)


# AMX tiles hold 16 rows of 64 bytes (Intel Architecture Instruction Set Extensions
# Programming Reference, ch. 3 "Intel AMX": TMM registers up to 16 rows x 64 bytes), so
# M and N pad to 16 and K to 64 bytes of elements.
AMX_TILE_ROWS = 16
AMX_TILE_ROW_BYTES = 64


def _i(fig) -> int:
    return int(fig.value)


def _amx_padding(workload: Workload, precision: str) -> float:
    """Useful / padded MACs when the GEMMs are cut into AMX tiles."""
    k_step = AMX_TILE_ROW_BYTES * 8 // bits(precision)
    useful = padded = 0
    for g in gemms_of(workload):
        useful += g.m * g.n * g.k * g.batch
        padded += (ceil_div(g.m, AMX_TILE_ROWS) * AMX_TILE_ROWS * ceil_div(g.n, AMX_TILE_ROWS)
                   * AMX_TILE_ROWS * ceil_div(g.k, k_step) * k_step * g.batch)
    return useful / padded if padded else 1.0


def map_workload(workload: Workload, device: Device,
                 calibration: TypingMapping[str, float] | None = None) -> Mapping:
    """Place one op on a CPU. Raises PrecisionNotSupportedError (a ValueError) listing the
    supported precisions when the device refuses the precision."""
    check_class(device, "cpu")
    ex = resolve_execution(device, workload.precision)
    cpu, cores = device.cpu, _i(device.compute.units)
    simd = vector_unit(device)
    if (workload.op_class == "depthwise_conv" and device.unit(ex.unit).kind == "matrix"
            and ex.computed_as in simd.peak):
        # A depthwise convolution has no channel reduction to put in AMX tiles (their dot
        # products run along K = channels); oneDNN runs it with AVX-512 kernels.
        ex = dataclasses.replace(ex, unit=simd.name,
                                 peak_flops=float(simd.peak[ex.computed_as].value) / ex.cost_factor)
    unit = device.unit(ex.unit)
    is_matrix = workload.matrix_flops > 0
    vec_prec = vector_precision(simd, ex.computed_as)
    vec_cores = min(cores, max(1, ceil_div(workload.output_elements, VECTOR_GRAIN_ELEMENTS)))
    if is_matrix:
        chunks = max(1, int(workload.matrix_flops / 2 // GEMM_GRAIN_MACS), _gemv_chunks(workload))
        cores_used = min(cores, chunks)
    else:
        chunks = ceil_div(max(1, workload.output_elements), VECTOR_GRAIN_ELEMENTS)
        cores_used = vec_cores
    amx = unit.kind == "matrix"
    default = DEFAULT_CLASS_EFFICIENCY.get(workload.op_class, CPU_VECTOR_EFFICIENCY)
    if amx and workload.op_class in AMX_CLASSES:
        default = AMX_GEMM_EFFICIENCY
    elif is_matrix and ex.computed_as == "bf16" and workload.op_class in REORDERED_CLASSES:
        fp32_peak = float(simd.peak["fp32"].value) if "fp32" in simd.peak else 0.0
        default = clamp_fraction(default * EAGER_BF16_CONV_SPEEDUP * fp32_peak
                                 / float(unit.peak["bf16"].value)) if fp32_peak else default
    class_eff, source = achievable_fraction(calibration, workload.op_class, default)
    vec_class, _ = achievable_fraction(calibration, "elementwise", CPU_VECTOR_EFFICIENCY)
    padding = _amx_padding(workload, ex.computed_as) if amx and is_matrix else 1.0
    native = runs_natively(workload, device)
    code_path = (blas_code_path_fraction(workload, device, ex.computed_as, amx, native)
                 if is_matrix else 1.0)
    # The element-wise tail of a fused GEMM runs at the element-wise rate; a vector-only op
    # at its own class's rate.
    vector_eff = clamp_fraction((vec_class if is_matrix else class_eff) * vec_cores / cores)
    if is_matrix and not workload.plain_layout:
        vector_eff = compiled_tail_efficiency(workload, calibration, vector_eff, vec_cores / cores)
    efficiency = clamp_fraction(class_eff * padding * code_path * cores_used / cores) if is_matrix \
        else vector_eff
    ws = working_set(workload)
    per_core = ws / cores_used
    level = serving_level(device, ws, per_unit_bytes=per_core)
    # Between two runs of this kernel everything the model touches in a run passes through
    # the caches (its weights, their per-call blocked copies, activations and their
    # copies), so its weights are re-read from the nearest level that holds all of that
    # (split over the cores that run it), when that is farther: a weight is reused once a
    # run, a cyclic pattern that an LRU-like cache smaller than the run does not keep.
    reuse = max(workload.model_weight_bytes, workload.model_run_bytes)
    weight_level = serving_level(device, reuse, per_unit_bytes=reuse / cores_used)
    order = [lvl.name for lvl in device.memory]
    farther = order.index(weight_level.name) > order.index(level.name)
    streamed = workload.bytes_weights if workload.model_weight_bytes and farther else 0
    layout_bytes, reorder_bytes, activation_bytes, columns = per_call_copies(workload, device, amx)
    # The compiled graph's channels-last copy of the weights: read from where they live,
    # written to a new buffer (its fresh pages are the allocator simulation's), transposed.
    layout_s = transposing_copy_s(device, layout_bytes, cores_used,
                                  source=weight_level if farther else level)
    reorder_s = 0.0
    if reorder_bytes:
        # The reorder reads the plain weights from where they live and writes the blocked
        # copy to the level that holds it; the kernel then reads the copy from there.
        reorder_s = copy_s(device, reorder_bytes, cores_used,
                            source=weight_level if farther else level)
        streamed = 0
    activation_s = activation_reorder_s(workload, device, cores_used) if activation_bytes else 0.0
    unfold_s = copy_s(device, columns, cores_used)
    # The compiled graph's loop after the library call reads its result and writes the
    # output; its arithmetic is already in the vector time, so it adds what the pass over
    # memory takes beyond that. Result and output are two buffers (Inductor reuses the
    # result's only when it is dead), so the pass runs from the level that holds both:
    # MobileNetV2 at batch 8 in BF16 finishes its 1x1 16->96 layer at 112x112 (19.3 MB
    # result) in 1.5 ms, 25 GB/s, where the VM's L3 copies at 166 GB/s up to 8 MB, 105 at
    # 16 MB, 47 at 32 MB (calibration sweep) and DRAM at 37.
    epilogue_bytes = library_result_bytes(workload)
    epilogue_s = 0.0
    if epilogue_bytes:
        tail_compute_s = workload.vector_flops / (
            vector_peak(device, simd.name, ex.computed_as)[1] * vector_eff)
        epilogue_s = max(0.0, copy_s(device, epilogue_bytes, vec_cores,
                                     footprint=2 * epilogue_bytes) - tail_compute_s)
    isa = set(cpu.isa_extensions)
    width = _i(cpu.simd_width_bits)
    overhead = float(device.overheads.framework_dispatch_s.value) \
        if device.overheads.framework_dispatch_s else 0.0
    if cores_used > 1:  # fork/join of the intra-op thread pool
        overhead += float(device.overheads.launch_s.value)
    first_touch_s = fresh_allocation_s(workload, device)
    call = device.overheads.library_call_s.get(f"{workload.op_class}:{workload.precision}")
    library_s = (float(call.value) * library_calls(workload)
                 if call is not None and not native else 0.0)
    overhead += (first_touch_s + layout_s + reorder_s + activation_s + library_s + unfold_s
                 + epilogue_s)
    details: dict[str, int | float | str | bool] = {
        "cores_total": cores, "cores_used": cores_used, "parallel_chunks": chunks,
        "grain": GEMM_GRAIN_MACS if is_matrix else VECTOR_GRAIN_ELEMENTS,
        "grain_unit": "multiply_adds" if is_matrix else "elements",
        "simd_width_bits": width, "simd_lanes": max(1, width // bits(vec_prec)),
        "fma_units_per_core": _i(cpu.fma_units_per_core),
        "matrix_extension": unit.name if amx else "none", "amx": amx,
        "amx_padding_efficiency": padding, "blas_code_path_fraction": code_path,
        "vnni": ex.computed_as == "int8" and bool(isa & {"avx512_vnni", "avx_vnni", "dotprod"}),
        "avx512_bf16": ex.computed_as == "bf16" and "avx512_bf16" in isa,
        "working_set_bytes": ws, "working_set_per_core_bytes": int(per_core),
        "cache_level": level.name, "class_efficiency": class_eff,
        "class_efficiency_source": source, "vector_precision": vec_prec,
        "first_touch_s": first_touch_s,
        "fresh_bytes": fresh_bytes(workload) if first_touch_s else 0,
        # the share a compiled graph's loop faults after the library call (per-part split)
        "loop_first_touch_s": (first_touch_s * workload.loop_fresh_bytes / fresh_bytes(workload)
                               if first_touch_s else 0.0),
        # the share paid where the buffers are freed (per-part split)
        "page_release_s": page_release_s(workload, device, first_touch_s),
        "weight_layout_copy_s": layout_s, "weight_layout_copy_bytes": layout_bytes,
        "weight_reorder_s": reorder_s, "weight_reorder_bytes": reorder_bytes,
        "activation_reorder_s": activation_s, "activation_reorder_bytes": activation_bytes,
        "library_call_s": library_s,
        "conv_library": ("native" if native else "onednn") if workload.conv else "",
        "unfold_bytes": columns, "unfold_s": unfold_s,
        "epilogue_bytes": epilogue_bytes, "epilogue_s": epilogue_s,
    }
    return Mapping(
        target="cpu", device=device.name,
        exec_unit=ex.unit if is_matrix else simd.name,
        precision=ex.computed_as if is_matrix else vec_prec,
        units_used=cores_used, units_total=cores, utilization=cores_used / cores,
        efficiency=efficiency, memory_level=level.name,
        vector_unit=simd.name, vector_efficiency=vector_eff, overhead_s=overhead,
        emulated=ex.emulated, details=details,
        stream_bytes=streamed, stream_level=weight_level.name if streamed else "")


def _gemv_chunks(workload: Workload) -> int:
    """Threads the library gives a matmul for its weights alone: a one-row product splits
    its weight matrix (K x N multiply-adds) by GEMV_GRAIN_MACS, and a product of more rows
    gets at least as many threads as one row would."""
    if workload.op_class != "matmul":
        return 0
    return max((g.k * g.n // GEMV_GRAIN_MACS for g in gemms_of(workload)), default=0)



# PyTorch sends a BF16 GEMM to oneDNN only above 16^3 multiply-adds (mkldnn_gemm_min_size,
# aten/src/ATen/native/mkldnn/Matmul.cpp); smaller ones take a plain loop without the call.
LIBRARY_GEMM_MIN_MACS = 16 ** 3


def library_calls(workload: Workload) -> int:
    """Calls into the library whose fixed cost was measured that the kernel makes: one per
    convolution and per matrix product above the size PyTorch hands to oneDNN, since a
    compiled graph calls each as its own extern kernel (a squeeze-and-excitation unit's two
    1x1 convolutions are two oneDNN calls in Inductor's wrapper); one for attention, whose
    products run inside one scaled_dot_product_attention call."""
    if workload.op_class == "attention":
        return 1
    if workload.op_class != "matmul":
        return max(1, len(workload.gemms))
    return sum(1 for g in gemms_of(workload) if calls_library(g))


def calls_library(gemm: Gemm) -> bool:
    """Whether PyTorch hands a matrix product to oneDNN (above LIBRARY_GEMM_MIN_MACS)."""
    return gemm.m * gemm.n * gemm.k * gemm.batch > LIBRARY_GEMM_MIN_MACS



def fresh_bytes(workload: Workload) -> int:
    """Bytes of the kernel's outputs that land on fresh pages (before the in-place rule)."""
    if workload.fresh_bytes is not None:
        return workload.fresh_bytes
    return workload.bytes_out if workload.bytes_out > FRESH_ALLOCATION_MIN_BYTES else 0


def fresh_allocation_s(workload: Workload, device: Device) -> float:
    """Time the OS takes to fault in the fresh pages of the kernel's output, at the device's
    first-touch rate: the bytes the allocator simulation found fresh in the model's run
    (workload.fresh_bytes), or, for an op on its own, its output when that exceeds glibc's
    largest mmap threshold. Zero for an in-place op (it allocates nothing) and when the
    device has no first-touch figure (the probed host has a published default, which a
    calibration replaces with the machine's own)."""
    rate = device.overheads.first_touch_bytes_per_s
    if rate is None or workload.in_place:
        return 0.0
    return fresh_bytes(workload) / float(rate.value)


def page_release_s(workload: Workload, device: Device, first_touch_s: float) -> float:
    """The part of `first_touch_s` spent returning the pages to the OS (unmapped, or trimmed
    off glibc's heap) when their buffer is freed, at the device's measured release rate;
    zero without that figure (the whole cost then stays with the kernel)."""
    rate = device.overheads.page_release_bytes_per_s
    if rate is None or not first_touch_s:
        return 0.0
    return min(first_touch_s, fresh_bytes(workload) / float(rate.value))
