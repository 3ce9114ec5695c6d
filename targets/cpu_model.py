"""map-cpu physics: cores, SIMD/matrix extensions and cache blocking for one op on a CPU.

Why: a CPU reaches its FMA peak only when every core has a chunk of work worth a thread
(small ops stay on one core), when the right instruction set applies (AMX for bf16/int8
on Sapphire Rapids, VNNI for int8, AVX512_BF16), and when the working set lives in a
cache close enough. What fraction of peak real kernels then reach depends on the op class
(BLAS GEMM vs direct convolution vs streaming element-wise), so that fraction is a table of
measured defaults that a calibration file overrides. Default device: `host`.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping as TypingMapping

from targets.catalog import Device
from targets.mapping_common import (
    achievable_fraction, bits, ceil_div, check_class, clamp_fraction, gemms_of, resolve_execution,
    serving_level, vector_peak, vector_precision, vector_unit, working_set,
)
from targets.workload import ConvGeometry, Mapping, Workload

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

# PyTorch without weight prepacking (eager, and torch.compile without freezing) hands oneDNN
# convolutions their weights in the plain OIHW layout, and ideep reorders them into the
# primitive's blocked layout on every call (ideep's `reorder_if_differ_in` on the weights in
# convolution_forward); oneDNN's AMX matmul (bf16/int8 linear) copies its B operand into
# VNNI-packed blocks on every call likewise. Either way the kernel first reads the plain
# weights and writes a blocked copy, a memory pass that does not overlap the computation,
# then computes from the copy. Measured on the 2-core Xeon test machine (bf16, batch 1,
# 3x3 convolutions of equal FLOPs, eager): 64 channels at 56x56 (74 KB of weights) 315 us,
# 512 channels at 7x7 (4.7 MB) 776 us; FP32 823 us (128 channels, 0.6 MB) vs 1277 us (9.4 MB)
# (bench/conv_weight_reorder.py prints these next to the model's estimate).
REORDERED_CLASSES = ("conv", "depthwise_conv")
# The same holds for a convolution's activations when eager PyTorch passes them in its
# default NCHW layout: oneDNN picks a blocked layout (nChw16c with AVX-512, nChw8c with AVX2,
# nhwc for AMX), so every call reorders the source into it and the blocked result back
# (ONEDNN_VERBOSE on the 2-core Xeon test machine, torch 2.14: reorder, weight reorder,
# convolution, reorder for 1x1, 3x3 and depthwise layers in FP32 and BF16). Two more memory
# passes over each tensor; they dominate a depthwise or pointwise layer, whose arithmetic is
# small: 96-channel 3x3 depthwise at 112x112, FP32, 262 us channels-last vs 3744 us NCHW of
# which page faults of the fresh copies are most (see liveness.allocator_calls). An FP32
# source with fewer channels than this (an image) is read as is (ONEDNN_VERBOSE: no source
# reorder for the 3 -> 64 stem).
PLAIN_SOURCE_MAX_CHANNELS = 8
# In BF16 the result takes one more pass: oneDNN writes it channels-last and PyTorch copies
# it into NCHW (aten::mkldnn_convolution -> aten::contiguous -> aten::copy_, torch.profiler on
# the 2-core Xeon, torch 2.14: 1x1, 3x3, strided 3x3, the 7x7 stem and the 16x16 patch
# convolution, 0.2-1.6 MB results at 2.8-7 GB/s; not FP32 and not depthwise layers, whose
# results oneDNN reorders straight into NCHW). A 64 -> 256 1x1 layer at 56x56 spends 74 us in
# the convolution, 61 us in oneDNN's result reorder and ~440 us in that copy.
RESULT_COPY_PRECISIONS = ("bf16",)


# Eager PyTorch picks a convolution's library on every call (aten/src/ATen/native/
# Convolution.cpp, ConvParams::use_mkldnn): BF16 always goes to oneDNN on a CPU with its BF16
# kernels (mkldnn_bf16_device_check: AVX512BW/VL/DQ on x86, BF16 on Arm), FP16 likewise
# (AVX512-FP16 or AMX-FP16); FP32 only when (strided, dilated, batch >= 16, a kernel other
# than 1x1, or more than one thread) and (grouped, a kernel wider than 3 in both dimensions,
# batch > 1, or more than 20480 input elements: "for some case, native is faster"). Anything
# else takes the native path (aten::thnn_conv2d: slow_conv2d unfolds the input into columns
# unless the kernel is 1x1 at stride 1 without padding, then one BLAS sgemm), which makes no
# blocked copies and pays no oneDNN call. Measured on the 2-core Zen 5 test VM (torch
# 2.14.1, 2 threads, torch.profiler names the path): Conv2d(16, 16, 1) on 1x16x35x35 12.6 us
# (thnn), on 1x16x36x36 51.1 us (mkldnn); on 2x16x1x1 5.7 us with one thread, 44 us with two.
ONEDNN_MIN_INPUT_ELEMENTS = 20480
ONEDNN_BF16_ISA = frozenset({"avx512f", "avx512bw", "bf16"})   # x86 AVX-512 (BW/VL/DQ), Arm BF16
ONEDNN_FP16_ISA = frozenset({"avx512_fp16", "amx_fp16"})


def runs_on_onednn(conv: ConvGeometry, precision: str, device: Device) -> bool:
    """Whether eager PyTorch runs this convolution in oneDNN (else its native path)."""
    isa = set(device.cpu.isa_extensions) | set(device.cpu.matrix_extensions)
    if precision == "bf16":
        return bool(isa & ONEDNN_BF16_ISA)
    if precision == "fp16":
        return bool(isa & ONEDNN_FP16_ISA)
    if precision != "fp32":
        return True
    n = conv.input_shape[0]
    kh, kw = conv.kernel
    strided, dilated = conv.stride != (1, 1), conv.dilation != (1, 1)
    threads = _i(device.compute.units)
    return ((strided or dilated or n >= 16 or (kh, kw) != (1, 1) or threads > 1)
            and (conv.groups > 1 or (kh > 3 and kw > 3) or n > 1
                 or conv.input_elements > ONEDNN_MIN_INPUT_ELEMENTS))


def runs_natively(workload: Workload, device: Device) -> bool:
    """Whether the workload is a convolution on PyTorch's native path (no oneDNN call, no
    blocked copies). A compiled graph calls the same aten.convolution, which decides alike
    (torch.compile'd mobilenet_v2 at batch 1, FP32, 2 threads, torch.profiler: 11 thnn_conv2d
    and 41 mkldnn_convolution calls, the split this rule gives the eager graph)."""
    return (workload.op_class in REORDERED_CLASSES and workload.conv is not None
            and not runs_on_onednn(workload.conv, workload.precision, device))


def unfold_bytes(conv: ConvGeometry | None, precision: str) -> int:
    """Bytes of the columns a native convolution unfolds its input into (N x C*kh*kw x
    Hout*Wout elements at `precision`), 0 when it reads the input as is."""
    if conv is None or not conv.unfolds:
        return 0
    n, c, _, _ = conv.input_shape
    oh, ow = conv.output_hw
    return n * c * conv.kernel[0] * conv.kernel[1] * oh * ow * bits(precision) // 8


# A compiled graph on a CPU (torch.compile, Inductor without freezing) makes every convolution
# channels-last (targets/workload.Workload.plain_layout), weights included, but the weights
# are the graph's inputs, kept in PyTorch's OIHW layout: so on every call a generated kernel
# copies each convolution's weights into an OHWI buffer it has just allocated, before oneDNN
# reorders that copy into its own blocked layout. OIHW and OHWI hold the same order when
# a group has one input channel (depthwise) or the kernel is 1x1; those weights are passed as
# they are. Seen in the code Inductor writes for resnet18 (torch 2.14.1; the
# `cpp_fused_..._convolution` kernels and their empty_strided_cpu OHWI buffers) and measured
# with torch.profiler (torch._inductor.config.cpp.enable_kernel_profile) on the 2-core Zen 5
# test VM: resnet18 at batch 1 spends 5.3 ms per call in those copies (44.7 MB of 3x3 and 7x7
# weights, 8.4 GB/s) beside 13.2 ms in its convolutions.
def copies_weights_channels_last(conv: ConvGeometry | None, plain_layout: bool) -> bool:
    """Whether a compiled graph copies this convolution's weights into channels-last order
    on every call (a layout that differs from OIHW: more than one input channel per group
    and a kernel larger than 1x1)."""
    if plain_layout or conv is None:
        return False
    channels_per_group = conv.input_shape[1] // conv.groups
    return channels_per_group > 1 and conv.kernel != (1, 1)


def channels_last_weight_bytes(workload: Workload) -> int:
    """Bytes of the convolution weights a compiled graph copies into channels-last order on
    every call (the unit's matrix products' K x N x groups elements); 0 when it does not."""
    if (workload.op_class not in REORDERED_CLASSES or workload.prepacked
            or not copies_weights_channels_last(workload.conv, workload.plain_layout)):
        return 0
    return sum(g.batch * g.n * g.k for g in gemms_of(workload)) * bits(workload.precision) // 8


# Nor can Inductor on a CPU fuse the element-wise ops after a convolution or matmul into the
# library call (without freezing it has no oneDNN post-ops to give them): the library writes
# its result to memory and one generated loop reads it back, applies the batch norm,
# activation and residual add, and writes the unit's output (in the code it writes for
# resnet18: extern_kernels.convolution, then cpp_fused__native_batch_norm_legit_no_training_
# add_relu in place). That pass is memory-bound where its arithmetic is light.
LIBRARY_CLASSES = REORDERED_CLASSES + ("matmul",)


def library_result_bytes(workload: Workload) -> int:
    """Bytes of a compiled graph's library result that a generated loop reads back to finish
    the unit (its matrix products' M x N x groups elements); 0 for an eager op, a unit
    without element-wise ops after the product, one that is not a library call, or one
    whose tail the library applies as post-ops (prepacked weights: a frozen graph)."""
    if (workload.plain_layout or workload.prepacked or workload.ops <= 1
            or not workload.matrix_flops or workload.op_class not in LIBRARY_CLASSES):
        return 0
    return sum(g.batch * g.m * g.n for g in gemms_of(workload)) * bits(workload.precision) // 8


# The tail's arithmetic is priced at the vector unit's default rate, except for ops that
# evaluate exponentials (the flop counts of passes/work.py give exp one FLOP; vectorized, it
# is a range reduction and a polynomial, ~10-20 instructions): in a compiled graph's loop
# these are compute-bound as in eager code, so a calibration's measurement of the kind
# prices them. Inductor's BN + SiLU loop over 1x96x112x112 FP32 channels-last on the Zen 5
# VM: 316 us, against 117 us for BN + ReLU and 69 us for a copy (eager SiLU's fitted
# efficiency, 0.065 of the vector peak, gives ~200 us for its part).
EXPONENTIAL_KINDS = frozenset({"silu", "sigmoid", "gelu", "tanh", "softmax", "elu", "mish",
                               "exp", "log", "erf"})


def compiled_tail_efficiency(workload: Workload, calibration: TypingMapping[str, float] | None,
                             default: float, core_share: float) -> float:
    """Vector efficiency of a compiled unit whose tail holds measured exponential kinds:
    its vector FLOPs over the time of each part at its rate (measured kinds at their
    calibrated fraction times the share of cores the loop uses, the rest at `default`)."""
    if not calibration or not workload.vector_flops:
        return default
    seconds = float(workload.vector_flops) / default   # in units of 1 / (vector peak)
    for kind, flops in workload.tail:
        measured = calibration.get(f"kind:{kind}") if kind in EXPONENTIAL_KINDS else None
        if measured:
            seconds += flops / clamp_fraction(measured * core_share) - flops / default
    return clamp_fraction(workload.vector_flops / seconds)


def per_call_copies(workload: Workload, device: Device, amx: bool) -> tuple[int, int, int, int]:
    """(channels-last weights, weight reorder, activation reorder, unfolded columns) bytes
    copied on every call: a compiled graph's channels-last weights (whichever library runs
    the convolution), then oneDNN's blocked copies or the native path's columns."""
    layout = channels_last_weight_bytes(workload)
    if runs_natively(workload, device):
        return layout, 0, 0, unfold_bytes(workload.conv, workload.precision)
    return layout, weight_reorder_bytes(workload, amx), activation_reorder_bytes(workload), 0


def copies_source(precision: str, source_channels: int) -> bool:
    """Whether an eager convolution copies its NCHW source into the library's layout."""
    return not (precision == "fp32" and 0 < source_channels < PLAIN_SOURCE_MAX_CHANNELS)


