"""Diagnostics in MLIR's form: `file:line:col: error: message`.

Passes raise `DiagnosticError` (from `passes.diagnostic`) naming the op at fault; the
verifier here walks every op and collects its errors instead of stopping at the first
and dumping the module, as xDSL's own `verify()` does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp, NameLoc
from xdsl.ir import Operation
from xdsl.traits import HasParent, IsTerminator, NoTerminator
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException

from compiler.source import SourceChunk


@dataclass
class Diagnostic:
    severity: str  # error | warning | note | remark
    message: str
    line: int
    col: int
    filename: str

    def render(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: {self.severity}: {self.message}"


def from_parse_error(chunk: SourceChunk, err: ParseError) -> Diagnostic:
    line, col = chunk.line_col(err.span.start)
    return Diagnostic("error", err.msg, line, col, chunk.filename)


def at_op(chunk: SourceChunk, op: Operation | None, message: str,
          severity: str = "error") -> Diagnostic:
    offset = chunk.offset_of(op) if op is not None else None
    if offset is None:
        line, col = 1 + chunk.line_offset, 1
        if op is not None and isinstance(op.location, NameLoc):
            message = f"{message} (at {op.name} \"{op.location.desc.data}\")"
    else:
        line, col = chunk.line_col(offset)
    return Diagnostic(severity, message, line, col, chunk.filename)


def _structure_error(op: Operation) -> str | None:
    block = op.parent
    region = block.parent if block is not None else None
    parent = region.parent if region is not None else None
    if (block is not None and block.last_op is op and parent is not None
            and len(region.blocks) == 1 and not parent.has_trait(NoTerminator)
            and not op.has_trait(IsTerminator)):
        return f"'{op.name}' ends a block of '{parent.name}' but is not a terminator"
    return None


@functools.cache
def _position_sensitive(op_type: type) -> bool:
    """Ops whose verifier looks at where they are (terminators, ops with a required parent)."""
    return op_type.has_trait(IsTerminator) or op_type.get_trait(HasParent) is not None


@functools.cache
def _declared(op_type: type) -> tuple[str, ...] | None:
    """The attributes an IRDL op declares (None: not an IRDL op, every attribute counts).
    A verifier checks declared attributes only, so the ones passes add for their own
    bookkeeping (stage, precision, costs) cannot change whether an op verifies."""
    get_def = getattr(op_type, "get_irdl_definition", None)
    if get_def is None:
        return None
    op_def = get_def()
    return tuple(op_def.attributes) + tuple(op_def.properties)


def _attributes(op: Operation) -> tuple:
    declared = _declared(type(op))
    if declared is None:
        return tuple(op.attributes.items())
    return tuple(op.attributes.get(name) for name in declared)


def _fingerprint(op: Operation) -> tuple:
    """Everything an op's verifier can look at: operand and result types, declared
    attributes, properties, whether it ends its block, the ops and arguments of its regions, and, for
    terminators and ops that require a parent, the parent and its attributes (func.return
    checks the function type). Operand identity and position are not part of it: moving an
    op into a fused subgraph does not change whether it verifies."""
    block = op.parent
    regions = tuple(
        (tuple(a.type for a in b.args), tuple(b.ops)) for r in op.regions for b in r.blocks)
    where = ()
    if _position_sensitive(type(op)):
        parent = op.parent_op()
        where = (parent, _attributes(parent) if parent is not None else (),
                 tuple(parent.properties.items()) if parent is not None else ())
    return (tuple(v.type for v in op.operands), tuple(r.type for r in op.results),
            _attributes(op), tuple(op.properties.items()),
            block is not None and block.last_op is op, regions, where)


class Verifier:
    """Verifies a module, re-running an op's verifier only when something it can see has
    changed since it last passed. Passes mostly move ops or add attributes to some, so
    after the first full check a pass costs a fingerprint per op instead of a full
    verification (several times cheaper in xDSL)."""

    def __init__(self) -> None:
        self._passed: dict[Operation, tuple] = {}

    def verify(self, module: ModuleOp, chunk: SourceChunk) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        passed: dict[Operation, tuple] = {}
        for op in module.walk():
            fingerprint = _fingerprint(op)
            if self._passed.get(op) == fingerprint:
                passed[op] = fingerprint
                continue
            message = _structure_error(op)
            if message is None:
                try:
                    op.verify_()
                except (VerifyException, DiagnosticException) as err:
                    message = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
            if message is None:
                passed[op] = fingerprint
            else:
                found.append(at_op(chunk, op, f"'{op.name}' op {message}"))
        self._passed = passed
        return found


def verify(module: ModuleOp, chunk: SourceChunk) -> list[Diagnostic]:
    """Every verification error of the module, one per failing op, in IR order."""
    return Verifier().verify(module, chunk)
