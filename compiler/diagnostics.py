"""Diagnostics in MLIR's form: `file:line:col: error: message`.

Passes raise `DiagnosticError` (from `passes.diagnostic`) naming the op at fault; the
verifier here walks every op and collects its errors instead of stopping at the first
and dumping the module, as xDSL's own `verify()` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp, NameLoc
from xdsl.ir import Operation
from xdsl.traits import IsTerminator, NoTerminator
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


def verify(module: ModuleOp, chunk: SourceChunk) -> list[Diagnostic]:
    """Every verification error of the module, one per failing op, in IR order."""
    found: list[Diagnostic] = []
    for op in module.walk():
        message = _structure_error(op)
        if message is None:
            try:
                op.verify_()
            except (VerifyException, DiagnosticException) as err:
                message = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        if message is not None:
            found.append(at_op(chunk, op, f"'{op.name}' op {message}"))
    return found