def copies_result_to_nchw(op_class: str, precision: str) -> bool:
    """Whether an eager convolution (NCHW activations) of this class and precision has its
    channels-last result copied into NCHW by PyTorch after oneDNN returns it."""
    return op_class == "conv" and precision in RESULT_COPY_PRECISIONS

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
        reorder_s = _copy_s(device, reorder_bytes, cores_used,
                            source=weight_level if farther else level)
        streamed = 0
    activation_s = activation_reorder_s(workload, device, cores_used) if activation_bytes else 0.0
    unfold_s = _copy_s(device, columns, cores_used)
    # The compiled graph's loop after the library call reads its result and writes the
    # output; its arithmetic is already in the vector time, so it adds what the pass over
    # memory takes beyond that.
    epilogue_bytes = library_result_bytes(workload)
    epilogue_s = 0.0
    if epilogue_bytes:
        tail_compute_s = workload.vector_flops / (
            vector_peak(device, simd.name, ex.computed_as)[1] * vector_eff)
        epilogue_s = max(0.0, _copy_s(device, epilogue_bytes, vec_cores) - tail_compute_s)
    isa = set(cpu.isa_extensions)
    width = _i(cpu.simd_width_bits)
    overhead = float(device.overheads.framework_dispatch_s.value) \
        if device.overheads.framework_dispatch_s else 0.0
    if cores_used > 1:  # fork/join of the intra-op thread pool
        overhead += float(device.overheads.launch_s.value)
    first_touch_s = fresh_allocation_s(workload, device)
    call = device.overheads.library_call_s.get(f"{workload.op_class}:{workload.precision}")
    library_s = (float(call.value) if call is not None and _calls_library(workload)
                 and not native else 0.0)
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


