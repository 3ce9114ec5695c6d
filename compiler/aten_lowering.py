"""How each ATen op of an exported FX graph becomes graph-dialect ops.

One function per ATen overload (or family), registered in `LOWERINGS` by the overload's
name. A lowering that meets arguments it cannot express (a string padding, an alpha
other than 1, an output used that the graph op does not have) raises `Unmodeled`, and
the importer keeps the node as a `graph.generic` op instead: nothing is dropped.

This module never imports torch: it sees tensors only as SSA values and FX nodes only
through `Call`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects.builtin import (
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    LocationAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    f64,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from dialects import graph


class Unmodeled(Exception):
    """This call has no faithful graph-dialect form; keep it generic."""


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def i64_attr(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


def f64_attr(value: float) -> FloatAttr:
    return FloatAttr(float(value), f64)


def pair(value: Any, default: Sequence[int] = (1, 1)) -> tuple[int, int]:
    """ATen's int[2] arguments come as one int, a list of 1, or a list of 2."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return (int(default[0]), int(default[1]))
    if isinstance(value, int):
        return (value, value)
    vals = [int(v) for v in value]
    return (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1])


@dataclass
class Call:
    """One FX call, with tensor arguments already turned into SSA values."""

    target: str  # e.g. "aten.conv2d.default"
    args: tuple
    kwargs: dict
    out_types: list[TensorType | None]  # one per output of the ATen op
    location: LocationAttr
    block: Block
    used_outputs: set[int] = field(default_factory=lambda: {0})

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        if index < len(self.args):
            return self.args[index]
        return self.kwargs.get(name, default)

    def tensor(self, index: int, name: str = "") -> SSAValue:
        value = self.arg(index, name)
        if not isinstance(value, SSAValue):
            raise Unmodeled(f"argument {name or index} is not a tensor")
        return value

    def opt_tensor(self, index: int, name: str) -> SSAValue | None:
        value = self.arg(index, name)
        if value is not None and not isinstance(value, SSAValue):
            raise Unmodeled(f"argument {name} is not a tensor")
        return value

    def emit(self, op_type: type[Operation], operands: Sequence[SSAValue | None],
             attributes: dict[str, Attribute] | None = None,
             result_types: Sequence[Attribute] | None = None) -> Operation:
        """Creates the op at the end of the block, with this call's location."""
        if result_types is None:
            result_types = [self.primary_type()]
        op = op_type.create(operands=[v for v in operands if v is not None],
                            result_types=list(result_types),
                            attributes={k: v for k, v in (attributes or {}).items() if v is not None},
                            location=self.location)
        self.block.add_op(op)
        return op

    def primary_type(self) -> TensorType:
        typ = self.out_types[0] if self.out_types else None
        if typ is None:
            raise Unmodeled("the op has no tensor result")
        return typ

    def only_primary_output(self) -> None:
        """Ops that return (out, saved stats...) lower to one result: insist nothing else is used."""
        if self.used_outputs - {0}:
            raise Unmodeled("secondary outputs are used")


Lowering = Callable[[Call], Sequence[SSAValue | None] | SSAValue]
LOWERINGS: dict[str, Lowering] = {}


def lowers(*targets: str):
    def register(fn: Lowering) -> Lowering:
        for target in targets:
            LOWERINGS[target] = fn
        return fn
    return register


def result(op: Operation) -> SSAValue:
    return op.results[0]


# --------------------------------------------------------------------------- linear algebra


