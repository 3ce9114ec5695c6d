"""Schedulable units: what runs as one kernel. After `fuse` a unit is a `perf.subgraph`;
without it, every graph op that computes or copies is its own unit (an eager runtime).
Weights and pure views are not units: they launch nothing and move nothing.

This module answers, for any unit, what it computes and what it moves to and from
memory, in the same terms (`passes.work.OpWork` summed, plus what stays on chip), and
turns that into the `targets.workload.Workload` the mapping models take.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from math import prod

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, NameLoc, StringAttr, i64
from xdsl.ir import Operation, SSAValue

from dialects import graph
from dialects.perf import RegionUnitOp
from passes import work as W
from passes.precision import PRECISION_ATTR, precision_of_type
from targets.op_kinds import op_kind
from targets.workload import Gemm, Workload

# Consumers that read an intermediate tile by tile, as the producer writes it: the
# intermediate never needs to exist whole, so it stays on chip whatever its size.
TILE_LOCAL = (graph.ElementwiseUnaryOp, graph.ElementwiseBinaryOp, graph.BatchNormOp,
              graph.LayerNormOp, graph.SoftmaxOp, graph.CastOp, *W.VIEW_OPS)

ON_CHIP_BUDGET_ATTR = "on_chip_budget"


def functions(module: ModuleOp) -> Iterator[func.FuncOp]:
    for op in module.ops:
        if isinstance(op, func.FuncOp):
            yield op


def is_unit(op: Operation) -> bool:
    if W.is_region_unit(op):
        return True
    return W.is_graph_op(op) and type(op) is not graph.WeightOp and not W.is_view(op)


def units(module: ModuleOp) -> Iterator[Operation]:
    """Every unit of every function, in program order."""
    for fn in functions(module):
        for op in fn.body.ops:
            if is_unit(op):
                yield op


def fx_name(op: Operation) -> str:
    loc = op.location
    return loc.desc.data if isinstance(loc, NameLoc) else ""


# torch.export names the placeholder of a buffer b_<name> and of a lifted constant c_<name>
# (a parameter's is p_<name>); the importer keeps that name as the graph.weight's location.
NOT_PARAMETER_PREFIXES = ("b_", "c_")


def parameters(module: ModuleOp) -> int:
    """How many of the module's weights are the source model's parameters (not its buffers,
    such as batch-norm statistics, nor lifted constants): what Dynamo's guards check one by
    one on every call of a compiled graph. A weight without an exported name (hand-written
    IR) counts as a parameter."""
    return sum(1 for op in module.walk() if type(op) is graph.WeightOp
               and not fx_name(op).startswith(NOT_PARAMETER_PREFIXES))


def unit_name(op: Operation) -> str:
    name = op.attributes.get("name")
    if isinstance(name, StringAttr):
        return name.data
    return fx_name(op) or op.name


def inner_ops(op: Operation) -> list[Operation]:
    """The graph ops a unit executes (itself, or its subgraph body without the yield)."""
    if W.is_region_unit(op):
        return [o for o in op.block.ops if W.is_graph_op(o)]
    return [op]


def in_place(op: Operation) -> bool:
    """Whether the unit is one graph op that the model ran in place (`inplace`): eager
    PyTorch writes its result into its first operand's buffer."""
    computing = [o for o in inner_ops(op) if not W.is_view(o)]
    return len(computing) == 1 and graph.INPLACE_ATTR in computing[0].attributes


@dataclass(frozen=True)
class Traffic:
    """Memory traffic of one unit, in bytes at its ops' precisions."""

    bytes_in: int = 0        # activations read from memory (each read counted)
    bytes_weights: int = 0
    bytes_out: int = 0       # results leaving the unit
    bytes_on_chip: int = 0   # intermediates that never leave the chip
    bytes_spilled: int = 0   # intermediates written out and read back (counted once each way)

    @property
    def bytes_moved(self) -> int:
        return self.bytes_in + self.bytes_weights + self.bytes_out + 2 * self.bytes_spilled


def budget_of(op: Operation) -> int:
    attr = op.attributes.get(ON_CHIP_BUDGET_ATTR)
    return attr.value.data if isinstance(attr, IntegerAttr) else 0


def traffic(op: Operation) -> Traffic:
    if not W.is_region_unit(op):
        w = W.work_of(op)
        return Traffic(w.input_bytes, w.weight_bytes, w.output_bytes)
    block, budget = op.block, budget_of(op)
    args = set(block.args)
    weights = {a for a, v in zip(block.args, op.inputs) if W.is_weight(v)}
    bytes_in = bytes_weights = on_chip = spilled = 0
    for inner in inner_ops(op):
        if W.is_view(inner):
            continue
        precision = W.op_precision(inner)
        for operand in inner.operands:
            source = W.read_elements_source(_through_views(operand))
            size = W.value_bytes(source, precision if source in weights else W.stored_precision(source))
            if source in weights:
                bytes_weights += size
            elif source in args:
                bytes_in += size
        for result in inner.results:
            consumers = [u.operation for u in result.uses]
            if any(not W.is_graph_op(c) for c in consumers):
                continue  # yielded: counted as output below
            size = W.value_bytes(result, precision)
            if all(isinstance(c, TILE_LOCAL) for c in consumers) or size <= budget:
                on_chip += size
            else:
                spilled += size
    bytes_out = sum(W.value_bytes(r, W.stored_precision(r)) for r in op.results)
    return Traffic(bytes_in, bytes_weights, bytes_out, on_chip, spilled)


