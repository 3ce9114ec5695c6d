"""`cost-report`: latency, energy and memory of the costed model, with the reasons behind
each number and suggestions, as text for a person or JSON / CSV for a machine.

The report goes to stdout (or `output=FILE`); because it is the product of the pipeline,
perf-opt does not print the IR after it unless asked (`--emit=ir`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from passes import report_render
from passes.diagnostic import DiagnosticError
from passes.report_data import collect
from passes.suggestions import suggest

FORMATS = ("text", "json", "csv")


@dataclass(frozen=True)
class CostReportPass(ModulePass):
    """Print latency, energy, memory and the slowest kernels with reasons and suggestions."""

    name = "cost-report"
    is_report: ClassVar[bool] = True

    format: str = field(default="text", metadata={"help": "text | json | csv"})
    top: int = field(default=10, metadata={"help": "kernels listed in the text report"})
    output: str = field(default="-", metadata={"help": "file to write the report to (- = stdout)"})
    suggest: bool = field(default=True, metadata={"help": "try lower precision / fusion and report the gains"})

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"unknown format '{self.format}'; valid formats: {', '.join(FORMATS)}")
        if self.top < 0:
            raise ValueError(f"top must be >= 0, got {self.top}")

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        report = collect(op)
        if self.suggest:
            report["suggestions"] = suggest(op, report)
        rendered = {"text": lambda: report_render.text(report, self.top),
                    "json": lambda: report_render.as_json(report),
                    "csv": lambda: report_render.as_csv(report)}[self.format]()
        if self.output == "-":
            sys.stdout.write(rendered)
            return
        try:
            with open(self.output, "w") as stream:
                stream.write(rendered)
        except OSError as err:
            raise DiagnosticError(f"cannot write the report to '{self.output}': {err.strerror}", op) from None
