"""Per-target tables: average utilization and efficiency of the mapping (resnet18,
mobilenet_v2, vit_b_16 at batch 1 and 64), and latency / energy / peak memory of five
models on one device of each class. Fused pipeline, each device's natural precision.

    .venv/bin/python bench/device_tables.py [--mapping-only | --cost-only]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEVICES = (("gpu", "h100-sxm5", "bf16"), ("tpu", "tpu-v4", "bf16"), ("kpu", "kpu-t256", "int8"),
           ("cpu", "xeon-8480plus", "bf16"))
MAPPING_MODELS = ("resnet18", "mobilenet_v2", "vit_b_16")
COST_MODELS = ("resnet18", "mobilenet_v2", "efficientnet_b0", "vit_b_16", "transformer_encoder")


@functools.lru_cache(maxsize=None)
def imported(model: str, batch: int):
    from compiler.importer import import_model
    from compiler.model_zoo import build

    return import_model(build(model, batch)).module


def costed(model: str, batch: int, target: str, device: str, precision: str):
    from compiler.context import make_context
    from compiler.pipeline import build

    module = imported(model, batch).clone()
    ctx = make_context()
    for p in build(f"fuse,annotate-deps,assign-precision{{default={precision} policy=mixed}},"
                   f"map-{target}{{device={device}}},cost"):
        p.apply(ctx, module)
    return module


def mapping_table() -> None:
    from passes.cost import module_value

    print("average utilization / efficiency (FLOP-weighted), fused, batch 1 and 64")
    print(f"{'device':<16}{'precision':<10}" + "".join(f"{m + ' b' + str(b):>22}" for m in MAPPING_MODELS for b in (1, 64)))
    for target, device, precision in DEVICES:
        cells = []
        for model in MAPPING_MODELS:
            for batch in (1, 64):
                m = costed(model, batch, target, device, precision)
                cells.append(f"{module_value(m, 'perf.utilization'):.0%} / {module_value(m, 'perf.efficiency'):.0%}")
        print(f"{device:<16}{precision:<10}" + "".join(f"{c:>22}" for c in cells))


def cost_table() -> None:
    from passes.cost import module_value

    print("\nlatency / energy per inference / peak memory, fused, batch 1")
    print(f"{'model':<21}" + "".join(f"{d:>34}" for _, d, _ in DEVICES))
    for model in COST_MODELS:
        cells = []
        for target, device, precision in DEVICES:
            m = costed(model, 1, target, device, precision)
            cells.append(f"{module_value(m, 'perf.latency_s') * 1e3:.3f} ms {module_value(m, 'perf.energy_j') * 1e3:.2f} mJ "
                         f"{module_value(m, 'perf.peak_memory_bytes') / 2**20:.1f} MiB")
        print(f"{model:<21}" + "".join(f"{c:>34}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mapping-only", action="store_true")
    parser.add_argument("--cost-only", action="store_true")
    args = parser.parse_args()
    if not args.cost_only:
        mapping_table()
    if not args.mapping_only:
        cost_table()


if __name__ == "__main__":
    main()
