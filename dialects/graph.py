"""The `graph` dialect: one op per tensor operation of a PyTorch model.

The importer writes it, every pass reads it. Ops carry shapes and dtypes on their
tensor types, attributes for the hyper-parameters that decide cost (stride, groups,
kernel sizes, ...), and the FX node name as their location. Weights never appear as
data: a `graph.weight` op names a parameter and gives its type.

Every op shares one assembly format, close to MLIR's generic form without the quotes:

    %y = graph.conv2d %x, %w {groups = 1 : i64, ...} : tensor<1x64x112x112xf32>

Operand types are those of their definitions and are not repeated. One format for all
ops keeps the parser fast (no per-op grammar) and makes the text predictable for
FileCheck. Verifiers check ranks, shapes and dtypes with the rules of
`dialects.shape_rules`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from xdsl.dialects.builtin import (
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    attr_def,
    irdl_op_definition,
    operand_def,
    opt_attr_def,
    opt_operand_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from dialects import shape_rules as rules

# --------------------------------------------------------------------------- helpers


def shape_of(value: SSAValue) -> tuple[int, ...]:
    """Static shape of a tensor-typed value."""
    typ = value.type
    assert isinstance(typ, TensorType)
    return tuple(typ.get_shape())


def ints(attr: Attribute | None) -> tuple[int, ...]:
    """Values of an `array<i64: ...>` attribute (empty when absent)."""
    if attr is None:
        return ()
    assert isinstance(attr, DenseArrayBase)
    return tuple(int(v) for v in attr.get_values())


def int_value(attr: Attribute | None, default: int = 0) -> int:
    if attr is None:
        return default
    assert isinstance(attr, IntegerAttr)
    return attr.value.data


def float_value(attr: Attribute | None, default: float = 0.0) -> float:
    if attr is None:
        return default
    assert isinstance(attr, FloatAttr | IntegerAttr)
    return float(attr.value.data)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise VerifyException(message)


def _expect_shape(op: IRDLOperation, expected: Sequence[int]) -> None:
    got = shape_of(op.results[0])
    _check(tuple(expected) == got,
           f"result shape {list(got)} does not match the expected {list(expected)}")


def _expect_rank(value: SSAValue, ranks: Sequence[int], what: str) -> None:
    rank = len(shape_of(value))
    _check(rank in ranks, f"{what} must have rank {' or '.join(map(str, ranks))}, got {rank}")


def _same_element_type(op: IRDLOperation) -> None:
    """Result dtype equals the first operand's (ops that compute in their input type)."""
    first = op.operands[0].type
    assert isinstance(first, TensorType)
    for res in op.results:
        assert isinstance(res.type, TensorType)
        _check(res.type.element_type == first.element_type,
               f"result element type {res.type.element_type} differs from input {first.element_type}")


def _rules_check(fn, *args):
    """Runs a shape rule, turning its ShapeError into a VerifyException."""
    try:
        return fn(*args)
    except rules.ShapeError as err:
        raise VerifyException(str(err)) from None


# --------------------------------------------------------------------------- base


class GraphOp(IRDLOperation, abc.ABC):
    """Shared assembly format: `operands attr-dict : result-types`.

    Operand types are not repeated: every operand is defined before use in a graph body,
    so its type is known. Half the tokens of MLIR's functional type, and parsing cost is
    per token.
    """

    traits = traits_def(Pure())

    @classmethod
    def parse(cls, parser: Parser) -> GraphOp:
        operands = parser.parse_optional_undelimited_comma_separated_list(
            parser.parse_optional_operand, parser.parse_operand) or []
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        result_types = parser.parse_optional_undelimited_comma_separated_list(
            parser.parse_optional_type, parser.parse_type) or []
        return cls.create(operands=operands, result_types=result_types, attributes=attributes)

    def print(self, printer: Printer) -> None:
        self.print_operands_and_types(printer)

    def print_operands_and_types(self, printer: Printer, reserved: tuple[str, ...] = ()) -> None:
        if self.operands:
            printer.print_string(" ")
            printer.print_list(self.operands, printer.print_operand)
        printer.print_op_attributes(self.attributes, reserved_attr_names=reserved)
        printer.print_string(" : ")
        printer.print_list(self.result_types, printer.print_attribute)


INPLACE_ATTR = "inplace"
# On a scaled_dot_product_attention: eager PyTorch runs it inside nn.MultiheadAttention's
# native path (bmm, softmax, bmm on a CPU), "eager" or "always" (compiled too); see
# compiler/eager_fast_paths.py.
NATIVE_ATTENTION_ATTR = "native_attention"