def _through_views(value: SSAValue) -> SSAValue:
    """A view inside a subgraph reads its source: follow views back to a real value."""
    while W.is_view(value.owner):
        value = value.owner.operands[0]
    return value


def works(op: Operation) -> list[tuple[Operation, W.OpWork]]:
    """Each inner op with its work: computed once per question about a unit."""
    return [(inner, W.work_of(inner)) for inner in inner_ops(op)]


def flops(op: Operation, unit_works: list | None = None) -> tuple[int, int]:
    """(matrix FLOPs, vector FLOPs) of a unit."""
    unit_works = unit_works if unit_works is not None else works(op)
    return (sum(w.matrix_flops for _, w in unit_works), sum(w.vector_flops for _, w in unit_works))


def dominant(op: Operation, unit_works: list | None = None) -> tuple[Operation, W.OpWork]:
    """The op that decides how a unit maps, with its work: its largest matrix op, else
    its largest op."""
    unit_works = unit_works if unit_works is not None else works(op)
    return max(unit_works, key=lambda ow: (ow[1].matrix_flops, ow[1].flops))


def unit_precision(op: Operation) -> str:
    """The precision a unit runs and stores at: its own attribute (a bare op's, or the
    one assign-precision puts on a fused kernel), else its dominant op's, else the dtype."""
    attr = op.attributes.get(PRECISION_ATTR)
    if isinstance(attr, StringAttr):
        return attr.data
    anchor = dominant(op)[0] if W.is_region_unit(op) else op
    attr = anchor.attributes.get(PRECISION_ATTR)
    if isinstance(attr, StringAttr):
        return attr.data
    return precision_of_type(anchor.results[0].type) if anchor.results else "fp32"


def gemms_of(op: Operation) -> tuple[Gemm, ...]:
    found: list[Gemm] = []
    for inner in inner_ops(op):
        found.extend(gemm_dims(inner))
    return tuple(found)


def gemm_dims(op: Operation) -> list[Gemm]:
    """The matrix products of a matrix op (implicit GEMM for convolutions)."""
    s = W.shape
    if isinstance(op, graph.Conv2dOp):
        n, _, ho, wo = s(op.result)
        o, i, kh, kw = s(op.weight)
        groups = graph.int_value(op.groups)
        return [Gemm(n * ho * wo, o // groups, i * kh * kw, groups)]
    if isinstance(op, graph.LinearOp):
        out = s(op.result)
        return [Gemm(prod(out[:-1]), out[-1], s(op.weight)[1])]
    if isinstance(op, (graph.MatmulOp, graph.BatchMatmulOp)):
        lhs, out = s(op.lhs), s(op.result)
        m = out[-2] if len(out) >= 2 else 1
        return [Gemm(m, out[-1] if len(s(op.rhs)) > 1 else 1, lhs[-1], prod(out[:-2]) if len(out) > 2 else 1)]
    if isinstance(op, graph.ScaledDotProductAttentionOp):
        q, k, v = s(op.query), s(op.key), s(op.value)
        heads = prod(q[:-2])
        return [Gemm(q[-2], k[-2], q[-1], heads), Gemm(q[-2], v[-1], k[-2], heads)]
    return []


def workload(op: Operation) -> Workload:
    """The unit as the mapping models see it."""
    unit_works = works(op)
    matrix, vector = flops(op, unit_works)
    t = traffic(op)
    anchor_op, anchor = dominant(op, unit_works)
    n_ops = sum(1 for o, _ in unit_works if not isinstance(o, W.VIEW_OPS))
    return Workload(
        name=unit_name(op), op_class=anchor.op_class, precision=unit_precision(op),
        matrix_flops=matrix, vector_flops=vector,
        bytes_in=t.bytes_in + t.bytes_spilled, bytes_weights=t.bytes_weights,
        bytes_out=t.bytes_out + t.bytes_spilled, bytes_on_chip=t.bytes_on_chip,
        output_elements=max(1, anchor.output_elements), batch=anchor.batch,
        channels=anchor.channels, spatial=anchor.spatial, gemms=gemms_of(op), ops=n_ops,
        working_set_bytes=t.bytes_in + t.bytes_weights + t.bytes_out,
        in_place=in_place(op),
        source_channels=W.source_channels(anchor_op),
        conv=W.conv_geometry(anchor_op),
        tail=tuple((op_kind(o.name), w.vector_flops) for o, w in unit_works
                   if o is not anchor_op and w.vector_flops),
        native_attention=_string_attr(anchor_op, graph.NATIVE_ATTENTION_ATTR),
    )


def _string_attr(op: Operation, name: str) -> str:
    value = op.attributes.get(name)
    return value.data if isinstance(value, StringAttr) else ""


@functools.lru_cache(maxsize=65536)
def int_attr(value: int) -> IntegerAttr:
    """Attributes are immutable and costly to build (xDSL verifies each): share them."""
    return IntegerAttr(int(value), i64)
