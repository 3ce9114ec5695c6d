"""Trace the large allocations of one steady-state eager forward pass, per module: the
evidence for the allocator calls map-cpu's glibc simulation replays
(passes/liveness.allocator_calls).

Compiles bench/malloc_trace/shim.c (needs a C compiler) into build/malloc_trace/, reruns
itself with the shim preloaded, runs the zoo model three times untraced and traces the
fourth, marking each leaf module's start. Each line: `m BYTES ADDRESS` (malloc or
posix_memalign), `f BYTES ADDRESS` (its free), `# > module Type`; `heap` or `mmap` says
where glibc served the block (mmapped blocks lie far above the program break); `at` is
where the block lies and `break` the program break after the call, in MB from the lowest
traced heap block (glibc grows and trims its heap there), and `faults before it` the minor
page faults since the previous line: the pages the kernels that ran in between touched first.

    .venv/bin/python bench/malloc_trace.py resnet50 8 fp32
    .venv/bin/python bench/malloc_trace.py vit_b_16 8 bf16 --min-bytes 1048576
    .venv/bin/python bench/malloc_trace.py efficientnet_b0 8 bf16 --compile
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOURCE = ROOT / "bench" / "malloc_trace" / "shim.c"
LIBRARY = ROOT / "build" / "malloc_trace" / "shim.so"
MMAP_GAP = 1 << 40   # mmapped blocks sit terabytes above the heap on x86-64 Linux
PAGE = 4096          # bytes a minor fault maps (x86-64 base page; THP off for the heap)


def build_shim() -> None:
    if LIBRARY.exists() and LIBRARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return
    LIBRARY.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(LIBRARY), str(SOURCE), "-ldl"],
                   check=True)


def trace(model: str, batch: int, precision: str, compiled: bool = False) -> None:
    """Run the model (torch.compile'd with `compiled`: no module marks, its graph runs as
    one); the preloaded shim writes the trace where MALLOC_TRACE_OUT says."""
    import torch

    from compiler.model_zoo import build
    from compiler.validate import cast

    shim = ctypes.CDLL(str(LIBRARY))
    shim.malloc_trace_mark.restype = shim.malloc_trace_on.restype = None  # a hook returns None
    module, inputs = cast(build(model, batch), precision)
    for name, sub in module.named_modules():
        if not compiled and not list(sub.children()):  # a hook would break the compiled graph
            label = f"> {name} {type(sub).__name__}".encode()
            sub.register_forward_pre_hook(lambda *_, label=label: shim.malloc_trace_mark(label))
    run_model = torch.compile(module) if compiled else module
    with torch.inference_mode():
        for run in range(4):
            shim.malloc_trace_on(run == 3)
            run_model(*inputs)
    shim.malloc_trace_on(0)


def annotate(path: str) -> str:
    lines = Path(path).read_text().splitlines()
    heap = min((int(l.split()[2], 16) for l in lines if l.startswith("m ")), default=0)
    out = []
    for line in lines:
        if line[:1] in "mf":
            kind, nbytes, address, faults, brk = line.split()
            where = "mmap" if int(address, 16) - heap > MMAP_GAP else "heap"
            start = (int(address, 16) - heap) / 1e6
            at = f"at {start:8.3f}-{start + int(nbytes) / 1e6:8.3f}" if where == "heap" else " " * 20
            out.append(f"  {'alloc' if kind == 'm' else 'free '} {int(nbytes) / 1e6:9.3f} MB  {where} {at}"
                       f"  break {(int(brk, 16) - heap) / 1e6:8.3f}"
                       f"  faults before it {int(faults):6d} ({int(faults) * PAGE / 1e6:7.3f} MB)")
        else:
            out.append(line[2:])
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("batch", type=int)
    parser.add_argument("precision", choices=["fp32", "bf16"])
    parser.add_argument("--min-bytes", type=int, default=256 * 1024)
    parser.add_argument("--raw", help="also keep the raw trace in this file")
    parser.add_argument("--compile", action="store_true", help="trace the torch.compile'd model")
    args = parser.parse_args()
    suffix = "-compiled" if args.compile else ""
    raw = args.raw or str(LIBRARY.parent / f"{args.model}-b{args.batch}-{args.precision}{suffix}.log")
    if os.environ.get("MALLOC_TRACE_OUT") != raw:
        build_shim()
        env = dict(os.environ, LD_PRELOAD=str(LIBRARY), MALLOC_TRACE_OUT=raw,
                   MALLOC_TRACE_MIN=str(args.min_bytes))
        subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env, check=True)
        sys.stdout.write(annotate(raw))
        return 0
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    trace(args.model, args.batch, args.precision, args.compile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
