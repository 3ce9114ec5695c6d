"""What a CPU kernel copies on every call, and the library choice that decides it.

Why apart from targets/cpu_model.py: PyTorch's copies around a library call are rules about
PyTorch, oneDNN and Inductor (which layout each hands the next, which library eager code
picks for a convolution), not about the CPU's arithmetic; map-cpu prices the bytes they
name, and the allocator simulation (passes/liveness.py) allocates their buffers.
"""

from __future__ import annotations

from targets.catalog import Device
from targets.mapping_common import bits, gemms_of, serving_level
from targets.workload import ConvGeometry, Workload

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
    threads = int(device.compute.units.value)
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


# Where a compiled graph's loop after a convolution writes: over the library's result (Inductor
# reuses a buffer that dies in the loop that reads it), except for a batch norm followed by
# SiLU in BF16 or FP16, which Inductor writes to a buffer of its own and frees the result
# after. Read from the code Inductor (torch 2.14.1) writes for EfficientNet-B0: at batch 8
# in BF16 all 33 batch norm + SiLU tails write a new (or another dead) buffer, at batch 1 in
# FP32 none of 33 does; batch norm alone, + ReLU (resnet18), + ReLU6 (MobileNetV2, FP32 and
# BF16) and GELU after a matmul (ViT-B/16, BF16) are written in place. The two live buffers
# make glibc trim and regrow its heap: EfficientNet-B0 at batch 8 in BF16 faults in 38 MB
# of fresh pages per compiled forward (getrusage), two of its 19.3 MB results.
OUT_OF_PLACE_PRECISIONS = frozenset({"bf16", "fp16"})


def tail_out_of_place(tail_kinds: set[str], precision: str) -> bool:
    """Whether a compiled graph writes a convolution unit's tail (the ops after the library
    call, by kind) to a buffer other than the library's result."""
    return (precision in OUT_OF_PLACE_PRECISIONS and "batch_norm" in tail_kinds
            and "silu" in tail_kinds)


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


def weight_reorder_bytes(workload: Workload, amx: bool) -> int:
    """Weight bytes the kernel reorders into a blocked layout on every call: a convolution's
    (any precision) and an AMX matmul's; 0 for everything else (FP32 GEMMs pack their
    panels inside the BLAS, overlapped with the computation)."""
    if workload.prepacked:
        return 0
    if workload.op_class in REORDERED_CLASSES or (amx and workload.op_class == "matmul"):
        return workload.bytes_weights
    return 0


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
    return copy_s(device, nbytes, cores, source)


def copy_s(device: Device, nbytes: int, cores: int, source=None, footprint: int = 0) -> float:
    """Time to read `nbytes` (from `source`, or the level that holds them) and write a copy
    to the level that holds the copy (or, given the pass's `footprint`, the level that
    holds that many bytes): one reorder pass, not overlapped with computation."""
    if not nbytes:
        return 0.0
    held = max(nbytes, footprint)
    copy = serving_level(device, held, per_unit_bytes=held / cores)
    return (nbytes / (source or copy).achievable_bandwidth_bytes_per_s
            + nbytes / copy.achievable_bandwidth_bytes_per_s)
