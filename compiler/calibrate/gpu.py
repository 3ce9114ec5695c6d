"""perf-calibrate on a CUDA GPU, the measuring half: time the GPU benchmarks per precision,
the device-memory copy rate and the host's cost of an eager op, and record them raw.

Why apart from the fit: a machine lent for a GPU session may have torch but not perf-opt's
other dependencies (the device machine has no xDSL), so this module needs torch only and
writes a measurements file; `perf-calibrate --gpu-measurements FILE` then turns it into a
calibration where perf-opt is installed (compiler/calibrate/gpu_fit.py: each benchmark's
Workload from the importer, its efficiency through targets/gpu_model.py).

How a kernel is timed: CUDA events around a burst of back-to-back calls, on the device's
own clock, so the time is what the GPU spent on the stream (for a tiny kernel that is the
rate the host can issue it at, which is what a model of such kernels pays too). A burst
lasts at least MIN_BURST_S; the median of the bursts is kept, with min and max.

Host costs, timed on the wall clock with the device idle at the start and synchronized at
the end of a long loop (the GPU runs each tiny kernel in far less than the host takes to
issue it, so the loop's time is the host's):
    eager_op_s   one-element nn.ReLU called as a module: what eager PyTorch pays per
                 kernel-launching op (Python module call, dispatcher, CUDA launch)
    view_op_s    a view (`x.view(-1)`): dispatch with no kernel
    sync_s       torch.cuda.synchronize() on an idle device

Run on the device machine: `python3 -m compiler.calibrate.gpu -o gpu-measurements.json`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from typing import Callable, Sequence

from compiler.calibrate.suite import (
    Bench, attention, batchnorm, binary, conv, dwconv, layernorm, linear, softmax, unary,
)
from targets.calibration import Spread, rates

SCHEMA = "perf-opt-gpu-measurements"
SCHEMA_VERSION = 1
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
MIN_BURST_S = 2e-3
HOST_LOOP_CALLS = 2000
COPY_BYTES = 1 << 30


def gpu_suite(preset: str = "full") -> list[Bench]:
    """GPU-sized benchmarks: the zoo's GEMM, convolution and attention shapes at batch 1,
    8 and 64 (a GPU is only busy at the larger ones), large square GEMMs for the tensor
    cores' ceiling, and element-wise and normalization ops from L2-sized to HBM-sized."""
    if preset == "tiny":  # tests: shapes a CPU runs in milliseconds
        return [linear(16, 32, 32), conv(8, 8, 8, 3), dwconv(8, 8), unary("relu", 1024)]
    out = [linear(s, s, s) for s in (512, 2048, 4096, 8192)]
    out += [linear(rows, 768, 3072) for rows in (197, 197 * 8, 197 * 64)]
    out += [linear(1, 2048, 1000), linear(64, 2048, 1000)]
    out += [conv(64, 64, 56, 3, batch=b) for b in (1, 8, 64)]
    out += [conv(256, 64, 56, 1, batch=64), conv(512, 512, 7, 3, batch=64),
            conv(3, 64, 224, 7, 2, batch=64), conv(3, 768, 224, 16, 16, batch=64)]
    out += [dwconv(144, 56, batch=8), dwconv(144, 56, batch=64), dwconv(960, 7, batch=64),
            dwconv(96, 56, 7, batch=64)]
    out += [attention(1, 12, 197, 64), attention(64, 12, 197, 64)]
    out += [unary("relu", n) for n in (1 << 20, 1 << 24, 1 << 26)] + [binary("add", 1 << 24)]
    out += [batchnorm(64, 56, batch=64), layernorm(197 * 64, 768), softmax(64 * 12 * 197, 197)]
    return out


def device_time(fn: Callable[[], object], repeats: int) -> dict:
    """Seconds per call of `fn` on the GPU's clock: the spread over `repeats` bursts."""
    import torch

    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    one = max(start.elapsed_time(end) / 1e3, 1e-7)
    calls = max(1, min(1000, int(MIN_BURST_S / one) + 1))
    samples = []
    for _ in range(repeats):
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / 1e3 / calls)
    return {**Spread.of(samples).as_dict(), "calls_per_burst": calls}


def host_time(fn: Callable[[], object], repeats: int, calls: int = HOST_LOOP_CALLS) -> dict:
    """Wall seconds per call of `fn` over loops of `calls`, the device synchronized at both ends."""
    import torch

    for _ in range(50):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        samples.append((time.perf_counter() - t0) / calls)
    return Spread.of(samples).as_dict()


