"""perf-opt's driver: read, parse, verify, run the pipeline, print; with mlir-opt's
instrumentation (IR dumps before/after passes, a dump tree, timing) and diagnostics
(`file:line:col: error:`, `--split-input-file`, `--verify-diagnostics`).

The module is parsed once per input chunk and passes rewrite it in place: nothing is
re-parsed between passes.
"""

from __future__ import annotations

import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.printer import Printer
from xdsl.utils.exceptions import DiagnosticException, ParseError

from compiler import diagnostics, expected_diagnostics
from compiler.context import make_context
from compiler.diagnostics import Diagnostic
from compiler.pipeline import PipelineError, build
from compiler.source import SourceChunk, parse_chunk, split_chunks
from passes.diagnostic import DiagnosticError


@dataclass
class OptOptions:
    input: str = "-"
    output: str = "-"
    pipeline: str = ""
    print_before: frozenset[str] = frozenset()
    print_after: frozenset[str] = frozenset()
    print_after_all: bool = False
    print_before_all: bool = False
    tree_dir: str | None = None
    timing: bool = False
    split_input_file: bool = False
    verify_diagnostics: bool = False
    generic: bool = False
    debuginfo: bool = False
    verify_each: bool = True
    emit_ir: bool | None = None  # None: print IR unless the pipeline ends in a report


@dataclass
class Timer:
    """Wall time per named phase, in first-seen order (MLIR's --mlir-timing table)."""

    entries: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    def add(self, name: str, seconds: float) -> None:
        self.entries[name] = self.entries.get(name, 0.0) + seconds

    def report(self) -> str:
        total = time.perf_counter() - self.start
        rule = "===" + "-" * 73 + "==="
        lines = [rule, "  ... Execution time report ...".center(79).rstrip(), rule,
                 f"  Total Execution Time: {total:.4f} seconds", "",
                 "  ----Wall Time----  ----Name----"]
        for name, seconds in self.entries.items():
            lines.append(f"  {seconds:8.4f} ({100 * seconds / total if total else 0:5.1f}%)  {name}")
        lines.append(f"  {total:8.4f} (100.0%)  Total")
        return "\n".join(lines)


def print_module(module: ModuleOp, stream: TextIO, opts: OptOptions) -> None:
    Printer(stream=stream, print_generic_format=opts.generic,
            print_debuginfo=opts.debuginfo).print_op(module)
    stream.write("\n")


def _dump_header(when: str, p: ModulePass) -> str:
    return f"// -----// IR Dump {when} {type(p).__name__} ({p.name}) //----- //"


class _ChunkRun:
    """Parses, verifies and transforms one input chunk, collecting its diagnostics."""

    def __init__(self, ctx: Context, chunk: SourceChunk, passes: list[ModulePass],
                 opts: OptOptions, timer: Timer, dump_index: list[int]):
        self.ctx, self.chunk, self.passes, self.opts, self.timer = ctx, chunk, passes, opts, timer
        self.dump_index = dump_index  # shared counter for --mlir-print-ir-tree-dir
        self.diags: list[Diagnostic] = []
        self.verifier = diagnostics.Verifier()

    def run(self) -> ModuleOp | None:
        t0 = time.perf_counter()
        try:
            module = parse_chunk(self.ctx, self.chunk)
        except ParseError as err:
            self.diags.append(diagnostics.from_parse_error(self.chunk, err))
            return None
        finally:
            self.timer.add("Parser", time.perf_counter() - t0)
        if not self.verify(module):
            return None
        for p in self.passes:
            if not self.apply(p, module):
                return None
        return module

    def verify(self, module: ModuleOp) -> bool:
        t0 = time.perf_counter()
        self.diags.extend(self.verifier.verify(module, self.chunk))
        self.timer.add("Verifier", time.perf_counter() - t0)
        return not self.diags

    def apply(self, p: ModulePass, module: ModuleOp) -> bool:
        if self.opts.print_before_all or p.name in self.opts.print_before:
            self.dump("Before", p, module)
        t0 = time.perf_counter()
        try:
            p.apply(self.ctx, module)
        except DiagnosticError as err:
            self.diags.append(diagnostics.at_op(self.chunk, err.op or module, err.message))
            return False
        except DiagnosticException as err:
            self.diags.append(diagnostics.at_op(self.chunk, module, f"pass '{p.name}' failed: {err}"))
            return False
        finally:
            self.timer.add(f"{type(p).__name__} ({p.name})", time.perf_counter() - t0)
        if self.opts.verify_each and not self.verify(module):
            return False
        if self.opts.print_after_all or p.name in self.opts.print_after:
            self.dump("After", p, module)
        if self.opts.tree_dir:
            self.write_tree_file(p, module)
        return True

    def dump(self, when: str, p: ModulePass, module: ModuleOp) -> None:
        sys.stderr.write(_dump_header(when, p) + "\n")
        print_module(module, sys.stderr, self.opts)
        sys.stderr.write("\n")

    def write_tree_file(self, p: ModulePass, module: ModuleOp) -> None:
        # MLIR names the folder after the op the pass ran on; ours always run on the module.
        folder = Path(self.opts.tree_dir) / "builtin_module_no-symbol-name"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.dump_index[0]}_{p.name}.mlir"
        self.dump_index[0] += 1
        with path.open("w") as stream:
            stream.write(_dump_header("After", p) + "\n")
            print_module(module, stream, self.opts)


def _read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text()


def run(opts: OptOptions) -> int:
    """Runs perf-opt; returns the exit status (0 success, 1 any error)."""
    timer = Timer()
    try:
        passes = build(opts.pipeline)
    except PipelineError as err:
        sys.stderr.write(f"perf-opt: error: {err}\n")
        return 1
    try:
        text = _read_input(opts.input)
    except OSError as err:
        sys.stderr.write(f"perf-opt: error: cannot open input '{opts.input}': {err.strerror}\n")
        return 1

    ctx = make_context()
    filename = "<stdin>" if opts.input == "-" else opts.input
    failed = False
    printed: list[str] = []
    dump_index = [0]
    emit_ir = opts.emit_ir
    if emit_ir is None:
        emit_ir = not (passes and getattr(passes[-1], "is_report", False))
    for chunk in split_chunks(filename, text, opts.split_input_file):
        chunk_run = _ChunkRun(ctx, chunk, passes, opts, timer, dump_index)
        module = chunk_run.run()
        shown = chunk_run.diags
        if opts.verify_diagnostics:
            shown = expected_diagnostics.check(chunk, chunk_run.diags)
        for diag in shown:
            sys.stderr.write(diag.render() + "\n")
        failed |= bool(shown)
        if module is not None and emit_ir:
            t0 = time.perf_counter()
            buffer = io.StringIO()
            print_module(module, buffer, opts)
            printed.append(buffer.getvalue())
            timer.add("Output", time.perf_counter() - t0)

    if printed:
        body = "// -----\n".join(printed)
        if opts.output == "-":
            sys.stdout.write(body)
        else:
            try:
                Path(opts.output).write_text(body)
            except OSError as err:
                sys.stderr.write(f"perf-opt: error: cannot write '{opts.output}': {err.strerror}\n")
                return 1
    if opts.timing:
        sys.stderr.write(timer.report() + "\n")
    return 1 if failed else 0