@lowers("aten.conv2d.default", "aten.convolution.default")
def _conv(call: Call):
    if call.target == "aten.convolution.default":
        if call.arg(6, "transposed", False):
            raise Unmodeled("transposed convolution")
        stride, padding, dilation, groups = (call.arg(3, "stride"), call.arg(4, "padding"),
                                             call.arg(5, "dilation"), call.arg(8, "groups", 1))
    else:
        stride, padding, dilation, groups = (call.arg(3, "stride"), call.arg(4, "padding", 0),
                                             call.arg(5, "dilation"), call.arg(6, "groups", 1))
    if isinstance(padding, str):
        raise Unmodeled("string padding")
    x = call.tensor(0, "input")
    if len(x.type.get_shape()) != 4:
        raise Unmodeled("not a batched 2-D convolution")
    return result(call.emit(graph.Conv2dOp, [x, call.tensor(1, "weight"), call.opt_tensor(2, "bias")], {
        "stride": i64_array(pair(stride)), "padding": i64_array(pair(padding, (0, 0))),
        "dilation": i64_array(pair(dilation)), "groups": i64_attr(groups)}))


@lowers("aten.linear.default")
def _linear(call: Call):
    return result(call.emit(graph.LinearOp, [call.tensor(0, "input"), call.tensor(1, "weight"),
                                             call.opt_tensor(2, "bias")]))


@lowers("aten.mm.default", "aten.matmul.default")
def _mm(call: Call):
    return result(call.emit(graph.MatmulOp, [call.tensor(0, "self"), call.tensor(1, "mat2")]))


@lowers("aten.bmm.default")
def _bmm(call: Call):
    return result(call.emit(graph.BatchMatmulOp, [call.tensor(0, "self"), call.tensor(1, "mat2")]))


@lowers("aten.addmm.default")
def _addmm(call: Call):
    if call.arg(3, "beta", 1) != 1 or call.arg(4, "alpha", 1) != 1:
        raise Unmodeled("addmm with beta/alpha")
    product = call.emit(graph.MatmulOp, [call.tensor(1, "mat1"), call.tensor(2, "mat2")])
    return result(call.emit(graph.AddOp, [result(product), call.tensor(0, "self")]))


@lowers("aten.scaled_dot_product_attention.default")
def _sdpa(call: Call):
    if call.arg(4, "dropout_p", 0.0) or call.arg(7, "enable_gqa", False):
        raise Unmodeled("dropout or grouped-query attention")
    scale = call.arg(6, "scale")
    return result(call.emit(graph.ScaledDotProductAttentionOp, [
        call.tensor(0, "query"), call.tensor(1, "key"), call.tensor(2, "value"),
        call.opt_tensor(3, "attn_mask")], {
        "is_causal": UnitAttr() if call.arg(5, "is_causal", False) else None,
        "scale": f64_attr(scale) if scale is not None else None}))


@lowers("aten.embedding.default")
def _embedding(call: Call):
    return result(call.emit(graph.EmbeddingOp, [call.tensor(0, "weight"), call.tensor(1, "indices")]))


# --------------------------------------------------------------------------- normalization


def _affine(call: Call, weight_index: int, what: str, paired: bool = False):
    """(weight, bias) of a normalization; the graph ops take a weight before a bias, and
    batch norm both or neither."""
    weight, bias = call.opt_tensor(weight_index, "weight"), call.opt_tensor(weight_index + 1, "bias")
    if (paired and (weight is None) != (bias is None)) or (weight is None and bias is not None):
        raise Unmodeled(f"{what} with an unsupported weight/bias combination")
    return weight, bias


@lowers("aten._native_batch_norm_legit_no_training.default", "aten.batch_norm.default")
def _batch_norm(call: Call):
    call.only_primary_output()
    legit = call.target.startswith("aten._native")
    if not legit and call.arg(5, "training", False):
        raise Unmodeled("training-mode batch norm")
    weight, bias = _affine(call, 1, "batch norm", paired=True)
    op = call.emit(graph.BatchNormOp, [call.tensor(0, "input"), call.tensor(3, "running_mean"),
                                       call.tensor(4, "running_var"), weight, bias],
                   {"eps": f64_attr(call.arg(6 if legit else 7, "eps", 1e-5))})
    return [result(op)]


