"""Concrete suggestions for a costed model, each with the figure it would change.

Where a change can be tried, it is: the model is copied, the change applied (a lower
precision, fusion), and the same map and cost passes run again, so the figure quoted is
perf-opt's own estimate, not a rule of thumb. Where it cannot be tried on this IR (a
larger batch needs a re-import), the figure is a stated upper bound.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from dialects.perf import KernelOp
from passes import units as U
from passes.assign_precision import AssignPrecisionPass
from passes.cost import CostPass, module_value
from passes.fuse import FUSED_ATTR, FusePass
from passes.map_cpu import ALLOCATOR_ATTR, WEIGHTS_ATTR, MapCpuPass
from passes.map_gpu import MapGpuPass
from passes.map_kpu import MapKpuPass
from passes.map_tpu import MapTpuPass
from passes.outline import inline
from passes.map_target import CALIBRATION_ATTR, CLOCK_ATTR, mapped_device

MAP_PASSES = {"gpu": MapGpuPass, "tpu": MapTpuPass, "kpu": MapKpuPass, "cpu": MapCpuPass}
# What a kernel's fixed overhead is on each target, and what amortizes it: a GPU can replay a
# captured graph of launches; on a CPU the overhead is mostly eager PyTorch's dispatch,
# layout reorders and fresh pages (map-cpu), which a compiled graph (channels-last, fused)
# and a pinned allocator avoid; elsewhere only fewer, larger kernels help.
OVERHEAD_WORDING = {
    "gpu": ("launch overhead", "launches", "fusion, CUDA graphs or a larger batch amortize it"),
    "cpu": ("per-call overhead", "dispatch, layout reorders and first touch of fresh pages",
            "torch.compile (fused, channels-last), a pinned allocator or a larger batch "
            "amortize it"),
}
# A compiled graph is already channels-last and fused; what it still pays per call on a CPU
# is copying and reordering convolution weights and reading library results back, which
# Inductor's freezing removes (it prepacks the weights once and folds the batch norms and
# activations into oneDNN's post-ops: torch/_inductor/fx_passes/mkldnn_fusion.py).
# With its weights prepacked (map-cpu{weights=prepacked}) only dispatch and fresh pages remain.
COMPILED_CPU_OVERHEAD_WORDING = {
    "per-call": ("per-call overhead",
                 "dispatch, weight copies and reorders and first touch of fresh pages",
                 "torch._inductor.config.freezing = True (weights prepacked once), a pinned "
                 "allocator or a larger batch amortize it"),
    "prepacked": ("per-call overhead", "dispatch and first touch of fresh pages",
                  "a pinned allocator or a larger batch amortize it"),
}
DEFAULT_OVERHEAD_WORDING = ("launch overhead", "launches", "fusion or a larger batch amortizes it")
LOW_PRECISIONS = ("bf16", "fp16", "int8")


def _is_fused(module: ModuleOp) -> bool:
    return FUSED_ATTR in module.attributes


def overhead_wording(module: ModuleOp) -> tuple[str, str, str]:
    """(what a kernel's fixed overhead is called, what it is made of, what amortizes it) for
    the mapped module: a compiled CPU graph's depends on whether its weights are prepacked."""
    target = module_value(module, "perf.target")
    if target == "cpu" and _is_fused(module):
        return COMPILED_CPU_OVERHEAD_WORDING[module_value(module, WEIGHTS_ATTR)]
    return OVERHEAD_WORDING.get(target, DEFAULT_OVERHEAD_WORDING)


def rerun(module: ModuleOp, *, precision: str | None = None, fuse: bool = False,
          weights: str | None = None) -> float:
    """Latency of the model after re-mapping it with one change."""
    copy = module.clone()
    for unit in list(U.units(copy)):
        if isinstance(unit, KernelOp):
            inline(unit)
    ctx = Context()
    if fuse or _is_fused(module):  # a fused model is re-fused (default fuse options)
        FusePass().apply(ctx, copy)
    if precision:
        AssignPrecisionPass(default=precision, policy="mixed").apply(ctx, copy)
    target = module_value(module, "perf.target")
    options = {}
    if target == "cpu":  # the host's allocator and weight packing, as the mapping had them
        options = {key: value for key, attr in (("allocator", ALLOCATOR_ATTR), ("weights", WEIGHTS_ATTR))
                   if (value := module_value(module, attr)) is not None}
        if weights:
            options["weights"] = weights
    mapper = MAP_PASSES[target](device=module_value(module, "perf.device"),
                                power_mode=module_value(module, "perf.power_mode"),
                                calibration=module_value(module, CALIBRATION_ATTR),
                                clock_ghz=clock / 1e9 if (clock := module_value(module, CLOCK_ATTR)) else None,
                                **options)
    mapper.apply(ctx, copy)
    CostPass().apply(ctx, copy)
    return module_value(copy, "perf.latency_s")


def suggest(module: ModuleOp, report: dict) -> list[dict]:
    found: list[dict] = []
    latency = report["latency_s"]
    device = mapped_device(module)

    if not _is_fused(module):
        fused = rerun(module, fuse=True)
        if fused < latency:
            found.append(_change("fusion", f"fuse the graph (a compiled runtime): {len(report['subgraphs'])} "
                                           f"kernels become fewer, intermediates stay on chip",
                                 latency, fused))
    if (report["target"] == "cpu" and _is_fused(module)
            and module_value(module, WEIGHTS_ATTR) == "per-call"):
        frozen = rerun(module, weights="prepacked")
        if frozen < latency:
            found.append(_change("weights", "freeze the compiled graph (torch._inductor.config."
                                            "freezing = True): weights prepacked once, element-wise "
                                            "tails fused into the library calls", latency, frozen))
    if report["precision"] in ("fp32", "tf32", "fp64"):
        for low in LOW_PRECISIONS:
            if device.supports(low) and device.precision_status(low) == "native":
                faster = rerun(module, precision=low)
                if faster < latency:
                    found.append(_change("precision", f"run matmuls and convolutions in {low} (mixed policy: "
                                                      f"normalizations and reductions stay fp32)", latency, faster))
                break
    utilization = report["utilization"] or 0.0
    if 0 < utilization < 0.5:
        bound = min(int(1 / utilization), 64)
        found.append({"kind": "batch", "text": (
            f"kernels keep on average {utilization:.0%} of the compute units busy: a batch up to "
            f"{bound}x larger could run in about the same time (upper bound {report['throughput_per_s'] * bound:,.0f} "
            f"samples/s vs {report['throughput_per_s']:,.0f})"), "metric": "throughput_per_s",
            "before": report["throughput_per_s"], "after": report["throughput_per_s"] * bound})
    overhead = report["time_by_bottleneck_s"]["overhead"] or 0.0
    kernel_time = report["serial_latency_s"] or latency
    if kernel_time and overhead / kernel_time > 0.3:
        launches = sum(e["overhead_s"] for e in report["subgraphs"])
        # Eager on a GPU the host's issue overlaps the kernels: without it they run back to back.
        bare = (kernel_time if report.get("host_issue_s") is not None else latency) - launches
        what, of, remedy = overhead_wording(module)
        found.append({"kind": "overhead", "text": (
            f"{overhead / kernel_time:.0%} of the kernel time is in kernels dominated by {what} "
            f"({launches * 1e6:.0f} us of {of}): {remedy}; "
            f"without it the latency would be about {bare * 1e3:.3f} ms"),
            "metric": "latency_s", "before": latency, "after": max(bare, 0.0)})
    if report["fits"] is False:
        found.append({"kind": "memory", "text": (
            f"the model needs {report['peak_memory_bytes'] / 2**30:.2f} GiB but {report['device']} has "
            f"{report['memory_capacity_bytes'] / 2**30:.2f} GiB: int8 weights need a quarter of fp32's"),
            "metric": "peak_memory_bytes", "before": report["peak_memory_bytes"],
            "after": report["memory_breakdown_bytes"]["weights"] / 4 + report["memory_breakdown_bytes"]["activations"]})
    return found


def _change(kind: str, text: str, before: float, after: float) -> dict:
    return {"kind": kind, "text": f"{text}: latency {before * 1e3:.3f} ms -> {after * 1e3:.3f} ms "
                                  f"({(after - before) / before:+.0%})",
            "metric": "latency_s", "before": before, "after": after}
