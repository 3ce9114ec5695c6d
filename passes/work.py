"""Work and traffic of one graph op: the interface every later pass uses.

FLOPs count a multiply-accumulate as 2 (torch.utils.flop_counter's convention) and are
split in two: `matrix_flops` (convolutions, matmuls, attention: what tensor/matrix units
execute, and what FlopCounterMode counts) and `vector_flops` (everything else, counted
from the reference formula of each op, see VECTOR_OPS_PER_ELEMENT). Traffic is elements
read (activations and weights separately) and written. Bytes follow precision: a value
is read at the precision its producer stored it in, weights at the consuming op's
precision (they are quantized for it), results at the op's own.
Pure views (reshape, permute, ...) move nothing; copies move their bytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import Block, Operation, SSAValue

from dialects import graph
from dialects.perf import REGION_UNIT_TYPES
from passes.diagnostic import DiagnosticError
from passes.precision import PRECISION_ATTR, PRECISION_BITS, element_bits, is_float, storage_bytes
from targets.workload import ConvGeometry

# Op classes, as the mapping passes see them.
MATMUL, CONV, DEPTHWISE_CONV, ELEMENTWISE, REDUCTION, NORMALIZATION, ATTENTION, DATA_MOVEMENT, OTHER = (
    "matmul", "conv", "depthwise_conv", "elementwise", "reduction", "normalization",
    "attention", "data_movement", "other")

VIEW_OPS = (graph.ReshapeOp, graph.PermuteOp, graph.TransposeOp, graph.ExpandOp,
            graph.SelectOp, graph.SliceOp, graph.SplitOp)
COPY_OPS = (graph.CopyOp, graph.CastOp, graph.ConcatOp, graph.PadOp)

# Type-set membership: isinstance() against xDSL's ABC-based op classes costs ~1 us, and
# the passes ask these questions a few times per op; `type(op) in set` costs ~50 ns.
_VIEW_TYPES = frozenset(VIEW_OPS)
_GRAPH_TYPES = frozenset(graph.GRAPH_OPS)


def is_view(op) -> bool:
    return type(op) in _VIEW_TYPES


def is_graph_op(op) -> bool:
    return type(op) in _GRAPH_TYPES


def is_region_unit(op) -> bool:
    return type(op) in REGION_UNIT_TYPES

# Arithmetic per output element, from each op's reference formula (exp, div and sqrt
# count 1 like add and mul: hardware vector units issue them as one instruction, or as a
# short fixed sequence that this count does not try to model).
VECTOR_OPS_PER_ELEMENT: dict[type, int] = {
    graph.ReluOp: 1,         # max(x, 0)
    graph.Relu6Op: 2,        # min(max(x, 0), 6)
    graph.ClampOp: 2,
    graph.SigmoidOp: 3,      # 1 / (1 + exp(-x))
    graph.TanhOp: 3,
    graph.SiluOp: 4,         # x * sigmoid(x)
    graph.GeluOp: 8,         # 0.5 x (1 + erf(x / sqrt 2)) or the tanh form
    graph.HardswishOp: 4,    # x * min(max(x + 3, 0), 6) / 6
    graph.HardsigmoidOp: 3,  # min(max(x + 3, 0), 6) / 6
    graph.AddOp: 1, graph.SubOp: 1, graph.MulOp: 1, graph.DivOp: 1,
    graph.BatchNormOp: 2,    # inference: y = x * a + b with a, b folded per channel
    graph.LayerNormOp: 7,    # mean (1), variance (2), normalize (2), affine (2)
    graph.GroupNormOp: 7,
    graph.SoftmaxOp: 5,      # max, subtract, exp, sum, divide
    graph.CastOp: 1,
}


@dataclass(frozen=True)
class OpWork:
    """What one op computes and moves, at its precision."""

    op_class: str
    matrix_flops: int
    vector_flops: int
    input_bytes: int     # activations read (operands not defined by graph.weight)
    weight_bytes: int    # parameters read
    output_bytes: int    # results written
    output_elements: int  # the op's available parallelism
    batch: int
    channels: int
    spatial: int         # product of the remaining output extents
    contraction: int     # reduction length per output element (K of a matmul, Cin*kh*kw of a conv)
    is_view: bool = False

    @property
    def flops(self) -> int:
        return self.matrix_flops + self.vector_flops

    @property
    def bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.output_bytes


def shape(value: SSAValue) -> tuple[int, ...]:
    typ = value.type
    return tuple(typ.get_shape()) if isinstance(typ, TensorType) else ()


def source_channels(op: Operation) -> int:
    """A convolution's input channels (what decides whether eager oneDNN copies its source);
    0 for any other op."""
    return shape(op.operands[0])[-3] if isinstance(op, graph.Conv2dOp) else 0


def conv_geometry(op: Operation) -> ConvGeometry | None:
    """A convolution's input shape, kernel, stride, padding, dilation and groups (what
    decides which library eager PyTorch runs it in); None for any other op."""
    if not isinstance(op, graph.Conv2dOp):
        return None
    (sh, sw), (ph, pw), (dh, dw) = (graph.ints(op.stride), graph.ints(op.padding),
                                    graph.ints(op.dilation))
    n, c, h, w = shape(op.input)
    kh, kw = shape(op.weight)[-2:]
    return ConvGeometry((n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw),
                        graph.int_value(op.groups))


def op_precision(op: Operation) -> str | None:
    """The precision assign-precision gave the op (None before it ran)."""
    attr = op.attributes.get(PRECISION_ATTR)
    if attr is None:
        return None
    if not isinstance(attr, StringAttr) or attr.data not in PRECISION_BITS:
        raise DiagnosticError(f"'{op.name}' op has an invalid precision attribute {attr}; "
                              f"valid precisions: {', '.join(PRECISION_BITS)}", op)
    return attr.data


def stored_precision(value: SSAValue) -> str | None:
    """The precision a value is stored at in memory: its producer's. A fused kernel
    stores its outputs at the kernel's precision (its epilogue may compute wider); model
    inputs keep their dtype (None)."""
    owner = value.owner
    if isinstance(owner, Block):
        parent = owner.parent_op()
        if is_region_unit(parent):
            return stored_precision(parent.inputs[value.index])
        return None
    if is_view(owner):
        return stored_precision(owner.operands[0])
    if is_region_unit(owner) and PRECISION_ATTR not in owner.attributes:
        # A kernel map-* outlined around one bare op records the mapping's exec_precision,
        # not `precision`: the stored value is what the op inside yields.
        return stored_precision(owner.yield_op.operands[value.index])
    return op_precision(owner)


def value_bytes(value: SSAValue, precision: str | None) -> int:
    """Bytes of a tensor value at `precision` (float tensors) or its own dtype (integers)."""
    typ = value.type
    if not isinstance(typ, TensorType):
        return 0
    elements = prod(typ.get_shape())
    if precision is not None and is_float(typ.element_type):
        return storage_bytes(elements, precision)
    return -(-elements * element_bits(typ.element_type) // 8)


def read_elements_source(value: SSAValue) -> SSAValue:
    """A broadcast (expand) is read from its smaller source."""
    owner = value.owner
    while type(owner) is graph.ExpandOp:
        value = owner.input
        owner = value.owner
    return value


def is_weight(value: SSAValue) -> bool:
    return type(value.owner) is graph.WeightOp


def _matrix_flops_and_class(op: Operation) -> tuple[int, str, int]:
    """(matrix FLOPs, op class, contraction length)."""
    if isinstance(op, graph.Conv2dOp):
        o, i, kh, kw = shape(op.weight)
        out = prod(shape(op.result))
        groups = graph.int_value(op.groups)
        depthwise = groups > 1 and groups == shape(op.input)[1] and i == 1
        return 2 * out * i * kh * kw, DEPTHWISE_CONV if depthwise else CONV, i * kh * kw
    if isinstance(op, graph.LinearOp):
        k = shape(op.weight)[1]
        return 2 * prod(shape(op.result)) * k, MATMUL, k
    if isinstance(op, (graph.MatmulOp, graph.BatchMatmulOp)):
        lhs = shape(op.lhs)
        k = lhs[-1]
        return 2 * prod(shape(op.result)) * k, MATMUL, k
    if isinstance(op, graph.ScaledDotProductAttentionOp):
        q, k, v = shape(op.query), shape(op.key), shape(op.value)
        heads = prod(q[:-2])
        # Q K^T: heads x L x S x E MACs, then P V: heads x L x S x Ev MACs.
        return 2 * heads * q[-2] * k[-2] * (q[-1] + v[-1]), ATTENTION, k[-2]
    return 0, "", 0


def _vector_flops(op: Operation, out_elements: int, in_elements: int) -> int:
    if isinstance(op, graph.ScaledDotProductAttentionOp):
        q, k = shape(op.query), shape(op.key)
        return 5 * prod(q[:-1]) * k[-2] + prod(q[:-1]) * k[-2]  # softmax + scaling of the scores
    if isinstance(op, (graph.LinearOp, graph.Conv2dOp)):
        return out_elements if op.bias is not None else 0  # the bias add
    if isinstance(op, (graph.MaxPool2dOp, graph.AvgPool2dOp)):
        kh, kw = graph.ints(op.kernel)
        return out_elements * kh * kw
    if isinstance(op, (graph.AdaptiveAvgPool2dOp, graph.MeanOp, graph.SumOp)):
        return in_elements
    per = VECTOR_OPS_PER_ELEMENT.get(type(op), 0)
    return per * out_elements


def _class_of(op: Operation) -> str:
    if isinstance(op, VIEW_OPS) or isinstance(op, COPY_OPS):
        return DATA_MOVEMENT
    if isinstance(op, (graph.BatchNormOp, graph.LayerNormOp, graph.GroupNormOp)):
        return NORMALIZATION
    if isinstance(op, (graph.MaxPool2dOp, graph.AvgPool2dOp, graph.AdaptiveAvgPool2dOp,
                       graph.MeanOp, graph.SumOp, graph.SoftmaxOp)):
        return REDUCTION
    if isinstance(op, (graph.ElementwiseUnaryOp, graph.ElementwiseBinaryOp)):
        return ELEMENTWISE
    if isinstance(op, graph.EmbeddingOp):
        return DATA_MOVEMENT
    return OTHER


@dataclass(frozen=True)
class _Shape:
    """What an op computes, independent of precision: FLOPs and which values it reads
    and writes. Passes move ops and change precisions but never reshape an op, so this
    is computed once per op and operand list (cached); bytes are derived from it at the
    current precisions."""

    op_class: str
    matrix_flops: int
    vector_flops: int
    activations: tuple[tuple[SSAValue, int, int, bool], ...]  # (value, elements, dtype bits, float?)
    weights: tuple[tuple[SSAValue, int, int, bool], ...]
    results: tuple[tuple[SSAValue, int, int, bool], ...]
    output_elements: int
    batch: int
    channels: int
    spatial: int
    contraction: int
    is_view: bool


def _value_facts(value: SSAValue) -> tuple[SSAValue, int, int, bool]:
    typ = value.type
    if not isinstance(typ, TensorType):
        return (value, 0, 8, False)
    return (value, prod(typ.get_shape()), element_bits(typ.element_type), is_float(typ.element_type))


def _static(op: Operation) -> _Shape:
    # Keyed by the operands too: outline and inline rewire an op's operands (block
    # arguments <-> the values outside), and the shape holds the values it read.
    return _static_for(op, tuple(op.operands))


@functools.lru_cache(maxsize=1 << 17)
def _static_for(op: Operation, operands: tuple[SSAValue, ...]) -> _Shape:
    results = tuple(_value_facts(r) for r in op.results)
    out_shape = shape(op.results[0]) if op.results else ()
    out_elements = sum(r[1] for r in results)
    batch = out_shape[0] if out_shape else 1
    channels = out_shape[1] if len(out_shape) > 1 else 1
    spatial = prod(out_shape[2:]) if len(out_shape) > 2 else 1
    if type(op) is graph.WeightOp or is_view(op):
        return _Shape(DATA_MOVEMENT, 0, 0, (), (), results, out_elements, batch, channels, spatial, 0, True)
    activations = tuple(_value_facts(read_elements_source(v)) for v in op.operands if not is_weight(v))
    weights = tuple(_value_facts(v) for v in op.operands if is_weight(v))
    if type(op) is graph.EmbeddingOp:  # reads one row per index, not the table
        weights = tuple((r[0], r[1], r[2], r[3]) for r in results)
    matrix, op_class, contraction = _matrix_flops_and_class(op)
    return _Shape(op_class or _class_of(op), matrix,
                  _vector_flops(op, out_elements, sum(a[1] for a in activations)),
                  activations, weights, results, out_elements, batch, channels, spatial, contraction, False)


def _bytes(facts: tuple[SSAValue, int, int, bool], precision: str | None) -> int:
    _, elements, bits, floating = facts
    if precision is not None and floating:
        return storage_bytes(elements, precision)
    return -(-elements * bits // 8)


def work_of(op: Operation) -> OpWork:
    """Work and traffic of a graph op (a graph.weight or a view moves nothing)."""
    static = _static(op)
    if static.is_view:
        return OpWork(DATA_MOVEMENT, 0, 0, 0, 0, 0, static.output_elements, static.batch,
                      static.channels, static.spatial, 0, True)
    precision = op_precision(op)
    return OpWork(
        op_class=static.op_class,
        matrix_flops=static.matrix_flops,
        vector_flops=static.vector_flops,
        input_bytes=sum(_bytes(a, stored_precision(a[0])) for a in static.activations),
        weight_bytes=sum(_bytes(w, precision) for w in static.weights),
        output_bytes=sum(_bytes(r, precision) for r in static.results),
        output_elements=static.output_elements, batch=static.batch, channels=static.channels,
        spatial=static.spatial, contraction=static.contraction,
    )
