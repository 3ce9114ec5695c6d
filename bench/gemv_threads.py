"""Time matrix-vector and small matrix products (nn.functional.linear) on 1 and 2 threads:
the evidence for map-cpu's thread grains (targets/cpu_model.GEMV_GRAIN_MACS and
GEMM_GRAIN_MACS). PyTorch's x86 wheels call oneMKL for these, which splits a GEMV across
threads far earlier than a GEMM.

    .venv/bin/python bench/gemv_threads.py
"""

from __future__ import annotations

import time

SHAPES = ((1, 128, 128), (1, 256, 128), (1, 256, 256), (1, 512, 256), (1, 512, 512),
          (1, 784, 512), (1, 1024, 512), (4, 256, 256), (16, 256, 256), (64, 64, 64),
          (32, 256, 256), (128, 128, 128))


def median_us(fn, n: int = 1500) -> float:
    for _ in range(n // 10):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[n // 2] * 1e6


def main() -> None:
    import torch

    blas = next((line.split("BLAS_INFO=")[1].split(",")[0] for line in
                 torch.__config__.show().splitlines() if "BLAS_INFO=" in line), "?")
    print(f"torch {torch.__version__}, BLAS {blas}")
    print(f"{'m x k -> n':>16} {'MACs':>9} {'1 thread us':>12} {'2 threads us':>13} {'speedup':>8}")
    with torch.inference_mode():
        for m, k, n in SHAPES:
            w, x, b = torch.randn(n, k), torch.randn(m, k), torch.randn(n)
            t = []
            for threads in (1, 2):
                torch.set_num_threads(threads)
                t.append(median_us(lambda: torch.nn.functional.linear(x, w, b)))
            print(f"{f'{m}x{k}->{n}':>16} {m * k * n:>9} {t[0]:>12.2f} {t[1]:>13.2f} {t[0] / t[1]:>8.2f}")


if __name__ == "__main__":
    main()
