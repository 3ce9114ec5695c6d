"""What a mapping model is asked to place on hardware: one kernel's work, as plain data.

The passes build a `Workload` from IR (one per subgraph, or per op without fusion); the
per-architecture models in `targets/` (GPU, TPU, KPU, CPU) turn it into a `Mapping`:
which resources it occupies and what share of the peak it can reach. `targets.roofline`
turns workload + mapping into time and energy. None of this imports IR, so the physics is
tested on hand-computed cases directly.

Conventions: FLOPs count a multiply-accumulate as 2; bytes are at the workload's precision;
`matrix_flops` is the part a matrix unit (tensor core, systolic array, AMX) can execute,
`vector_flops` the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Op classes (the same names passes/work.py assigns).
OP_CLASSES = ("matmul", "conv", "depthwise_conv", "elementwise", "reduction", "normalization",
              "attention", "data_movement", "other")


@dataclass(frozen=True)
class Gemm:
    """One matrix product, as the matrix unit sees it: `batch` independent M x K by K x N
    products. A convolution is an implicit GEMM: M = N*Hout*Wout, N = Cout/groups,
    K = Cin/groups*kh*kw, batch = groups."""

    m: int
    n: int
    k: int
    batch: int = 1

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.m * self.n * self.k


@dataclass(frozen=True)
class ConvGeometry:
    """What PyTorch reads of a convolution to pick the library that runs it (oneDNN or its
    native im2col + BLAS path, targets/cpu_copies.runs_on_onednn) and what the native path
    unfolds: the input's N, C, H, W and the kernel, stride, padding, dilation, groups."""

    input_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    @property
    def input_elements(self) -> int:
        n, c, h, w = self.input_shape
        return n * c * h * w

    @property
    def output_hw(self) -> tuple[int, int]:
        _, _, h, w = self.input_shape
        return tuple((size + 2 * pad - dil * (k - 1) - 1) // step + 1 for size, k, step, pad, dil
                     in zip((h, w), self.kernel, self.stride, self.padding, self.dilation))

    @property
    def unfolds(self) -> bool:
        """Whether the native path copies the input into columns (im2col): all but a 1x1
        kernel at unit stride without padding (ConvolutionMM2d.cpp, requires_columns)."""
        return (self.kernel != (1, 1) or self.stride != (1, 1) or self.padding != (0, 0))

    @staticmethod
    def from_dict(d: dict) -> "ConvGeometry":
        return ConvGeometry(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


@dataclass(frozen=True)
class Workload:
    name: str
    op_class: str                 # the dominant op's class (one of OP_CLASSES)
    precision: str                # one of targets.precision.PRECISIONS
    matrix_flops: int = 0
    vector_flops: int = 0
    bytes_in: int = 0             # activations read from memory
    bytes_weights: int = 0        # parameters read from memory
    bytes_out: int = 0            # results written to memory
    bytes_on_chip: int = 0        # intermediates a fused kernel keeps on chip
    output_elements: int = 1      # independent outputs: the parallelism available
    batch: int = 1
    channels: int = 1
    spatial: int = 1
    gemms: tuple[Gemm, ...] = ()  # the matrix products inside (empty for vector work)
    ops: int = 1                  # graph ops fused into this kernel
    working_set_bytes: int = 0    # bytes touched once (in + weights + out), for cache-level choice
    model_weight_bytes: int = 0   # weights of the whole model, which share on-chip memory
    # Bytes every kernel of the model moves in one run, with the copies a CPU library makes
    # per call: what passes through the caches between two runs of this kernel (0: unknown).
    model_run_bytes: int = 0
    in_place: bool = False        # eager code writes the result over its input: no new buffer
    source_channels: int = 0      # a convolution's input channels (0: not a convolution)
    conv: ConvGeometry | None = None  # the dominant op's geometry when it is a convolution
    # Activations in PyTorch's default contiguous layout (NCHW), as eager code passes them;
    # False for a compiled graph (torch.compile on CPU makes convolutions channels-last:
    # torch/_inductor/graph.py decide_layout_opt, "for cpu backend and mkldnn enabled").
    plain_layout: bool = True
    # Weights packed into the library's layout once, ahead of the runs (Inductor's freezing,
    # IPEX, OpenVINO, Intel's MLPerf runner), and a compiled graph's element-wise tails fused
    # into the library call as post-ops; False: plain weights copied on every call.
    prepacked: bool = False
    # Bytes of fresh pages its outputs land on in the model's steady-state run (targets/
    # glibc_heap.py); None: an op on its own, repeated (the mmap-threshold rule applies).
    fresh_bytes: int | None = None
    # Of those, the bytes a compiled graph's loop faults writing a buffer of its own after
    # the library call (passes/liveness.FreshPages.loop); the rest fault inside the call.
    loop_fresh_bytes: int = 0
    # (op kind, vector FLOPs) of each op of a fused unit besides its dominant one, in order:
    # the element-wise tail of a convolution or matmul ('batch_norm', 'silu', ...).
    tail: tuple[tuple[str, int], ...] = ()
    # An attention PyTorch runs inside nn.MultiheadAttention's native path, as two batched
    # matrix products around a softmax, not a fused attention kernel: "eager" (eager code
    # only) or "always" (compiled too); "" otherwise (compiler/eager_fast_paths.py).
    native_attention: str = ""

    @property
    def runs_native_attention(self) -> bool:
        """Whether this run takes that path (a compiled graph is not plain-layout)."""
        return runs_native_attention(self.native_attention, self.plain_layout)

    @property
    def flops(self) -> int:
        return self.matrix_flops + self.vector_flops

    @property
    def bytes_moved(self) -> int:
        """Traffic to and from memory (on-chip intermediates excluded)."""
        return self.bytes_in + self.bytes_weights + self.bytes_out

    @property
    def arithmetic_intensity(self) -> float:
        return self.flops / self.bytes_moved if self.bytes_moved else float("inf")


@dataclass(frozen=True)
class Mapping:
    """Where a workload runs and how well. Utilization and efficiency are kept apart:
    utilization is the share of compute units with resident work, efficiency the share of
    the execution unit's peak the work is expected to reach (stalls, padding, quantized
    waves and tiles included)."""

    target: str                   # gpu | tpu | kpu | cpu
    device: str
    exec_unit: str                # execution unit (catalog name) the matrix work runs on
    precision: str                # precision actually executed (after emulation)
    units_used: int               # SMs / MXUs / tiles / cores holding work
    units_total: int
    utilization: float            # units_used / units_total, time-averaged over waves
    efficiency: float             # achievable share of peak for this workload, 0..1
    memory_level: str             # catalog memory level the traffic is served from
    vector_unit: str = ""         # execution unit the vector work runs on
    vector_efficiency: float = 1.0
    overhead_s: float = 0.0       # launch / dispatch / synchronization per kernel
    emulated: bool = False
    stream_bytes: int = 0         # bytes served from `stream_level` instead (streamed weights)
    stream_level: str = ""
    details: dict[str, int | float | str | bool] = field(default_factory=dict)  # target specifics for the IR


def runs_native_attention(native_attention: str, plain_layout: bool) -> bool:
    """Whether an attention marked `native_attention` ("eager", "always" or "") runs as
    nn.MultiheadAttention's native bmm, softmax, bmm in a run of this layout (eager code is
    plain-layout, a compiled graph is not)."""
    return native_attention == "always" or (native_attention == "eager" and plain_layout)
