"""A synthetic graph-dialect module of N ops, for scaling benchmarks.

Residual MLP blocks (linear -> relu -> linear -> add), the shape of real transformer
and ResNet bodies: a fork and a join every few ops, so passes that look at the DAG meet
realistic structure.
"""

from __future__ import annotations


def synthetic_module(n_ops: int, width: int = 256, batch: int = 8) -> str:
    t = f"tensor<{batch}x{width}xf32>"
    w = f"tensor<{width}x{width}xf32>"
    lines = [f'builtin.module attributes {{graph.model = "synthetic{n_ops}", graph.batch = {batch} : i64}} {{',
             f"  func.func @forward(%x: {t}) -> {t} {{",
             f'    %w = graph.weight "w" : {w} loc("w")']
    prev, emitted, i = "%x", 0, 0
    while emitted + 4 <= n_ops:
        lines += [
            f'    %l{i} = graph.linear {prev}, %w : {t} loc("linear_{i}")',
            f'    %r{i} = graph.relu %l{i} : {t} loc("relu_{i}")',
            f'    %m{i} = graph.linear %r{i}, %w : {t} loc("linear_b{i}")',
            f'    %a{i} = graph.add %m{i}, {prev} : {t} loc("add_{i}")',
        ]
        prev, emitted, i = f"%a{i}", emitted + 4, i + 1
    while emitted < n_ops:
        lines.append(f'    %e{emitted} = graph.relu {prev} : {t} loc("relu_tail{emitted}")')
        prev, emitted = f"%e{emitted}", emitted + 1
    lines += [f"    func.return {prev} : {t}", "  }", "}", ""]
    return "\n".join(lines)