class ElementwiseUnaryOp(GraphOp, abc.ABC):
    """y = f(x), same shape and dtype. `inplace`: the model's eager code overwrites x
    (`relu_`, nn.ReLU(inplace=True)); the IR stays functional, eager runs allocate nothing."""

    input = operand_def(TensorType)
    result = result_def(TensorType)
    inplace = opt_attr_def(UnitAttr)

    def verify_(self) -> None:
        _expect_shape(self, shape_of(self.input))
        _same_element_type(self)


class ElementwiseBinaryOp(GraphOp, abc.ABC):
    """z = lhs (op) rhs with broadcasting; rhs may be a scalar attribute instead.
    `inplace`: eager code writes z into lhs (`out += identity`), as for unary ops."""

    lhs = operand_def(TensorType)
    rhs = opt_operand_def(TensorType)
    scalar = opt_attr_def(FloatAttr | IntegerAttr)
    inplace = opt_attr_def(UnitAttr)

    result = result_def(TensorType)

    def verify_(self) -> None:
        _check((self.rhs is None) != (self.scalar is None),
               "needs exactly one of a tensor rhs operand and a `scalar` attribute")
        expected = shape_of(self.lhs)
        if self.rhs is not None:
            expected = _rules_check(rules.broadcast, expected, shape_of(self.rhs))
        _expect_shape(self, expected)
        _check(self.inplace is None or tuple(expected) == tuple(shape_of(self.lhs)),
               "`inplace` needs a result of the lhs shape (it is written into lhs)")


class DataMovementOp(GraphOp, abc.ABC):
    """Rearranges elements without arithmetic; dtype is preserved."""

    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _same_element_type(self)
        self.verify_shape()

    def verify_shape(self) -> None:
        pass


# --------------------------------------------------------------------------- weights


@irdl_op_definition
class WeightOp(GraphOp):
    """A parameter, buffer or lifted constant of the module: its name and type, no data."""

    name = "graph.weight"
    param = attr_def(StringAttr)
    result = result_def(TensorType)

    @classmethod
    def parse(cls, parser: Parser) -> WeightOp:
        param = parser.parse_str_literal("weight name")
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        typ = parser.parse_type()
        return cls.create(result_types=[typ],
                          attributes={"param": StringAttr(param), **attributes})

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.param.data)
        printer.print_op_attributes(self.attributes, reserved_attr_names=("param",))
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)


# --------------------------------------------------------------------------- linear algebra