def weight_reorder_bytes(workload: Workload, amx: bool) -> int:
    """Weight bytes the kernel reorders into a blocked layout on every call: a convolution's
    (any precision) and an AMX matmul's; 0 for everything else (FP32 GEMMs pack their
    panels inside the BLAS, overlapped with the computation)."""
    if workload.prepacked:
        return 0
    if workload.op_class in REORDERED_CLASSES or (amx and workload.op_class == "matmul"):
        return workload.bytes_weights
    return 0


# PyTorch sends a BF16 GEMM to oneDNN only above 16^3 multiply-adds (mkldnn_gemm_min_size,
# aten/src/ATen/native/mkldnn/Matmul.cpp); smaller ones take a plain loop without the call.
LIBRARY_GEMM_MIN_MACS = 16 ** 3


def _calls_library(workload: Workload) -> bool:
    """Whether the kernel is one call into the library whose fixed cost was measured: every
    convolution; a matmul above the size PyTorch hands to oneDNN."""
    if workload.op_class != "matmul":
        return True
    return workload.matrix_flops // 2 > LIBRARY_GEMM_MIN_MACS


def _reordered_activations(workload: Workload) -> list[int]:
    """The bytes of each activation pass a convolution makes on every call: source (unless
    an FP32 image, read as is) and result when they come in PyTorch's default layout
    (eager), plus PyTorch's copy of a BF16 result into NCHW; none when channels-last."""
    if workload.op_class not in REORDERED_CLASSES or not workload.plain_layout:
        return []
    passes = [workload.bytes_in] if copies_source(workload.precision, workload.source_channels) else []
    passes.append(workload.bytes_out)
    if copies_result_to_nchw(workload.op_class, workload.precision):
        passes.append(workload.bytes_out)
    return passes


