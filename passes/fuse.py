"""`fuse`: greedy producer -> consumer fusion into `perf.subgraph` kernels.

From each op not yet fused, follow the chain of single consumers (a fork ends it: the
value must reach memory for its other readers anyway) up to `max-ops` ops, then keep the
longest prefix that one of the rule patterns accepts. Pure views inside a chain ride
along and do not count. The group becomes a subgraph placed where its last op was (all
its external inputs are defined by then). FLOPs are untouched: ops move, they are never
rewritten. Intermediates stay on chip when their consumer reads them tile by tile or
when they fit the on-chip budget; otherwise they are spilled, and the subgraph's
attributes say which.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr, UnitAttr
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass

from dialects import graph
from dialects.perf import SubgraphOp
from passes import units as U
from passes import work as W
from passes.outline import outline
from passes.precision import PRECISION_ATTR
from passes.rules_language import RULES_DIR, Rules, load_rules, token

FUSED_ATTR = "perf.fused"  # module attribute: a compiled runtime, not an eager one
KNOWN_OPS = frozenset(c.name.split(".", 1)[1] for c in graph.GRAPH_OPS)


@functools.cache
def default_rules() -> Rules:
    return load_rules(RULES_DIR / "default.rules", set(KNOWN_OPS))


@functools.cache
def rules_for(path: str | None) -> Rules:
    base = default_rules()
    return base if not path else load_rules(path, set(KNOWN_OPS), base)


def kind(op: Operation) -> str:
    return op.name.split(".", 1)[1]


def subgraph_attributes(sg) -> dict:
    """The informational attributes of a subgraph (refreshed when precisions change)."""
    t = U.traffic(sg)
    matrix, vector = U.flops(sg)
    return {"flops": U.int_attr(matrix + vector), "bytes_in": U.int_attr(t.bytes_in),
            "bytes_weights": U.int_attr(t.bytes_weights), "bytes_out": U.int_attr(t.bytes_out),
            "bytes_on_chip": U.int_attr(t.bytes_on_chip), "bytes_spilled": U.int_attr(t.bytes_spilled)}


@dataclass(frozen=True)
class FusePass(ModulePass):
    """Fuse producer->consumer chains into perf.subgraph kernels by rule patterns."""

    name = "fuse"

    max_ops: int = field(default=8, metadata={"help": "most ops (views excluded) in one subgraph"})
    on_chip_bytes: int = field(default=262144, metadata={
        "help": "bytes an intermediate may take and stay on chip when its consumer needs it whole"})
    rules: str | None = field(default=None, metadata={"help": "rules file extending the default patterns"})

    def __post_init__(self):
        if self.max_ops < 1:
            raise ValueError(f"max-ops must be >= 1, got {self.max_ops}")
        if self.on_chip_bytes < 0:
            raise ValueError(f"on-chip-bytes must be >= 0, got {self.on_chip_bytes}")
        rules_for(self.rules)  # a bad rules file is an error now, not mid-pipeline

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        rules = rules_for(self.rules)
        counter = [0]
        for fn in U.functions(op):
            self.fuse_block(fn.body.block, rules, counter)
        op.attributes[FUSED_ATTR] = UnitAttr()

    def fuse_block(self, block: Block, rules: Rules, counter: list[int]) -> None:
        fused: set[Operation] = set()
        for start in list(block.ops):
            if start in fused or not U.is_unit(start) or isinstance(start, graph.GenericOp):
                continue
            group, pattern = self.longest_match(start, rules, fused)
            if group:
                fused.update(group)
                self.outline(group, pattern, counter)

    def chain_from(self, start: Operation, fused: set[Operation]) -> list[Operation]:
        chain, counted, cur = [start], 1, start
        while counted < self.max_ops and len(cur.results) == 1:
            uses = list(cur.results[0].uses)
            if len(uses) != 1:
                break  # a fork (or nothing) ends the chain
            nxt = uses[0].operation
            if (not isinstance(nxt, graph.GraphOp) or nxt in fused or isinstance(nxt, graph.GenericOp)
                    or nxt.parent is not start.parent):
                break
            chain.append(nxt)
            counted += 0 if isinstance(nxt, W.VIEW_OPS) else 1
            cur = nxt
        return chain

    def longest_match(self, start: Operation, rules: Rules, fused: set[Operation]):
        """The longest chain prefix (>= 2 counted ops) a pattern accepts, and that pattern."""
        chain = self.chain_from(start, fused)
        counted = [i for i, o in enumerate(chain) if not isinstance(o, W.VIEW_OPS)]
        tokens = [token(kind(chain[i])) for i in counted]
        for length in range(len(counted), 1, -1):
            text = "".join(tokens[:length])
            for name, regex in rules.patterns.items():
                if regex.fullmatch(text):
                    return chain[: counted[length - 1] + 1], name
        return [], ""

    def outline(self, group: list[Operation], pattern: str, counter: list[int]) -> None:
        sg = outline(group, SubgraphOp, pattern, {
            "name": StringAttr(f"{pattern}_{counter[0]}"),
            "ops": U.int_attr(sum(1 for o in group if not isinstance(o, W.VIEW_OPS))),
            U.ON_CHIP_BUDGET_ATTR: U.int_attr(self.on_chip_bytes)})
        counter[0] += 1
        if any(PRECISION_ATTR in o.attributes for o in group):  # assigned before fusion
            sg.attributes[PRECISION_ATTR] = StringAttr(U.unit_precision(sg))
        sg.attributes.update(subgraph_attributes(sg))