@lowers("aten.layer_norm.default", "aten.native_layer_norm.default")
def _layer_norm(call: Call):
    call.only_primary_output()
    weight, bias = _affine(call, 2, "layer norm")
    op = call.emit(graph.LayerNormOp, [call.tensor(0, "input"), weight, bias], {
        "normalized_shape": i64_array(call.arg(1, "normalized_shape")),
        "eps": f64_attr(call.arg(4, "eps", 1e-5))})
    return [result(op)]


@lowers("aten.group_norm.default", "aten.native_group_norm.default")
def _group_norm(call: Call):
    call.only_primary_output()
    native = call.target.startswith("aten.native")
    weight, bias = _affine(call, 1 if native else 2, "group norm")
    groups, eps = (call.arg(6, "group"), call.arg(7, "eps", 1e-5)) if native else \
        (call.arg(1, "num_groups"), call.arg(4, "eps", 1e-5))
    op = call.emit(graph.GroupNormOp, [call.tensor(0, "input"), weight, bias],
                   {"groups": i64_attr(groups), "eps": f64_attr(eps)})
    return [result(op)]


# --------------------------------------------------------------------------- activations

_UNARY: dict[str, type[graph.ElementwiseUnaryOp]] = {
    "aten.relu.default": graph.ReluOp, "aten.relu_.default": graph.ReluOp,
    "aten.relu6.default": graph.Relu6Op, "aten.silu.default": graph.SiluOp,
    "aten.silu_.default": graph.SiluOp, "aten.hardswish.default": graph.HardswishOp,
    "aten.hardswish_.default": graph.HardswishOp, "aten.hardsigmoid.default": graph.HardsigmoidOp,
    "aten.sigmoid.default": graph.SigmoidOp, "aten.tanh.default": graph.TanhOp,
}


@lowers(*_UNARY)
def _unary(call: Call):
    return result(call.emit(_UNARY[call.target], [call.tensor(0, "self")]))


@lowers("aten.gelu.default")
def _gelu(call: Call):
    approximate = call.arg(1, "approximate", "none")
    return result(call.emit(graph.GeluOp, [call.tensor(0, "self")], {
        "approximate": StringAttr(approximate) if approximate != "none" else None}))


@lowers("aten.hardtanh.default", "aten.hardtanh_.default", "aten.clamp.default")
def _clamp(call: Call):
    is_clamp = call.target == "aten.clamp.default"
    lo = call.arg(1, "min", None if is_clamp else -1.0)
    hi = call.arg(2, "max", None if is_clamp else 1.0)
    if (lo, hi) == (0, 6) or (lo, hi) == (0.0, 6.0):
        return result(call.emit(graph.Relu6Op, [call.tensor(0, "self")]))
    if not all(v is None or isinstance(v, (int, float)) for v in (lo, hi)):
        raise Unmodeled("tensor bounds")
    return result(call.emit(graph.ClampOp, [call.tensor(0, "self")], {
        "min": f64_attr(lo) if lo is not None else None,
        "max": f64_attr(hi) if hi is not None else None}))


@lowers("aten._softmax.default", "aten.softmax.int")
def _softmax(call: Call):
    return result(call.emit(graph.SoftmaxOp, [call.tensor(0, "self")], {"dim": i64_attr(call.arg(1, "dim"))}))


# --------------------------------------------------------------------------- elementwise binary

_BINARY: dict[str, type[graph.ElementwiseBinaryOp]] = {
    "add": graph.AddOp, "sub": graph.SubOp, "mul": graph.MulOp, "div": graph.DivOp,
}


def _scalar_attr(value: Any) -> Attribute:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unmodeled(f"scalar operand {value!r}")
    return i64_attr(value) if isinstance(value, int) else f64_attr(value)