def activation_reorder_bytes(workload: Workload) -> int:
    """Activation bytes a convolution reorders or copies between layouts on every call."""
    return sum(_reordered_activations(workload))


def activation_reorder_s(workload: Workload, device: Device, cores: int) -> float:
    """Time of a convolution's activation passes between layouts."""
    return sum(transposing_copy_s(device, nbytes, cores) for nbytes in _reordered_activations(workload))


def transposing_copy_s(device: Device, nbytes: int, cores: int, source=None) -> float:
    """Time to copy `nbytes` between NCHW-like and channels-last or blocked orders: at the
    device's measured layout reorder rate, else as a plain copy through the caches (a lower
    bound: the transposition runs 3-10x below a plain copy on the 2-core Xeon test machine,
    compiler/calibrate/memory.layout_reorder)."""
    rate = device.overheads.layout_reorder_bytes_per_s
    if rate is not None:
        return nbytes / float(rate.value)
    return _copy_s(device, nbytes, cores, source)


def _copy_s(device: Device, nbytes: int, cores: int, source=None) -> float:
    """Time to read `nbytes` (from `source`, or the level that holds them) and write a copy
    to the level that holds the copy: one reorder pass, not overlapped with computation."""
    if not nbytes:
        return 0.0
    copy = serving_level(device, nbytes, per_unit_bytes=nbytes / cores)
    return (nbytes / (source or copy).achievable_bandwidth_bytes_per_s
            + nbytes / copy.achievable_bandwidth_bytes_per_s)


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
