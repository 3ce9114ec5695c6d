"""What calling a torch.compile'd graph costs beyond its kernels, measured on this machine.

* compiled_call_overhead: a one-op module compiled, less the same module eager: Dynamo's
  frame evaluation and the compiled wrapper's entry, once per call.
* guard_check: Dynamo's guard check (the profiler's "TorchDynamo Cache Lookup") of a model
  with many parameters, per parameter. Dynamo guards each parameter tensor and the module
  attributes around it (about 20 guards per convolution + batch norm), every call: 20 us
  for the MLP's 6 parameters, 1.19 ms for EfficientNet-B0's 213 on the Zen 5 test VM
  (bench/dynamo_guards.py; targets/measurements/ci-host-zen5-2core/dynamo-guards-1638.json). Measured with Dynamo's eager backend: the guards are the same
  whatever compiles the graph, and Inductor would take a minute to compile the model.
"""

from __future__ import annotations

import statistics

from compiler.calibrate.timing import Timer
from targets.calibration import Spread

# The models whose guards calibrate the per-parameter cost (random weights): a CNN with
# batch norms, a depthwise one and a transformer. Each alone is within 25% of the fit over
# eleven zoo models (bench/dynamo_guards.py), together within 10%; tracing them takes ~15 s.
GUARD_MODELS = ("resnet18", "mobilenet_v2", "vit_b_16")
GUARD_RUNS, GUARD_CALLS = 7, 10
GUARD_EVENT = "TorchDynamo Cache Lookup"    # the profiler's name for Dynamo's guard check


def compiled_call_overhead(timer: Timer) -> tuple[dict | None, dict]:
    """(spread of seconds, raw timings) that calling a torch.compile'd graph adds to the same
    code run eagerly: a one-op module (x + 1 on 8 elements) compiled, less it eager. What
    remains is Dynamo's frame evaluation and guard check and the compiled wrapper's entry,
    paid once per call of a compiled model. None (with the reason) where torch.compile fails
    (Inductor needs a C++ compiler)."""
    import torch

    class AddOne(torch.nn.Module):
        def forward(self, x):
            return x + 1

    module, x = AddOne().eval(), torch.randn(8)
    try:
        compiled = torch.compile(module)
        with torch.inference_mode():
            compiled(x)
    except Exception as err:  # no toolchain, an unsupported platform: no figure
        return None, {"failed": _failure(err)}
    with torch.inference_mode():
        eager = timer.measure(lambda: module(x))
        graph = timer.measure(lambda: compiled(x))
    values = [max(0.0, tc - te) for tc, te in zip(sorted(graph.times), sorted(eager.times))]
    return Spread.of(values).as_dict(), {"compiled": graph.summary(), "eager": eager.summary(),
                                         "module": "x + 1 on 8 FP32 elements"}


def guard_check_seconds(module, inputs, runs: int = GUARD_RUNS) -> list[float]:
    """Seconds of Dynamo's guard check per call of `module` compiled with its eager backend:
    `runs` profiles of GUARD_CALLS calls in a row each, as a model serving requests calls
    it (the first call of a profile also pays the profiler's start: the MLP's check reads
    17 us alone, 10 us in a row; large models' the same either way), per call."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from compiler.quiet_stderr import without_kineto_chatter

    compiled = torch.compile(module, backend="eager")
    out = []
    with torch.inference_mode():
        for _ in range(3):
            compiled(*inputs)
        for _ in range(runs):
            with without_kineto_chatter(), profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(GUARD_CALLS):
                    compiled(*inputs)
            out.append(sum(e.cpu_time_total for e in prof.events()
                           if e.name == GUARD_EVENT) * 1e-6 / GUARD_CALLS)
    torch._dynamo.reset()
    return out


def per_parameter_fit(rows: list[dict]) -> float:
    """The seconds per parameter k minimising sum((k * p - t)^2) over rows of `parameters`
    p and `guard_check_s` t: k = sum(p t) / sum(p^2). Seconds, not relative error: the
    MLP's check (6 parameters, 6 us, 1 us each) would otherwise halve the figure of the
    models whose check takes a millisecond (3.3-4.3 us each)."""
    return (sum(r["parameters"] * r["guard_check_s"] for r in rows)
            / sum(r["parameters"] ** 2 for r in rows))


def guard_check(models: tuple[str, ...] = GUARD_MODELS) -> tuple[dict | None, dict]:
    """(spread of seconds per parameter, raw timings) of Dynamo's guard check: the fit over
    the zoo `models` (per_parameter_fit) as the median, each model's own figure as the
    range; None (with the reason) where Dynamo cannot trace them."""
    from compiler.model_zoo import build

    rows = []
    for model in models:
        built = build(model, 1)
        try:
            seconds = guard_check_seconds(built.module.eval(), built.inputs)
        except Exception as err:  # an unsupported platform or torch build: no figure
            return None, {"failed": _failure(err)}
        if not any(seconds):
            return None, {"failed": "the profiler recorded no guard check"}
        rows.append({"model": model, "parameters": sum(1 for _ in built.module.parameters()),
                     "guard_check_s": statistics.median(seconds)})
    own = [r["guard_check_s"] / r["parameters"] for r in rows]
    fitted = min(max(per_parameter_fit(rows), min(own)), max(own))   # rounding, one model
    return {"min": min(own), "median": fitted, "max": max(own)}, {
        "models": rows,
        "method": "torch.profiler's 'TorchDynamo Cache Lookup' of each model compiled with "
                  "backend='eager', per call of 10 in a row, median of 7 profiles; seconds "
                  "per parameter fitted over the models (least squares in seconds)"}


def _failure(err: Exception) -> str:
    first = str(err).splitlines()[0][:200] if str(err) else ""
    return f"{type(err).__name__}: {first}"
