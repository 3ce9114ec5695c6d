"""The exception a pass raises for a user-facing error about a specific op.

The driver turns it into `file:line:col: error: message` at the op's position (or the
module's, when `op` is None) and exits with status 1, no traceback.
"""

from __future__ import annotations

from xdsl.ir import Operation
from xdsl.utils.exceptions import DiagnosticException


class DiagnosticError(DiagnosticException):
    def __init__(self, message: str, op: Operation | None = None):
        super().__init__(message)
        self.message = message
        self.op = op
