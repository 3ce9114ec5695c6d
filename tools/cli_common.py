"""What perf-opt and perf-import share on the command line: exit status 1 with a
one-line message for bad arguments (argparse's default is status 2 and a usage dump),
and LLVM-style single-dash long options (`-split-input-file`)."""

from __future__ import annotations

import argparse
import sys

VERSION = "0.1.0"


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse's hook
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(1)


def llvm_style(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Accept `-long-option` as mlir-opt does, by rewriting it to `--long-option`."""
    longs = {s for a in parser._actions for s in a.option_strings if s.startswith("--")}
    out = []
    for arg in argv:
        name = arg.split("=", 1)[0]
        if arg.startswith("-") and not arg.startswith("--") and "-" + name in longs:
            arg = "-" + arg
        out.append(arg)
    return out
