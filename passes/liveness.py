"""Memory a model needs on its device: weights, peak live activations over the schedule,
and workspace.

Activations are live from the kernel that writes them to the last kernel that reads
them (model inputs from the start); views and in-place results share their source's
buffer. Walking the units in program order with the live set gives the peak; each value
is added and retired once, so the walk is linear.
Weights count once each, at the precision of their first consumer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue

from passes import units as U
from passes import work as W


@dataclass(frozen=True)
class MemoryFootprint:
    weights: int
    peak_activations: int
    workspace: int
    peak_unit: str  # the unit running when activations peak

    @property
    def total(self) -> int:
        return self.weights + self.peak_activations + self.workspace


def _materialized(value: SSAValue) -> SSAValue:
    """Views share their source's buffer, and so does the result of an in-place unit
    (eager `relu_` writes into its input): account the source."""
    while isinstance(value.owner, W.VIEW_OPS) or (
            isinstance(value.owner, Operation) and U.is_unit(value.owner)
            and U.in_place(value.owner)):
        value = value.owner.operands[0]
    return value


def footprint(module: ModuleOp) -> MemoryFootprint:
    unit_ops = list(U.units(module))
    end = len(unit_ops)
    last_use: dict[SSAValue, int] = {}
    weights: dict[SSAValue, int] = {}
    for i, unit in enumerate(unit_ops):
        precision = assigned_precision(unit)
        for operand in unit.operands:
            source = _materialized(operand)
            if W.is_weight(source):
                weights.setdefault(source, W.value_bytes(source, precision))
            else:
                last_use[source] = i
    for fn in U.functions(module):
        for value in fn.body.block.last_op.operands:  # func.return: outputs live to the end
            last_use[_materialized(value)] = end

    retire: dict[int, int] = defaultdict(int)
    live = 0
    for fn in U.functions(module):
        for arg in fn.body.block.args:
            if arg in last_use:
                size = W.value_bytes(arg, None)
                live += size
                retire[last_use[arg]] += size
    peak, peak_unit, workspace = live, "", 0
    for i, unit in enumerate(unit_ops):
        precision = assigned_precision(unit)
        for result in unit.results:
            if _materialized(result) is not result:  # in place: no buffer of its own
                continue
            size = W.value_bytes(result, precision)
            live += size
            retire[last_use.get(result, i)] += size
        if live > peak:
            peak, peak_unit = live, U.unit_name(unit)
        spilled = unit.attributes.get("bytes_spilled")  # fuse wrote it; bare ops spill nothing
        workspace = max(workspace, spilled.value.data if spilled is not None else 0)
        live -= retire.pop(i, 0)
    return MemoryFootprint(sum(weights.values()), peak, workspace, peak_unit)


def assigned_precision(unit: Operation) -> str | None:
    """The unit's precision once assign-precision ran; None means each tensor's dtype."""
    precision = U.unit_precision(unit)
    assigned = W.op_precision(unit) or W.op_precision(U.inner_ops(unit)[0])
    return precision if assigned else None