@lowers(*[f"aten.{n}.{o}" for n in _BINARY for o in ("Tensor", "Scalar")], "aten.add_.Tensor", "aten.mul_.Tensor")
def _binary(call: Call):
    kind = call.target.split(".")[1].rstrip("_")
    if call.arg(2, "alpha", 1) != 1 or call.kwargs.get("rounding_mode") is not None:
        raise Unmodeled("alpha or rounding mode")
    lhs, rhs = call.arg(0, "self"), call.arg(1, "other")
    if not isinstance(lhs, SSAValue):
        raise Unmodeled("scalar left operand")
    if isinstance(rhs, SSAValue):
        return result(call.emit(_BINARY[kind], [lhs, rhs]))
    return result(call.emit(_BINARY[kind], [lhs], {"scalar": _scalar_attr(rhs)}))


# --------------------------------------------------------------------------- pooling and reductions


@lowers("aten.max_pool2d_with_indices.default", "aten.max_pool2d.default")
def _max_pool(call: Call):
    call.only_primary_output()
    kernel = pair(call.arg(1, "kernel_size"))
    stride = pair(call.arg(2, "stride"), kernel)
    op = call.emit(graph.MaxPool2dOp, [call.tensor(0, "self")], {
        "kernel": i64_array(kernel), "stride": i64_array(stride),
        "padding": i64_array(pair(call.arg(3, "padding", 0), (0, 0))),
        "dilation": i64_array(pair(call.arg(4, "dilation", 1))) if pair(call.arg(4, "dilation", 1)) != (1, 1) else None,
        "ceil_mode": UnitAttr() if call.arg(5, "ceil_mode", False) else None},
        result_types=[call.primary_type()])
    return [result(op)]


@lowers("aten.avg_pool2d.default")
def _avg_pool(call: Call):
    if call.arg(6, "divisor_override") is not None:
        raise Unmodeled("divisor override")
    kernel = pair(call.arg(1, "kernel_size"))
    return result(call.emit(graph.AvgPool2dOp, [call.tensor(0, "self")], {
        "kernel": i64_array(kernel), "stride": i64_array(pair(call.arg(2, "stride"), kernel)),
        "padding": i64_array(pair(call.arg(3, "padding", 0), (0, 0))),
        "ceil_mode": UnitAttr() if call.arg(4, "ceil_mode", False) else None,
        "count_include_pad": UnitAttr() if call.arg(5, "count_include_pad", True) else None}))


@lowers("aten.adaptive_avg_pool2d.default", "aten._adaptive_avg_pool2d.default")
def _adaptive_avg_pool(call: Call):
    return result(call.emit(graph.AdaptiveAvgPool2dOp, [call.tensor(0, "self")], {
        "output_size": i64_array(pair(call.arg(1, "output_size")))}))


@lowers("aten.mean.dim", "aten.sum.dim_IntList", "aten.mean.default", "aten.sum.default")
def _reduce(call: Call):
    op_type = graph.MeanOp if call.target.startswith("aten.mean") else graph.SumOp
    dims = call.arg(1, "dim") if call.target.endswith(("dim", "IntList")) else []
    keepdim = call.arg(2, "keepdim", False) if call.target.endswith(("dim", "IntList")) else False
    if call.kwargs.get("dtype") is not None:
        raise Unmodeled("reduction with a dtype")
    return result(call.emit(op_type, [call.tensor(0, "self")], {
        "dims": i64_array(dims or []), "keepdim": UnitAttr() if keepdim else None}))


# --------------------------------------------------------------------------- data movement


@lowers("aten.view.default", "aten.reshape.default", "aten._unsafe_view.default",
        "aten.flatten.using_ints", "aten.unsqueeze.default", "aten.squeeze.dim",
        "aten.squeeze.dims", "aten.squeeze.default", "aten.alias.default")
def _reshape(call: Call):
    return result(call.emit(graph.ReshapeOp, [call.tensor(0, "self")]))


@lowers("aten.permute.default")
def _permute(call: Call):
    x = call.tensor(0, "self")
    rank = len(x.type.get_shape())
    return result(call.emit(graph.PermuteOp, [x], {"dims": i64_array([d % rank for d in call.arg(1, "dims")])}))


