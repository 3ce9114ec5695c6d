"""`annotate-deps`: the dependency DAG of the units (subgraphs, or ops without fusion).

Each unit gets its stage (earliest level: 0 for units fed only by inputs and weights),
its predecessors by name, and whether it lies on the critical path, measured two ways:
by FLOPs (the heaviest dependency chain) and by count (the longest one). The module gets
the number of stages, the width of the widest stage, and the critical path's length and
FLOPs. Views and weights are transparent: an edge through a reshape links its producer
and its consumer. One pass over the units in program order, plus networkx's longest-path
search on the DAG: linear in units and edges.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import networkx as nx
from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, ModuleOp, StringAttr, UnitAttr
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from passes import units as U
from passes import work as W

STAGES_ATTR, WIDEST_ATTR = "deps.stages", "deps.widest_stage"
CRITICAL_UNITS_ATTR, CRITICAL_FLOPS_ATTR = "deps.critical_path_units", "deps.critical_path_flops"
UNITS_ATTR = "deps.units"


def producers(value: SSAValue, is_unit_op) -> list[Operation]:
    """The units a value comes from, looking through views (a split feeds several)."""
    owner = value.owner
    if isinstance(owner, Operation) and is_unit_op(owner):
        return [owner]
    if isinstance(owner, W.VIEW_OPS):
        found: list[Operation] = []
        for operand in owner.operands:
            found.extend(producers(operand, is_unit_op))
        return found
    return []  # block argument (model input) or weight


def build_dag(unit_ops: list[Operation]) -> nx.DiGraph:
    members = set(unit_ops)
    dag = nx.DiGraph()
    for op in unit_ops:
        matrix, vector = U.flops(op)
        dag.add_node(op, flops=matrix + vector)
        for operand in op.operands:
            for pred in producers(operand, members.__contains__):
                dag.add_edge(pred, op)
    return dag


def critical_path(dag: nx.DiGraph, by_flops: bool) -> list[Operation]:
    """Longest path; by FLOPs weighs each edge with its target's FLOPs (plus a source)."""
    if dag.number_of_nodes() == 0:
        return []
    weighted = nx.DiGraph()
    source = object()
    for node, data in dag.nodes(data=True):
        weighted.add_edge(source, node, weight=data["flops"] if by_flops else 1)
    for u, v in dag.edges:
        weighted.add_edge(u, v, weight=dag.nodes[v]["flops"] if by_flops else 1)
    return [n for n in nx.dag_longest_path(weighted, weight="weight", default_weight=0) if n is not source]


@dataclass(frozen=True)
class AnnotateDepsPass(ModulePass):
    """Dependency DAG of the units: stages, predecessors, critical path by FLOPs and count."""

    name = "annotate-deps"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        unit_ops = list(U.units(op))
        dag = build_dag(unit_ops)
        names = unique_names(unit_ops)
        stage: dict[Operation, int] = {}
        for unit in unit_ops:  # program order is a topological order
            preds = list(dag.predecessors(unit))
            stage[unit] = 1 + max((stage[p] for p in preds), default=-1)
            unit.attributes["stage"] = U.int_attr(stage[unit])
            unit.attributes["preds"] = ArrayAttr([StringAttr(names[p]) for p in preds])
            unit.attributes.pop("critical_flops", None)
            unit.attributes.pop("critical_count", None)
        by_flops, by_count = critical_path(dag, True), critical_path(dag, False)
        for unit in by_flops:
            unit.attributes["critical_flops"] = UnitAttr()
        for unit in by_count:
            unit.attributes["critical_count"] = UnitAttr()
        widths = Counter(stage.values())
        op.attributes.update({
            UNITS_ATTR: U.int_attr(len(unit_ops)),
            STAGES_ATTR: U.int_attr(len(widths)),
            WIDEST_ATTR: U.int_attr(max(widths.values(), default=0)),
            CRITICAL_UNITS_ATTR: U.int_attr(len(by_count)),
            CRITICAL_FLOPS_ATTR: U.int_attr(sum(dag.nodes[n]["flops"] for n in by_flops)),
        })


def unique_names(unit_ops: list[Operation]) -> dict[Operation, str]:
    """Unit names (subgraph name or FX name), made unique where hand-written IR repeats one;
    a renamed unit gets a `name` attribute so later passes agree."""
    seen: Counter = Counter()
    names = {}
    for unit in unit_ops:
        base = U.unit_name(unit)
        name = base if not seen[base] else f"{base}_{seen[base]}"
        seen[base] += 1
        names[unit] = name
        if name != base:
            unit.attributes["name"] = StringAttr(name)
    return names
