"""Benchmark: the full pipeline (fuse, annotate-deps, assign-precision, map-gpu, cost,
cost-report) through perf-opt's driver, on resnet50's IR and on synthetic graphs of
2.5k-10k ops, with and without verification after each pass. Prints a table; asserts
nothing. Time per op should stay flat as the graph grows (no pass is quadratic).

    .venv/bin/python bench/pipeline_speed.py
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_graph import synthetic_module  # noqa: E402

PIPELINE = "fuse,annotate-deps,assign-precision,map-gpu,cost,cost-report{suggest=false}"


def run_driver(path: str, verify_each: bool) -> float:
    from compiler.driver import OptOptions, run

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = run(OptOptions(input=path, pipeline=PIPELINE, verify_each=verify_each))
    assert status == 0
    return time.perf_counter() - t0


def main() -> None:
    cases = [("resnet50", str(ROOT / "examples" / "resnet50.mlir"), 175)]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (2500, 5000, 10000):
            path = Path(tmp) / f"synthetic{n}.mlir"
            path.write_text(synthetic_module(n))
            cases.append((f"synthetic {n}", str(path), n))
        print(f"{'graph':<18}{'ops':>7}{'verify-each s':>15}{'no verify s':>13}{'us/op':>8}")
        for name, path, ops in cases:
            with_verify = min(run_driver(path, True) for _ in range(2))
            without = min(run_driver(path, False) for _ in range(2))
            print(f"{name:<18}{ops:>7}{with_verify:>15.2f}{without:>13.2f}{1e6 * with_verify / ops:>8.0f}")


if __name__ == "__main__":
    main()
