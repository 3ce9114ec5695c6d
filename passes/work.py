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

from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import Block, Operation, SSAValue

from dialects import graph
from dialects.perf import RegionUnitOp
from passes.diagnostic import DiagnosticError
from passes.precision import PRECISION_ATTR, PRECISION_BITS, element_bits, is_float, storage_bytes

# Op classes, as the mapping passes see them.
MATMUL, CONV, DEPTHWISE_CONV, ELEMENTWISE, REDUCTION, NORMALIZATION, ATTENTION, DATA_MOVEMENT, OTHER = (
    "matmul", "conv", "depthwise_conv", "elementwise", "reduction", "normalization",
    "attention", "data_movement", "other")

VIEW_OPS = (graph.ReshapeOp, graph.PermuteOp, graph.TransposeOp, graph.ExpandOp,
            graph.SelectOp, graph.SliceOp, graph.SplitOp)
COPY_OPS = (graph.CopyOp, graph.CastOp, graph.ConcatOp, graph.PadOp)

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
        if isinstance(parent, RegionUnitOp):
            return stored_precision(parent.inputs[value.index])
        return None
    if isinstance(owner, VIEW_OPS):
        return stored_precision(owner.operands[0])
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
    while isinstance(owner, graph.ExpandOp):
        value = owner.input
        owner = value.owner
    return value


def is_weight(value: SSAValue) -> bool:
    return isinstance(value.owner, graph.WeightOp)


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


def work_of(op: Operation) -> OpWork:
    """Work and traffic of a graph op (a graph.weight or a view moves nothing)."""
    precision = op_precision(op)
    results = list(op.results)
    out_shape = shape(results[0]) if results else ()
    out_elements = sum(prod(shape(r)) for r in results)
    batch = out_shape[0] if out_shape else 1
    channels = out_shape[1] if len(out_shape) > 1 else 1
    spatial = prod(out_shape[2:]) if len(out_shape) > 2 else 1
    if isinstance(op, graph.WeightOp) or isinstance(op, VIEW_OPS):
        return OpWork(DATA_MOVEMENT, 0, 0, 0, 0, 0, out_elements, batch, channels, spatial, 0, True)

    activations = [read_elements_source(v) for v in op.operands if not is_weight(v)]
    weights = [v for v in op.operands if is_weight(v)]
    in_elements = sum(prod(shape(v)) for v in activations)
    matrix, op_class, contraction = _matrix_flops_and_class(op)
    if not op_class:
        op_class = _class_of(op)
    if isinstance(op, graph.EmbeddingOp):  # reads one row per index, not the table
        weights = []
        weight_bytes = value_bytes(results[0], precision)
    else:
        weight_bytes = sum(value_bytes(v, precision) for v in weights)
    return OpWork(
        op_class=op_class,
        matrix_flops=matrix,
        vector_flops=_vector_flops(op, out_elements, in_elements),
        input_bytes=sum(value_bytes(v, stored_precision(v)) for v in activations),
        weight_bytes=weight_bytes,
        output_bytes=sum(value_bytes(r, precision) for r in results),
        output_elements=out_elements, batch=batch, channels=channels, spatial=spatial,
        contraction=contraction,
    )
