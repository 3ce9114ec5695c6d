"""Input text as the driver sees it: split into chunks (`--split-input-file`), parsed
with a parser that remembers where each op starts, so that any later diagnostic about
an op can say `file:line:col`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser

SPLIT_MARKER = re.compile(r"^// -----[ \t]*$", re.MULTILINE)


@dataclass
class SourceChunk:
    """One buffer handed to the parser, and where it sits in the original file."""

    filename: str
    text: str
    line_offset: int = 0  # lines of the file before this chunk
    op_offsets: dict[Operation, int] = field(default_factory=dict)

    def line_col(self, offset: int) -> tuple[int, int]:
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.text.count("\n", 0, line_start) + 1 + self.line_offset, offset - line_start + 1

    def where(self, offset: int) -> str:
        line, col = self.line_col(offset)
        return f"{self.filename}:{line}:{col}"

    def offset_of(self, op: Operation) -> int | None:
        """Where an op (or, for ops a pass created, its first parsed relative) starts."""
        if op in self.op_offsets:
            return self.op_offsets[op]
        for nested in op.walk():
            if nested in self.op_offsets:
                return self.op_offsets[nested]
        parent = op.parent_op()
        while parent is not None:
            if parent in self.op_offsets:
                return self.op_offsets[parent]
            parent = parent.parent_op()
        return None


def split_chunks(filename: str, text: str, split: bool) -> list[SourceChunk]:
    if not split:
        return [SourceChunk(filename, text)]
    chunks, start, line = [], 0, 0
    for marker in SPLIT_MARKER.finditer(text):
        piece = text[start:marker.start()]
        chunks.append(SourceChunk(filename, piece, line))
        line += piece.count("\n") + 1
        start = marker.end() + 1
    chunks.append(SourceChunk(filename, text[start:], line))
    return chunks


class TrackingParser(Parser):
    """xDSL's parser, recording the start offset of every op it parses."""

    def __init__(self, ctx: Context, chunk: SourceChunk):
        super().__init__(ctx, chunk.text, chunk.filename)
        self._chunk = chunk

    def parse_operation(self) -> Operation:
        start = self._current_token.span.start
        op = super().parse_operation()
        self._chunk.op_offsets[op] = start
        return op


_COMMENT = re.compile(r"//[^\n]*")


def parse_chunk(ctx: Context, chunk: SourceChunk) -> ModuleOp:
    """Parses one chunk; raises xDSL's ParseError on bad syntax. Like mlir-opt, an input
    with no ops (only comments, say) is an empty module."""
    if not _COMMENT.sub("", chunk.text).strip():
        return ModuleOp([])
    return TrackingParser(ctx, chunk).parse_module()
