"""The `perf` dialect: what fusion makes of graph ops.

`perf.subgraph` is one kernel: a single-block region of graph ops, isolated from above
(its inputs are explicit operands and block arguments), ending in `perf.yield`. Its
attributes say what it reads from memory, what it writes back and what stays on chip,
so a reader of the IR after `fuse` sees the traffic without re-deriving it:

    %sg = perf.subgraph "conv_bn_act" ins(%x, %w, %m, %v) {bytes_on_chip = ...} -> tensor<1x64x112x112xf32> {
    ^bb0(%a0: tensor<...>, %a1: tensor<...>, ...):
      %c = graph.conv2d %a0, %a1 {...} : tensor<...>
      ...
      perf.yield %r : tensor<...>
    } loc("conv2d")
"""

from __future__ import annotations

import abc
from typing import ClassVar

from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import Dialect, Region
from xdsl.irdl import (
    IRDLOperation,
    attr_def,
    irdl_op_definition,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, Pure
from xdsl.utils.exceptions import VerifyException


class RegionUnitOp(IRDLOperation, abc.ABC):
    """A kernel-sized unit with a body: a fused subgraph, or a subgraph mapped to a target.

    Shared format: `"pattern" ins(%a, %b) {attrs} -> types { ^bb0(...): ... perf.yield }`.
    """

    inputs = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    pattern = attr_def(StringAttr)
    body = region_def("single_block")
    traits = traits_def(IsolatedFromAbove(), Pure())

    @property
    def block(self):
        return self.body.blocks.first

    @property
    def yield_op(self) -> YieldOp:
        terminator = self.block.last_op
        assert isinstance(terminator, YieldOp)
        return terminator

    @classmethod
    def parse(cls, parser: Parser) -> RegionUnitOp:
        pattern = parser.parse_str_literal("fusion pattern name")
        parser.parse_keyword("ins")
        inputs = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_operand)
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation("->")
        result_types = parser.parse_optional_undelimited_comma_separated_list(
            parser.parse_optional_type, parser.parse_type) or []
        body = parser.parse_region()
        return cls.create(operands=inputs, result_types=result_types,
                          attributes={"pattern": StringAttr(pattern), **attributes}, regions=[body])

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.pattern.data)
        printer.print_string(" ins(")
        printer.print_list(self.inputs, printer.print_operand)
        printer.print_string(")")
        printer.print_op_attributes(self.attributes, reserved_attr_names=("pattern",))
        printer.print_string(" -> ")
        printer.print_list(self.result_types, printer.print_attribute)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=True)

    def verify_(self) -> None:
        block = self.body.blocks.first
        if block is None or not isinstance(block.last_op, YieldOp):
            raise VerifyException("body must end with perf.yield")
        if [a.type for a in block.args] != [v.type for v in self.inputs]:
            raise VerifyException("block arguments must match the types of ins(...)")
        yielded = [v.type for v in block.last_op.values]
        if yielded != list(self.result_types):
            raise VerifyException(f"yields {len(yielded)} values whose types differ from the results")


@irdl_op_definition
class SubgraphOp(RegionUnitOp):
    """A fused group of graph ops that executes as one kernel (written by `fuse`)."""

    name = "perf.subgraph"


class KernelOp(RegionUnitOp, abc.ABC):
    """A unit placed on a target by a map-* pass: its attributes are the resources it
    holds (SMs, systolic passes, tiles, cores) and the share of peak it can reach."""

    TARGET: ClassVar[str]


@irdl_op_definition
class GpuKernelOp(KernelOp):
    name = "perf.gpu_kernel"
    TARGET: ClassVar[str] = "gpu"


@irdl_op_definition
class TpuKernelOp(KernelOp):
    name = "perf.tpu_kernel"
    TARGET: ClassVar[str] = "tpu"


@irdl_op_definition
class KpuKernelOp(KernelOp):
    name = "perf.kpu_kernel"
    TARGET: ClassVar[str] = "kpu"


@irdl_op_definition
class CpuKernelOp(KernelOp):
    name = "perf.cpu_kernel"
    TARGET: ClassVar[str] = "cpu"


REGION_UNIT_TYPES = frozenset({SubgraphOp, GpuKernelOp, TpuKernelOp, KpuKernelOp, CpuKernelOp})
KERNEL_OPS: dict[str, type[KernelOp]] = {k.TARGET: k for k in (GpuKernelOp, TpuKernelOp, KpuKernelOp, CpuKernelOp)}


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Returns a subgraph's escaping values."""

    name = "perf.yield"
    values = var_operand_def(TensorType)
    traits = traits_def(IsTerminator(), HasParent(SubgraphOp, GpuKernelOp, TpuKernelOp, KpuKernelOp, CpuKernelOp), Pure())

    @classmethod
    def parse(cls, parser: Parser) -> YieldOp:
        values = parser.parse_optional_undelimited_comma_separated_list(
            parser.parse_optional_operand, parser.parse_operand) or []
        if values:
            parser.parse_punctuation(":")
            parser.parse_optional_undelimited_comma_separated_list(parser.parse_optional_type, parser.parse_type)
        return cls.create(operands=values)

    def print(self, printer: Printer) -> None:
        if self.values:
            printer.print_string(" ")
            printer.print_list(self.values, printer.print_operand)
            printer.print_string(" : ")
            printer.print_list([v.type for v in self.values], printer.print_attribute)


def make_unit(cls: type[RegionUnitOp], pattern: str, inputs, result_types, body: Region,
              attributes=None) -> RegionUnitOp:
    return cls.create(operands=list(inputs), result_types=list(result_types),
                             attributes={"pattern": StringAttr(pattern), **(attributes or {})},
                             regions=[body])


Perf = Dialect("perf", [SubgraphOp, YieldOp, *KERNEL_OPS.values()], [])