@irdl_op_definition
class Conv2dOp(GraphOp):
    """2-D convolution, NCHW input, OIHW weight (O = out channels, I = in/groups)."""

    name = "graph.conv2d"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    stride = attr_def(DenseArrayBase)
    padding = attr_def(DenseArrayBase)
    dilation = attr_def(DenseArrayBase)
    groups = attr_def(IntegerAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_rank(self.input, (4,), "input")
        _expect_rank(self.weight, (4,), "weight")
        n, c, h, w = shape_of(self.input)
        o, i, kh, kw = shape_of(self.weight)
        groups = int_value(self.groups)
        for attr in ("stride", "padding", "dilation"):
            _check(len(ints(self.attributes[attr])) == 2, f"`{attr}` must have 2 values")
        _check(groups >= 1 and c % groups == 0 and o % groups == 0,
               f"groups={groups} must divide input channels {c} and output channels {o}")
        _check(i * groups == c, f"weight expects {i * groups} input channels, input has {c}")
        if self.bias is not None:
            _check(shape_of(self.bias) == (o,), f"bias must have shape [{o}]")
        (sh, sw), (ph, pw), (dh, dw) = (ints(self.stride), ints(self.padding), ints(self.dilation))
        oh = _rules_check(rules.window_out, h, kh, sh, ph, dh)
        ow = _rules_check(rules.window_out, w, kw, sw, pw, dw)
        _expect_shape(self, (n, o, oh, ow))


@irdl_op_definition
class LinearOp(GraphOp):
    """y = x W^T + b, W of shape [out, in], applied over the last dimension of x."""

    name = "graph.linear"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_rank(self.weight, (2,), "weight")
        out_f, in_f = shape_of(self.weight)
        x = shape_of(self.input)
        _check(len(x) >= 1 and x[-1] == in_f, f"input's last dimension must be {in_f}, got {list(x)}")
        if self.bias is not None:
            _check(shape_of(self.bias) == (out_f,), f"bias must have shape [{out_f}]")
        _expect_shape(self, (*x[:-1], out_f))


@irdl_op_definition
class MatmulOp(GraphOp):
    """torch.matmul: batched, broadcasting matrix product."""

    name = "graph.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_shape(self, _rules_check(rules.matmul, shape_of(self.lhs), shape_of(self.rhs)))


@irdl_op_definition
class BatchMatmulOp(GraphOp):
    """torch.bmm: [B, M, K] x [B, K, N] -> [B, M, N], no broadcasting."""

    name = "graph.batch_matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_rank(self.lhs, (3,), "lhs")
        _expect_rank(self.rhs, (3,), "rhs")
        (b, m, k), (b2, k2, n) = shape_of(self.lhs), shape_of(self.rhs)
        _check(b == b2 and k == k2, f"operands [{b}, {m}, {k}] and [{b2}, {k2}, {n}] do not match")
        _expect_shape(self, (b, m, n))


@irdl_op_definition
class ScaledDotProductAttentionOp(GraphOp):
    """softmax(Q K^T * scale + mask) V over [..., L, E] queries and [..., S, E] keys."""

    name = "graph.scaled_dot_product_attention"
    query = operand_def(TensorType)
    key = operand_def(TensorType)
    value = operand_def(TensorType)
    mask = opt_operand_def(TensorType)
    is_causal = opt_attr_def(UnitAttr)
    scale = opt_attr_def(FloatAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        q, k, v = shape_of(self.query), shape_of(self.key), shape_of(self.value)
        _check(len(q) >= 2 and len(k) == len(q) and len(v) == len(q),
               "query, key and value must have the same rank >= 2")
        _check(q[-1] == k[-1], f"query and key embedding differ: {q[-1]} vs {k[-1]}")
        _check(k[-2] == v[-2], f"key and value sequence lengths differ: {k[-2]} vs {v[-2]}")
        _expect_shape(self, (*q[:-1], v[-1]))


@irdl_op_definition
class EmbeddingOp(GraphOp):
    """Row lookup: weight [V, D] indexed by integer indices -> [..., D]."""

    name = "graph.embedding"
    weight = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_rank(self.weight, (2,), "weight")
        _expect_shape(self, (*shape_of(self.indices), shape_of(self.weight)[1]))


# --------------------------------------------------------------------------- normalization


@irdl_op_definition
class BatchNormOp(GraphOp):
    """Inference batch norm over dim 1: operands input, running mean, running var, then
    optionally weight and bias."""

    name = "graph.batch_norm"
    input = operand_def(TensorType)
    mean = operand_def(TensorType)
    var = operand_def(TensorType)
    affine = var_operand_def(TensorType)
    eps = attr_def(FloatAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        x = shape_of(self.input)
        _check(len(x) >= 2, "input must have rank >= 2")
        _check(len(self.affine) in (0, 2), "affine parameters are weight and bias, or none")
        for value in (self.mean, self.var, *self.affine):
            _check(shape_of(value) == (x[1],), f"statistics and affine parameters must have shape [{x[1]}]")
        _expect_shape(self, x)


@irdl_op_definition
class LayerNormOp(GraphOp):
    """Normalizes over the trailing `normalized_shape` dims; optional weight then bias."""

    name = "graph.layer_norm"
    input = operand_def(TensorType)
    affine = var_operand_def(TensorType)
    normalized_shape = attr_def(DenseArrayBase)
    eps = attr_def(FloatAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        x, norm = shape_of(self.input), ints(self.normalized_shape)
        _check(0 < len(norm) <= len(x) and x[len(x) - len(norm):] == norm,
               f"normalized_shape {list(norm)} is not a suffix of input shape {list(x)}")
        _check(len(self.affine) <= 2, "at most weight and bias")
        for value in self.affine:
            _check(shape_of(value) == norm, f"affine parameters must have shape {list(norm)}")
        _expect_shape(self, x)


@irdl_op_definition
class GroupNormOp(GraphOp):
    """Normalizes channel groups of an [N, C, ...] input; optional weight then bias."""

    name = "graph.group_norm"
    input = operand_def(TensorType)
    affine = var_operand_def(TensorType)
    groups = attr_def(IntegerAttr)
    eps = attr_def(FloatAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        x = shape_of(self.input)
        groups = int_value(self.groups)
        _check(len(x) >= 2 and groups >= 1 and x[1] % groups == 0,
               f"groups={groups} must divide the channel dimension of {list(x)}")
        _check(len(self.affine) <= 2, "at most weight and bias")
        _expect_shape(self, x)


# --------------------------------------------------------------------------- activations


@irdl_op_definition
class ReluOp(ElementwiseUnaryOp):
    name = "graph.relu"


@irdl_op_definition
class Relu6Op(ElementwiseUnaryOp):
    name = "graph.relu6"


@irdl_op_definition
class ClampOp(ElementwiseUnaryOp):
    """min(max(x, min), max): hardtanh and clamp with other bounds than relu6's."""

    name = "graph.clamp"
    min = opt_attr_def(FloatAttr)
    max = opt_attr_def(FloatAttr)


@irdl_op_definition
class GeluOp(ElementwiseUnaryOp):
    name = "graph.gelu"
    approximate = opt_attr_def(StringAttr)


@irdl_op_definition
class SiluOp(ElementwiseUnaryOp):
    name = "graph.silu"


@irdl_op_definition
class HardswishOp(ElementwiseUnaryOp):
    name = "graph.hardswish"


@irdl_op_definition
class HardsigmoidOp(ElementwiseUnaryOp):
    name = "graph.hardsigmoid"


@irdl_op_definition
class SigmoidOp(ElementwiseUnaryOp):
    name = "graph.sigmoid"


@irdl_op_definition
class TanhOp(ElementwiseUnaryOp):
    name = "graph.tanh"


@irdl_op_definition
class SoftmaxOp(GraphOp):
    """Softmax along `dim`."""

    name = "graph.softmax"
    input = operand_def(TensorType)
    dim = attr_def(IntegerAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        x = shape_of(self.input)
        _rules_check(rules.normalize_dim, int_value(self.dim), len(x))
        _expect_shape(self, x)


@irdl_op_definition
class CastOp(GraphOp):
    """Element type conversion (`tensor.to(dtype)`); the shape is kept."""

    name = "graph.cast"
    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_shape(self, shape_of(self.input))


# --------------------------------------------------------------------------- elementwise binary


@irdl_op_definition
class AddOp(ElementwiseBinaryOp):
    name = "graph.add"


@irdl_op_definition
class SubOp(ElementwiseBinaryOp):
    name = "graph.sub"


@irdl_op_definition
class MulOp(ElementwiseBinaryOp):
    name = "graph.mul"


@irdl_op_definition
class DivOp(ElementwiseBinaryOp):
    name = "graph.div"


# --------------------------------------------------------------------------- pooling and reductions


class Pool2dOp(GraphOp, abc.ABC):
    """Sliding-window pooling over the last two dims of an [N, C, H, W] or [C, H, W] input."""

    input = operand_def(TensorType)
    kernel = attr_def(DenseArrayBase)
    stride = attr_def(DenseArrayBase)
    padding = attr_def(DenseArrayBase)
    ceil_mode = opt_attr_def(UnitAttr)
    result = result_def(TensorType)

    def _dilation(self) -> tuple[int, int]:
        return (1, 1)

    def verify_(self) -> None:
        _expect_rank(self.input, (3, 4), "input")
        x = shape_of(self.input)
        for attr in ("kernel", "stride", "padding"):
            _check(len(ints(self.attributes[attr])) == 2, f"`{attr}` must have 2 values")
        (kh, kw), (sh, sw), (ph, pw) = ints(self.kernel), ints(self.stride), ints(self.padding)
        dh, dw = self._dilation()
        ceil = self.ceil_mode is not None
        oh = _rules_check(rules.window_out, x[-2], kh, sh, ph, dh, ceil)
        ow = _rules_check(rules.window_out, x[-1], kw, sw, pw, dw, ceil)
        _expect_shape(self, (*x[:-2], oh, ow))
        _same_element_type(self)


@irdl_op_definition
class MaxPool2dOp(Pool2dOp):
    name = "graph.max_pool2d"
    dilation = opt_attr_def(DenseArrayBase)

    def _dilation(self) -> tuple[int, int]:
        d = ints(self.dilation) or (1, 1)
        return d[0], d[1]


@irdl_op_definition
class AvgPool2dOp(Pool2dOp):
    name = "graph.avg_pool2d"
    count_include_pad = opt_attr_def(UnitAttr)


@irdl_op_definition
class AdaptiveAvgPool2dOp(GraphOp):
    """Averages each of `output_size` bins of the last two dims."""

    name = "graph.adaptive_avg_pool2d"
    input = operand_def(TensorType)
    output_size = attr_def(DenseArrayBase)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _expect_rank(self.input, (3, 4), "input")
        x = shape_of(self.input)
        _expect_shape(self, (*x[:-2], *ints(self.output_size)))


class ReductionOp(GraphOp, abc.ABC):
    """Reduces `dims` (all dims when empty), keeping them as size 1 with `keepdim`."""

    input = operand_def(TensorType)
    dims = attr_def(DenseArrayBase)
    keepdim = opt_attr_def(UnitAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        x = shape_of(self.input)
        for d in ints(self.dims):
            _rules_check(rules.normalize_dim, d, len(x))
        _expect_shape(self, rules.reduce(x, ints(self.dims), self.keepdim is not None))


@irdl_op_definition
class MeanOp(ReductionOp):
    name = "graph.mean"


@irdl_op_definition
class SumOp(ReductionOp):
    name = "graph.sum"


# --------------------------------------------------------------------------- data movement


@irdl_op_definition
class ReshapeOp(DataMovementOp):
    """view / reshape / flatten / (un)squeeze: same elements, new shape (the result type)."""

    name = "graph.reshape"

    def verify_shape(self) -> None:
        _check(rules.element_count(shape_of(self.input)) == rules.element_count(shape_of(self.result)),
               f"reshape from {list(shape_of(self.input))} to {list(shape_of(self.result))} changes the element count")


@irdl_op_definition
class PermuteOp(DataMovementOp):
    """Reorders dimensions: result dim i is input dim dims[i]."""

    name = "graph.permute"
    dims = attr_def(DenseArrayBase)

    def verify_shape(self) -> None:
        x, perm = shape_of(self.input), ints(self.dims)
        _check(sorted(perm) == list(range(len(x))), f"dims {list(perm)} is not a permutation of rank {len(x)}")
        _expect_shape(self, tuple(x[p] for p in perm))


@irdl_op_definition
class TransposeOp(DataMovementOp):
    """Swaps two dimensions."""

    name = "graph.transpose"
    dim0 = attr_def(IntegerAttr)
    dim1 = attr_def(IntegerAttr)

    def verify_shape(self) -> None:
        x = list(shape_of(self.input))
        a = _rules_check(rules.normalize_dim, int_value(self.dim0), len(x))
        b = _rules_check(rules.normalize_dim, int_value(self.dim1), len(x))
        x[a], x[b] = x[b], x[a]
        _expect_shape(self, x)


@irdl_op_definition
class SliceOp(DataMovementOp):
    """input[..., start:end:step, ...] along `dim` (end already clamped to the size)."""

    name = "graph.slice"
    dim = attr_def(IntegerAttr)
    start = attr_def(IntegerAttr)
    end = attr_def(IntegerAttr)
    step = attr_def(IntegerAttr)

    def verify_shape(self) -> None:
        x = list(shape_of(self.input))
        d = _rules_check(rules.normalize_dim, int_value(self.dim), len(x))
        start, end, step = int_value(self.start), int_value(self.end), int_value(self.step)
        _check(step >= 1 and 0 <= start <= end <= x[d],
               f"slice {start}:{end}:{step} is out of range for size {x[d]}")
        x[d] = -(-(end - start) // step)
        _expect_shape(self, x)


@irdl_op_definition
class SelectOp(DataMovementOp):
    """input.select(dim, index): drops `dim`."""

    name = "graph.select"
    dim = attr_def(IntegerAttr)
    index = attr_def(IntegerAttr)

    def verify_shape(self) -> None:
        x = list(shape_of(self.input))
        d = _rules_check(rules.normalize_dim, int_value(self.dim), len(x))
        _check(-x[d] <= int_value(self.index) < x[d], f"index out of range for size {x[d]}")
        _expect_shape(self, x[:d] + x[d + 1:])


@irdl_op_definition
class ExpandOp(DataMovementOp):
    """Broadcasts size-1 dims to the result shape (a view)."""

    name = "graph.expand"

    def verify_shape(self) -> None:
        _rules_check(rules.broadcast, shape_of(self.input), shape_of(self.result))
        _check(rules.broadcast(shape_of(self.input), shape_of(self.result)) == shape_of(self.result),
               f"cannot expand {list(shape_of(self.input))} to {list(shape_of(self.result))}")


@irdl_op_definition
class CopyOp(DataMovementOp):
    """A materialized copy (clone, contiguous): same shape, new buffer."""

    name = "graph.copy"

    def verify_shape(self) -> None:
        _expect_shape(self, shape_of(self.input))


@irdl_op_definition
class PadOp(DataMovementOp):
    """Constant padding; `pads` lists (before, after) pairs from the last dim backwards,
    as torch.nn.functional.pad does."""

    name = "graph.pad"
    pads = attr_def(DenseArrayBase)
    value = opt_attr_def(FloatAttr)

    def verify_shape(self) -> None:
        x, pads = list(shape_of(self.input)), ints(self.pads)
        _check(len(pads) % 2 == 0 and len(pads) // 2 <= len(x), "pads must be (before, after) pairs")
        for i in range(len(pads) // 2):
            x[-1 - i] += pads[2 * i] + pads[2 * i + 1]
        _expect_shape(self, x)


@irdl_op_definition
class ConcatOp(GraphOp):
    """Concatenation along `dim`."""

    name = "graph.concat"
    inputs = var_operand_def(TensorType)
    dim = attr_def(IntegerAttr)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _check(len(self.inputs) >= 1, "needs at least one input")
        shapes = [list(shape_of(v)) for v in self.inputs]
        d = _rules_check(rules.normalize_dim, int_value(self.dim), len(shapes[0]))
        total = 0
        for s in shapes:
            _check(len(s) == len(shapes[0]) and s[:d] + s[d + 1:] == shapes[0][:d] + shapes[0][d + 1:],
                   f"inputs differ outside dim {d}: {shapes[0]} vs {s}")
            total += s[d]
        _expect_shape(self, shapes[0][:d] + [total] + shapes[0][d + 1:])
        _same_element_type(self)


@irdl_op_definition
class SplitOp(GraphOp):
    """Splits along `dim` into pieces of `sizes` (views of the input)."""

    name = "graph.split"
    input = operand_def(TensorType)
    dim = attr_def(IntegerAttr)
    sizes = attr_def(DenseArrayBase)
    outputs = var_result_def(TensorType)

    def verify_(self) -> None:
        x = list(shape_of(self.input))
        d = _rules_check(rules.normalize_dim, int_value(self.dim), len(x))
        sizes = ints(self.sizes)
        _check(sum(sizes) == x[d], f"sizes {list(sizes)} do not add up to {x[d]}")
        _check(len(sizes) == len(self.outputs), "one result per size")
        for size, out in zip(sizes, self.outputs):
            want = x[:d] + [size] + x[d + 1:]
            _check(list(shape_of(out)) == want, f"result shape {list(shape_of(out))} should be {want}")


# --------------------------------------------------------------------------- anything else


@irdl_op_definition
class GenericOp(GraphOp):
    """An ATen op the dialect does not model by name: kept, never dropped.

    `target` holds the ATen overload name; the non-tensor arguments are attributes
    `arg<N>` in call order. Passes treat it as an opaque kernel that reads its operands
    and writes its results.
    """

    name = "graph.generic"
    target = attr_def(StringAttr)
    args = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)

    @classmethod
    def parse(cls, parser: Parser) -> GenericOp:
        target = parser.parse_str_literal("ATen op name")
        op = super().parse(parser)
        op.attributes["target"] = StringAttr(target)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.target.data)
        self.print_operands_and_types(printer, reserved=("target",))


GRAPH_OPS: tuple[type[GraphOp], ...] = (
    WeightOp, Conv2dOp, LinearOp, MatmulOp, BatchMatmulOp, ScaledDotProductAttentionOp,
    EmbeddingOp, BatchNormOp, LayerNormOp, GroupNormOp, ReluOp, Relu6Op, ClampOp, GeluOp,
    SiluOp, HardswishOp, HardsigmoidOp, SigmoidOp, TanhOp, SoftmaxOp, CastOp, AddOp, SubOp,
    MulOp, DivOp, MaxPool2dOp, AvgPool2dOp, AdaptiveAvgPool2dOp, MeanOp, SumOp, ReshapeOp,
    PermuteOp, TransposeOp, SliceOp, SelectOp, ExpandOp, CopyOp, PadOp, ConcatOp, SplitOp,
    GenericOp,
)

Graph = Dialect("graph", list(GRAPH_OPS), [])

# Module attributes written by the importer (discardable attributes of builtin.module).
MODEL_ATTR = "graph.model"
BATCH_ATTR = "graph.batch"
INPUT_SHAPES_ATTR = "graph.input_shapes"
DTYPE_ATTR = "graph.dtype"
