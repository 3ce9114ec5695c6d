"""Dynamo's guard check per call of a compiled zoo model, against its parameters and guards:
the evidence for the host's guard_check_per_parameter_s (targets/host.py) and for
charging it per parameter.

For each model (batch 1, FP32, random weights): torch.compile with Dynamo's eager backend
(the guards do not depend on the backend), the profiler's "TorchDynamo Cache Lookup" per
call (10 calls in a row per profile, median of 7 profiles after warm-up), the model's parameters, buffers and modules, and the
number of guards torch._dynamo.explain reports. Then the one figure per parameter that
minimises the squared error in seconds over the models, with each model's error.

    .venv/bin/python bench/dynamo_guards.py
    .venv/bin/python bench/dynamo_guards.py resnet18 mobilenet_v2 --json guards.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("mlp", "transformer_encoder", "resnet18", "resnet50", "mobilenet_v2",
          "efficientnet_b0", "convnext_tiny", "vit_b_16", "mobilenet_v3_small",
          "regnet_y_400mf", "densenet121")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=MODELS)
    parser.add_argument("--json", metavar="FILE", help="write the rows and the fit as JSON")
    args = parser.parse_args()
    import torch

    from compiler.calibrate.compiled_graph import guard_check_seconds, per_parameter_fit
    from compiler.calibrate.machine import identity, now, software
    from compiler.model_zoo import build
    from targets import host

    info = host.probe()
    torch.set_num_threads(info.logical_cpus)
    rows = []
    for name in args.models:
        built = build(name, 1)
        module = built.module.eval()
        seconds = statistics.median(guard_check_seconds(module, built.inputs))
        guards = len(torch._dynamo.explain(module)(*built.inputs).out_guards)
        torch._dynamo.reset()
        row = {"model": name, "guard_check_s": seconds,
               "parameters": sum(1 for _ in module.parameters()),
               "buffers": sum(1 for _ in module.buffers()),
               "modules": sum(1 for _ in module.modules()), "guards": guards}
        rows.append(row)
        print(f"{name:20s} {seconds * 1e6:8.1f} us  parameters {row['parameters']:4d}  buffers "
              f"{row['buffers']:4d}  modules {row['modules']:4d}  guards {guards:5d}  "
              f"{seconds / row['parameters'] * 1e6:5.2f} us/parameter", flush=True)
    k = per_parameter_fit(rows)
    errors = {r["model"]: k * r["parameters"] / r["guard_check_s"] - 1 for r in rows}
    mean_abs = statistics.fmean(abs(e) for e in errors.values())
    print(f"fit: {k * 1e6:.2f} us per parameter; error per model "
          + ", ".join(f"{m} {e * 100:+.0f}%" for m, e in errors.items())
          + f"; mean |error| {mean_abs * 100:.1f}%")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "date": now(), "machine": identity(info, info.logical_cpus), "software": software(),
            "command": "bench/dynamo_guards.py " + " ".join(sys.argv[1:]),
            "rows": rows, "per_parameter_s": k, "errors": errors, "mean_abs_error": mean_abs,
        }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
