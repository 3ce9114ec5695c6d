"""`assign-precision`: one precision per graph op, from the shared enum.

`default` is the precision of everything (uniform policy) or of the matmuls and
convolutions (mixed policy: `passes/rules/mixed.rules` keeps normalizations and
reductions in fp32, as torch.autocast does). A user's rules file, in the fusion rule
language, overrides by op, by op class or by FX-name pattern; later rules win. Bytes per
element follow the precision, so every traffic figure downstream changes with it; the
subgraphs' traffic attributes are refreshed here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass

from dialects import graph
from dialects.perf import RegionUnitOp
from passes import units as U
from passes.fuse import KNOWN_OPS, default_rules, kind, subgraph_attributes
from passes.precision import PRECISION_ATTR, precision_of_type
from passes.rules_language import RULES_DIR, Rules, load_rules
from targets.precision import check_precision

POLICIES = {"uniform": None, "mixed": "mixed.rules"}


@functools.cache
def policy_rules(policy: str, path: str | None) -> Rules:
    rules = default_rules()
    if POLICIES[policy]:
        rules = load_rules(RULES_DIR / POLICIES[policy], set(KNOWN_OPS), rules)
    if path:
        rules = load_rules(path, set(KNOWN_OPS), rules)
    return rules


@dataclass(frozen=True)
class AssignPrecisionPass(ModulePass):
    """One precision per op: uniform, or a mixed policy that keeps sensitive ops wide."""

    name = "assign-precision"

    default: str | None = field(default=None, metadata={
        "help": "precision of every op (uniform) or of matmuls/convs (mixed); default: the model's dtype"})
    policy: str = field(default="uniform", metadata={"help": "uniform | mixed"})
    rules: str | None = field(default=None, metadata={"help": "rules file of `precision` statements"})

    def __post_init__(self):
        if self.default is not None:
            check_precision(self.default)
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy '{self.policy}'; valid policies: {', '.join(POLICIES)}")
        policy_rules(self.policy, self.rules)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        rules = policy_rules(self.policy, self.rules)
        dtype = op.attributes.get(graph.DTYPE_ATTR)
        module_default = self.default or (dtype.data if isinstance(dtype, StringAttr) else None)
        for target in op.walk():
            if not isinstance(target, graph.GraphOp) or isinstance(target, graph.WeightOp):
                continue
            default = module_default or (precision_of_type(target.results[0].type) if target.results else "fp32")
            chosen = rules.precision_for(kind(target), U.fx_name(target), default)
            target.attributes[PRECISION_ATTR] = StringAttr(chosen)
        for sg in op.walk():
            if isinstance(sg, RegionUnitOp):
                # A fused kernel stores its outputs at its dominant op's precision
                # (recomputed: the kernel's own attribute is the previous assignment).
                sg.attributes.pop(PRECISION_ATTR, None)
                sg.attributes[PRECISION_ATTR] = StringAttr(U.unit_precision(sg))
                sg.attributes.update(subgraph_attributes(sg))