def measure_bench(bench: Bench, precision: str, repeats: int) -> dict:
    import torch

    from compiler import validate_gpu
    from compiler.model_zoo import torch_dtype
    from compiler.validate_gpu import math_mode, storage_precision

    module, inputs = bench.build(torch_dtype(storage_precision(precision)))
    module = module.eval().to(validate_gpu.TORCH_DEVICE)
    inputs = tuple(x.to(validate_gpu.TORCH_DEVICE) for x in inputs)
    with math_mode(precision), torch.inference_mode():
        t = device_time(lambda: module(*inputs), repeats)
    del module, inputs
    return {"name": bench.name, "op_class": bench.op_class, "precision": precision,
            "params": bench.params, "time_s": t}


def host_costs(repeats: int) -> dict:
    import torch

    from compiler.validate_gpu import TORCH_DEVICE

    x = torch.ones(1, device=TORCH_DEVICE)
    relu = torch.nn.ReLU()
    with torch.inference_mode():
        eager = host_time(lambda: relu(x), repeats)
        view = host_time(lambda: x.view(-1), repeats)
    sync = host_time(torch.cuda.synchronize, repeats, calls=200)
    return {"eager_op_s": eager, "view_op_s": view, "sync_s": sync,
            "method": "wall time of a loop of calls on one-element tensors, device synchronized "
                      "at both ends"}


def copy_rate(repeats: int, copy_bytes: int = COPY_BYTES) -> dict:
    import torch

    from compiler.validate_gpu import TORCH_DEVICE

    src = torch.ones(copy_bytes, device=TORCH_DEVICE, dtype=torch.uint8)
    dst = torch.empty_like(src)
    t = device_time(lambda: dst.copy_(src), repeats)
    del src, dst
    return {"bytes": copy_bytes, "time_s": t,
            "bytes_per_s": rates(2 * copy_bytes, t),
            "method": f"device-to-device copy_ of {copy_bytes >> 20} MiB: read + write bytes "
                      "over the time"}


def measure(preset: str = "full", repeats: int = 5, precisions: Sequence[str] = PRECISIONS,
            log=sys.stderr, checkpoint: Callable[[dict], None] | None = None) -> dict:
    """The measurements document (SCHEMA) of CUDA device 0; `checkpoint` gets it after each
    precision (a time limit then keeps the precisions done)."""
    import torch

    from compiler.validate_gpu import GPU_CATALOG, identity, require_cuda

    name = require_cuda()
    started = time.monotonic()
    doc = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "gpu": identity(GPU_CATALOG.get(name)),
        "software": {"torch": torch.__version__, "cuda": torch.version.cuda,
                     "cudnn": torch.backends.cudnn.version(), "python": sys.version.split()[0]},
        "repeats": repeats, "host": host_costs(repeats),
        "copy": copy_rate(repeats, COPY_BYTES if preset == "full" else 1 << 20),
        "benchmarks": [],
    }
    benches = gpu_suite(preset)
    for precision in precisions:
        for bench in benches:
            try:
                doc["benchmarks"].append(measure_bench(bench, precision, repeats))
            except RuntimeError as err:  # an op a precision lacks on this GPU: recorded, not fatal
                doc["benchmarks"].append({"name": bench.name, "op_class": bench.op_class,
                                          "precision": precision, "params": bench.params,
                                          "error": str(err).splitlines()[0]})
            torch.cuda.empty_cache()
        doc["duration_s"] = round(time.monotonic() - started, 1)
        print(f"gpu calibration: {precision} done after {doc['duration_s']:.0f} s",
              file=log, flush=True)
        if checkpoint is not None:
            checkpoint(doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m compiler.calibrate.gpu",
                                description="Measure CUDA device 0 for a GPU calibration "
                                            "(fit it with perf-calibrate --gpu-measurements).")
    p.add_argument("-o", dest="output", default="-", help="output JSON (default: stdout)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    p.add_argument("--preset", choices=("full", "tiny"), default="full")
    args = p.parse_args(argv)
    from compiler.validate_gpu import GpuError

    def write(doc: dict) -> None:
        text = json.dumps(doc, indent=1) + "\n"
        if args.output == "-":
            sys.stdout.write(text)
        else:
            with open(args.output, "w") as stream:
                stream.write(text)

    try:
        doc = measure(args.preset, args.repeats, args.precisions,
                      checkpoint=write if args.output != "-" else None)
    except GpuError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
