"""Moving ops into a region unit (`perf.subgraph`, `perf.*_kernel`) and between unit kinds.

Ops are moved, never cloned: they keep their identity, attributes and locations, so a
diagnostic about an op after fusion still points at the line it was parsed from.
"""

from __future__ import annotations

from xdsl.ir import Block, Operation, Region

from dialects.perf import RegionUnitOp, YieldOp, make_unit


def outline(group: list[Operation], cls: type[RegionUnitOp], pattern: str,
            attributes: dict | None = None) -> RegionUnitOp:
    """Replaces a producer->consumer group (program order; only the last op's results
    escape) with one unit placed where the last op was."""
    members = set(group)
    last = group[-1]
    inputs = []
    for member in group:
        for operand in member.operands:
            if operand.owner not in members and operand not in inputs:
                inputs.append(operand)
    body = Block(arg_types=[v.type for v in inputs])
    mapping = dict(zip(inputs, body.args))
    for arg, value in zip(body.args, inputs):
        arg.name_hint = value.name_hint
    outputs = list(last.results)
    unit = make_unit(cls, pattern, inputs, [v.type for v in outputs], Region(body), attributes)
    unit.location = group[0].location
    last.parent.insert_op_before(unit, last)
    for old, new in zip(outputs, unit.results):
        old.replace_all_uses_with(new)
        new.name_hint = old.name_hint
    for member in group:
        member.detach()
        member.operands = [mapping.get(v, v) for v in member.operands]
        body.add_op(member)
    body.add_op(YieldOp.create(operands=outputs))
    return unit


def rewrap(unit: RegionUnitOp, cls: type[RegionUnitOp], attributes: dict) -> RegionUnitOp:
    """The same body and inputs under another unit op (a subgraph becomes a kernel)."""
    region = unit.detach_region(0)
    new = cls.create(operands=list(unit.inputs), result_types=list(unit.result_types),
                     attributes={**unit.attributes, **attributes}, regions=[region])
    new.location = unit.location
    unit.parent.insert_op_before(new, unit)
    for old, value in zip(unit.results, new.results):
        old.replace_all_uses_with(value)
        value.name_hint = old.name_hint
    unit.detach()
    unit.erase()
    return new


def inline(unit: RegionUnitOp) -> None:
    """Moves a unit's ops back into its parent block (the inverse of outline): what-if
    analyses re-fuse or re-map a model from its plain graph ops."""
    mapping = dict(zip(unit.block.args, unit.inputs))
    yielded = list(unit.yield_op.values)
    for inner in list(unit.block.ops):
        if isinstance(inner, YieldOp):
            break
        inner.detach()
        inner.operands = [mapping.get(v, v) for v in inner.operands]
        for key in _KERNEL_ONLY_ATTRS:
            inner.attributes.pop(key, None)
        unit.parent.insert_op_before(inner, unit)
    for old, new in zip(unit.results, yielded):
        old.replace_all_uses_with(new)
    unit.detach()
    unit.erase()


# Attributes a pass may have put on a bare op that became its own kernel.
_KERNEL_ONLY_ATTRS = ("name", "stage", "preds", "critical_flops", "critical_count")
