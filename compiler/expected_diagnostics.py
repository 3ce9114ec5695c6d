"""`--verify-diagnostics`: MLIR's `// expected-error @+1 {{message}}` annotations.

An annotation names a severity, a line (its own, `@+N`, `@-N`, `@above`, `@below`) and
a substring of the message. Each diagnostic produced must match one annotation and each
annotation must be matched; every mismatch is itself reported as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic
from compiler.source import SourceChunk

_ANNOTATION = re.compile(
    r"//\s*expected-(error|warning|note|remark)\s*(?:@([+-]\d+|above|below))?\s*\{\{(.*?)\}\}")


@dataclass
class Expected:
    severity: str
    line: int  # line the diagnostic must be on
    text: str
    annotation_line: int
    annotation_col: int
    matched: bool = False


def expectations(chunk: SourceChunk) -> list[Expected]:
    found = []
    for index, line_text in enumerate(chunk.text.split("\n")):
        line = index + 1 + chunk.line_offset
        for m in _ANNOTATION.finditer(line_text):
            shift = m.group(2)
            target = line
            if shift == "above":
                target = line - 1
            elif shift == "below":
                target = line + 1
            elif shift:
                target = line + int(shift)
            found.append(Expected(m.group(1), target, m.group(3), line, m.start() + 1))
    return found


def check(chunk: SourceChunk, produced: list[Diagnostic]) -> list[Diagnostic]:
    """The mismatches between produced diagnostics and the chunk's annotations."""
    expected = expectations(chunk)
    problems = []
    for diag in produced:
        match = next((e for e in expected if not e.matched and e.severity == diag.severity
                      and e.line == diag.line and e.text in diag.message), None)
        if match is None:
            problems.append(Diagnostic("error", f"unexpected {diag.severity}: {diag.message}",
                                       diag.line, diag.col, diag.filename))
        else:
            match.matched = True
    for e in expected:
        if not e.matched:
            problems.append(Diagnostic("error", f'expected {e.severity} "{e.text}" was not produced',
                                       e.annotation_line, e.annotation_col, chunk.filename))
    return problems