@lowers("aten.transpose.int", "aten.t.default")
def _transpose(call: Call):
    d0, d1 = (0, 1) if call.target == "aten.t.default" else (call.arg(1, "dim0"), call.arg(2, "dim1"))
    return result(call.emit(graph.TransposeOp, [call.tensor(0, "self")], {"dim0": i64_attr(d0), "dim1": i64_attr(d1)}))


@lowers("aten.slice.Tensor")
def _slice(call: Call):
    x = call.tensor(0, "self")
    shape = x.type.get_shape()
    dim = call.arg(1, "dim", 0) % len(shape)
    size = shape[dim]
    start, end, step = call.arg(2, "start"), call.arg(3, "end"), call.arg(4, "step", 1)
    start = 0 if start is None else (start + size if start < 0 else start)
    end = size if end is None else (end + size if end < 0 else end)
    start, end = max(0, min(start, size)), max(0, min(end, size))
    return result(call.emit(graph.SliceOp, [x], {
        "dim": i64_attr(dim), "start": i64_attr(start), "end": i64_attr(max(start, end)), "step": i64_attr(step)}))


@lowers("aten.select.int")
def _select(call: Call):
    return result(call.emit(graph.SelectOp, [call.tensor(0, "self")], {
        "dim": i64_attr(call.arg(1, "dim")), "index": i64_attr(call.arg(2, "index"))}))


@lowers("aten.expand.default")
def _expand(call: Call):
    return result(call.emit(graph.ExpandOp, [call.tensor(0, "self")]))


@lowers("aten.clone.default", "aten.contiguous.default", "aten._to_copy.default", "aten.to.dtype")
def _copy(call: Call):
    x = call.tensor(0, "self")
    if x.type.element_type != call.primary_type().element_type:
        return result(call.emit(graph.CastOp, [x]))
    if call.target == "aten._to_copy.default" and call.kwargs.get("device") is not None:
        raise Unmodeled("device transfer")
    return result(call.emit(graph.CopyOp, [x]))


@lowers("aten.constant_pad_nd.default")
def _pad(call: Call):
    return result(call.emit(graph.PadOp, [call.tensor(0, "self")], {
        "pads": i64_array(call.arg(1, "pad")), "value": f64_attr(call.arg(2, "value", 0.0))}))


@lowers("aten.cat.default")
def _cat(call: Call):
    inputs = call.arg(0, "tensors")
    if not all(isinstance(v, SSAValue) for v in inputs):
        raise Unmodeled("non-tensor concat input")
    return result(call.emit(graph.ConcatOp, list(inputs), {"dim": i64_attr(call.arg(1, "dim", 0))}))


@lowers("aten.split_with_sizes.default", "aten.split.Tensor")
def _split(call: Call):
    x = call.tensor(0, "self")
    shape = x.type.get_shape()
    dim = call.arg(2, "dim", 0) % len(shape)
    if call.target == "aten.split.Tensor":
        chunk = call.arg(1, "split_size")
        sizes = [min(chunk, shape[dim] - s) for s in range(0, shape[dim], chunk)]
    else:
        sizes = list(call.arg(1, "split_sizes"))
    if any(t is None for t in call.out_types) or len(call.out_types) != len(sizes):
        raise Unmodeled("split outputs without types")
    op = call.emit(graph.SplitOp, [x], {"dim": i64_attr(dim), "sizes": i64_array(sizes)},
                   result_types=call.out_types)
    return list(op.results)


@lowers("aten.dropout.default", "aten.detach.default", "aten.detach_.default")
def _identity(call: Call):
    """Eval-mode dropout and detach compute nothing: the value passes through unchanged."""
    if call.target == "aten.dropout.default" and call.arg(2, "train", False):
        raise Unmodeled("training-mode dropout")
    return call.tensor(0, "input")
