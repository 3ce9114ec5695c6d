"""Eager convolutions of equal FLOPs and growing weights: measured time on this machine
next to map-cpu's estimate for `device=host` (optionally calibrated) and the share of it
that is the per-call weight reorder (targets/cpu_copies.py, REORDERED_CLASSES).

    .venv/bin/python bench/conv_weight_reorder.py
    .venv/bin/python bench/conv_weight_reorder.py --calibration targets/calibrations/ci-host-xeon-2core.json

Every row is a 3x3 'same' convolution with C -> C channels at HxW = 56*64/C, so the FLOPs
(2 * 56^2 * 64^2 * 9 = 231 MFLOP per sample) stay fixed while the weights grow 64-fold.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAPES = ((64, 56), (128, 28), (256, 14), (512, 7))


def measured_s(conv, x, repeats: int) -> float:
    import torch

    with torch.inference_mode():
        for _ in range(3):
            conv(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            conv(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def predicted(channels: int, hw: int, batch: int, precision: str, calibration: str | None):
    from targets import cpu_model, roofline
    from targets.calibration import load
    from targets.catalog import load_device
    from targets.precision import storage_bytes
    from targets.workload import Gemm, Workload

    device, cal = load_device("host"), load(calibration) if calibration else None
    if cal:
        device = cal.apply(device)
    m, k = batch * hw * hw, channels * 9
    w = Workload(name="conv2d", op_class="conv", precision=precision,
                 matrix_flops=2 * m * channels * k,
                 bytes_in=storage_bytes(batch * channels * hw * hw, precision),
                 bytes_weights=storage_bytes(channels * k, precision),
                 bytes_out=storage_bytes(batch * channels * hw * hw, precision),
                 output_elements=batch * channels * hw * hw, batch=batch, channels=channels,
                 spatial=hw * hw, gemms=(Gemm(m, channels, k),))
    mapping = cpu_model.map_workload(w, device, cal.fractions_for(w) if cal else None)
    return roofline.estimate(w, mapping, device).latency_s, mapping.details["weight_reorder_s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", help="calibration file for the estimate")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    import torch

    torch.set_grad_enabled(False)
    print(f"{'prec':5s} {'b':>2s} {'C':>4s} {'HxW':>5s} {'weights MB':>10s} {'measured us':>12s} "
          f"{'predicted us':>12s} {'of it reorder':>13s}")
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        for batch in args.batches:
            for channels, hw in SHAPES:
                conv = torch.nn.Conv2d(channels, channels, 3, 1, 1, bias=False).to(dtype).eval()
                x = torch.randn(batch, channels, hw, hw, dtype=dtype)
                t = measured_s(conv, x, args.repeats)
                try:
                    p, reorder = predicted(channels, hw, batch, name, args.calibration)
                    est = f"{p * 1e6:12.1f} {reorder * 1e6:13.1f}"
                except ValueError as err:   # precision the host does not compute
                    est = f"{'-':>12s} {'-':>13s}  ({err})"
                weights = conv.weight.numel() * conv.weight.element_size() / 1e6
                print(f"{name:5s} {batch:2d} {channels:4d} {hw:2d}x{hw:<2d} {weights:10.2f} "
                      f"{t * 1e6:12.1f} {est}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
