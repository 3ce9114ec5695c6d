"""The xDSL context every tool uses: builtin, func and perf-opt's own dialects."""

from __future__ import annotations

from xdsl.context import Context


def make_context() -> Context:
    from xdsl.dialects.builtin import Builtin
    from xdsl.dialects.func import Func

    from dialects.graph import Graph
    from dialects.perf import Perf

    ctx = Context()
    for dialect in (Builtin, Func, Graph, Perf):
        ctx.load_dialect(dialect)
    return ctx
