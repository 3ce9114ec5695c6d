"""Benchmark: import time per zoo model, and perf-opt's parse / verify / print times
(in process, as the driver runs them), plus a synthetic graph at several sizes to show
that time grows linearly in ops. Prints tables; asserts nothing.

    make bench            # or: .venv/bin/python bench/import_and_parse.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_graph import synthetic_module  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def driver_phases(text: str, pipeline: str = "") -> dict[str, float]:
    """Parse, verify, run `pipeline`, print: the driver's own steps, timed separately."""
    from xdsl.printer import Printer

    from compiler import diagnostics
    from compiler.context import make_context
    from compiler.pipeline import build
    from compiler.source import SourceChunk, parse_chunk

    ctx = make_context()
    chunk = SourceChunk("<bench>", text)
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    module = parse_chunk(ctx, chunk)
    phases["parse"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert not diagnostics.verify(module, chunk)
    phases["verify"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in build(pipeline):
        p.apply(ctx, module)
    phases["pipeline"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    Printer(stream=io.StringIO()).print_op(module)
    phases["print"] = time.perf_counter() - t0
    return phases


def version_wall_time() -> float:
    exe = Path(sys.executable).parent / "perf-opt"
    cmd = [str(exe), "--version"] if exe.exists() else [sys.executable, "-m", "tools.perf_opt", "--version"]
    return best_of(lambda: subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True), 5)


def zoo_table(models) -> None:
    from xdsl.printer import Printer

    from compiler.importer import import_model
    from compiler.model_zoo import build

    print(f"{'model':<22}{'ops':>6}{'generic':>9}{'import s':>10}{'parse s':>9}{'verify s':>10}{'print s':>9}{'p+v+p s':>9}")
    for name in models:
        result = import_model(build(name))
        buffer = io.StringIO()
        Printer(stream=buffer, print_debuginfo=True).print_op(result.module)
        ph = min((driver_phases(buffer.getvalue()) for _ in range(3)), key=lambda p: sum(p.values()))
        total = ph["parse"] + ph["verify"] + ph["print"]
        print(f"{name:<22}{result.op_count:>6}{sum(result.generic_ops.values()):>9}"
              f"{result.total_seconds:>10.2f}{ph['parse']:>9.3f}{ph['verify']:>10.3f}{ph['print']:>9.3f}{total:>9.3f}")


def synthetic_table(sizes, pipeline: str) -> None:
    print(f"\nsynthetic graph, no-op pipeline '{pipeline}'")
    print(f"{'ops':>7}{'parse s':>9}{'verify s':>10}{'pipeline s':>12}{'print s':>9}{'total s':>9}{'us/op':>8}")
    for n in sizes:
        ph = driver_phases(synthetic_module(n), pipeline)
        total = sum(ph.values())
        print(f"{n:>7}{ph['parse']:>9.3f}{ph['verify']:>10.3f}{ph['pipeline']:>12.3f}{ph['print']:>9.3f}"
              f"{total:>9.3f}{1e6 * total / n:>8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three models and two sizes")
    parser.add_argument("--models", nargs="*", help="zoo models (default: the whole zoo)")
    args = parser.parse_args()
    from compiler.model_zoo import ZOO

    print(f"perf-opt --version wall time: {version_wall_time():.3f} s (best of 5)\n")
    models = args.models or (["resnet18", "resnet50", "vit_b_16"] if args.quick else list(ZOO))
    zoo_table(models)
    sizes = [2500, 10000] if args.quick else [2500, 5000, 10000, 20000]
    synthetic_table(sizes, "builtin.module()")


if __name__ == "__main__":
    main()
