"""Time a minimal call of each eager op class hot (called back to back) and right after a
copy that streams N bytes through the caches: what an op costs beyond its work when the op
before it evicted the code and data of Python, the dispatcher and the library.

Why: in a model the time between two ATen ops (torch.profiler) grows with the size of
the ops around it (2-core EPYC VM, batch 1: 38 us per op in MobileNetV2, 64 in
ConvNeXt-T, 106 in ViT-B/16), and an op called once per forward (a global average pool)
takes ~10x its hot-loop time. map-cpu charges each op the hot module-call dispatch that
perf-calibrate measures; this prints how far a cold call is from it. Not applied: charged
by the bytes streamed since the op kind last ran, it lengthened the EPYC VM's estimates by 1-10%
(batch-1 rows closer to the measurement, batch-8 rows and EfficientNet-B0 further), no MAPE
gain (targets/measurements/README.md).

    .venv/bin/python bench/cold_calls.py [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIB = 2 ** 20


def calls():
    """(label, callable) of a minimal call per op class, through nn.Module as in a model."""
    import torch
    from torch import nn

    image, rows = torch.randn(1, 16, 4, 4), torch.randn(4, 64)
    modules = (("relu", nn.ReLU(), image), ("batch_norm", nn.BatchNorm2d(16), image),
               ("conv 1x1", nn.Conv2d(16, 16, 1), image),
               ("dw conv 3x3", nn.Conv2d(16, 16, 3, padding=1, groups=16), image),
               ("linear", nn.Linear(64, 64), rows), ("layer_norm", nn.LayerNorm(64), rows),
               ("gelu", nn.GELU(), rows), ("avg_pool", nn.AdaptiveAvgPool2d(1), image))
    out = [(name, (lambda m=m.eval(), x=x: m(x))) for name, m, x in modules]
    return out + [("add (no module)", lambda: image + image)]


def median_us(fn, before=None, n: int = 150) -> float:
    times = []
    for _ in range(n):
        if before is not None:
            before()
        start = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e3


def main() -> None:
    import torch

    from targets.host import probe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    info = probe()
    torch.set_num_threads(args.threads or info.logical_cpus)
    llc = max((c.size_bytes * (c.instances if c.sharing_cpus > 1 else 1) for c in info.caches),
              default=32 * MIB)
    print(f"{info.model_name}, {torch.get_num_threads()} threads, last-level cache "
          f"{llc / MIB:.0f} MiB; minimal call, median us; 'after N MiB': right after a copy "
          "that read and wrote N MiB")
    streamed = [0, 4, llc // 2 // MIB, llc // MIB, 2 * llc // MIB, 4 * llc // MIB]
    table = calls()
    print(f"{'':>16}" + "".join(f"{name:>16}" for name, _ in table))
    with torch.inference_mode():
        for mib in sorted(set(streamed)):
            evict = None
            if mib:
                src = torch.randn(mib * MIB // 8)  # read half, write half of the streamed bytes
                dst = torch.empty_like(src)
                evict = lambda: dst.copy_(src)  # noqa: E731
            row = []
            for _, fn in table:
                for _ in range(20):
                    fn()
                row.append(median_us(fn, evict))
            label = "hot" if not mib else f"after {mib} MiB"
            print(f"{label:>16}" + "".join(f"{us:16.1f}" for us in row))


if __name__ == "__main__":
    main()
