"""Compare perf-opt's estimates with published measurements (targets/measurements/
published.toml) and print the error per row, per confidence class and overall (MAPE).

Each row is estimated in the configuration it was measured in: the same model, batch
(offline/server rows state none: they are estimated at OFFLINE_BATCH, where throughput
has saturated), precision, device and power mode; a TensorRT or torch.compile runtime is
the fused pipeline, PyTorch eager the unfused one.

    .venv/bin/python bench/validate_published.py [--ids ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEASUREMENTS = ROOT / "targets" / "measurements" / "published.toml"
OFFLINE_BATCH = 256  # MLPerf offline runs batches of 2048; ResNet-50 throughput saturates well before


def rows() -> list[dict]:
    with MEASUREMENTS.open("rb") as stream:
        return tomllib.load(stream)["measurement"]


@functools.lru_cache(maxsize=None)
def imported_text(model: str, batch: int, resolution: int) -> str:
    """The model's IR text (imported once per configuration)."""
    import io

    from xdsl.printer import Printer

    from compiler.importer import import_model
    from compiler.model_zoo import build

    shape = (batch, 3, resolution, resolution) if resolution != 224 else None
    module = import_model(build(model, batch, shape)).module
    stream = io.StringIO()
    Printer(stream=stream, print_debuginfo=True).print_op(module)
    return stream.getvalue()


def runtime_of(row: dict) -> str:
    software = row["software"].lower()
    return "eager" if "eager" in software else "compiled"


def pipeline_for(row: dict, device) -> str:
    stages = [] if runtime_of(row) == "eager" else ["fuse"]
    stages.append("annotate-deps")
    # Integer-only accelerators (the Edge TPU) run fully quantized models: everything in
    # the row's precision. Elsewhere normalizations and reductions stay wide (mixed).
    policy = "mixed" if device.supports("fp32") else "uniform"
    stages.append(f"assign-precision{{default={row['precision']} policy={policy}}}")
    mode = f" power-mode={row['power_mode']}" if row.get("power_mode") else ""
    # A deployed CPU runtime (the MLPerf rows: Intel's runner on oneDNN) packs its weights
    # once at load and fuses the element-wise tails into oneDNN's calls.
    if device.device_class == "cpu" and runtime_of(row) == "compiled":
        mode += " weights=prepacked"
    stages.append(f"map-{device.device_class}{{device={row['device']}{mode}}}")
    stages.append("cost")
    return ",".join(stages)


def estimate(row: dict) -> dict:
    from compiler.context import make_context
    from compiler.pipeline import build
    from compiler.source import SourceChunk, parse_chunk
    from passes.cost import module_value
    from targets.catalog import load_device

    batch = row.get("batch") or OFFLINE_BATCH
    pipeline = pipeline_for(row, load_device(row["device"], row.get("power_mode")))
    ctx = make_context()
    module = parse_chunk(ctx, SourceChunk("<bench>", imported_text(row["model"], batch, row.get("input_resolution", 224))))
    for p in build(pipeline):
        p.apply(ctx, module)
    latency = module_value(module, "perf.latency_s")
    value = latency if row["metric"] == "latency_s" else batch / latency
    return {"batch": batch, "pipeline": pipeline, "estimate": value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", nargs="*", help="only these row ids")
    parser.add_argument("--json", help="also write the table as JSON")
    args = parser.parse_args()
    results = []
    print(f"{'row':<44}{'dev':<16}{'b':>5}{'prec':>6}{'metric':>11}{'measured':>12}{'estimate':>12}{'error':>8}  conf")
    for row in rows():
        if args.ids and row["id"] not in args.ids:
            continue
        got = estimate(row)
        error = (got["estimate"] - row["value"]) / row["value"]
        results.append({**row, **got, "error": error})
        unit = "ms" if row["metric"] == "latency_s" else "/s"
        scale = 1e3 if row["metric"] == "latency_s" else 1.0
        print(f"{row['id'][:43]:<44}{row['device'][:15]:<16}{got['batch']:>5}{row['precision']:>6}"
              f"{row['metric'][:10]:>11}{row['value'] * scale:>10.3f}{unit}{got['estimate'] * scale:>10.3f}{unit}"
              f"{100 * error:>+7.0f}%  {row.get('confidence', '')}")
    for conf in ("high", "medium", "low", None):
        chosen = [r for r in results if conf is None or r.get("confidence") == conf]
        if chosen:
            mape = sum(abs(r["error"]) for r in chosen) / len(chosen)
            print(f"MAPE {conf or 'all'}: {100 * mape:.0f}% over {len(chosen)} rows")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
