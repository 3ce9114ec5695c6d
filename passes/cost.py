"""`cost`: time, bottleneck and energy for every mapped kernel, then the model's latency
by schedule and its memory footprint.

Per kernel (`targets.roofline`): compute time is work over the peak of the unit it maps
to at its precision, scaled by the mapping's efficiency; memory time is traffic over the
bandwidth of the level its data lives in; latency = max(compute, memory) + overhead.

End to end, stages run in order. In a compiled runtime (the pipeline fused) kernels of
one stage run concurrently when their units fit the device together, so the latency is
never below the critical path and never more than the sum; an eager runtime (no `fuse`)
launches one kernel at a time on one stream, as PyTorch eager does, and also pays the
framework's dispatch for each view op (a compiled graph folds views into indexing). Energy = dynamic
compute + data movement per kernel + static power over the end-to-end latency.

Eager code on a GPU issues kernels asynchronously: the host spends dispatch + launch on
kernel i and moves on to kernel i+1 while the GPU runs the queue in order, so kernel i
starts when it has been issued and kernel i-1 has finished:

    host_i = host_{i-1} + dispatch + launch        device_i = max(device_{i-1}, host_i) + t_i

and the latency is device_n. Small kernels leave the GPU waiting for the host (latency =
the host's issue time), large ones hide the host behind the GPU (latency = the kernels'
sum); the figures are the calibration's when map-gpu had one (host time of an eager op).

A device that runs the whole model as one compiled program (a TPU's XLA program step, the
Edge TPU delegate's invoke; its `program_launch_s`) is started and waited for once per
inference: program_launch_s + sync_s is added to the latency once, and each kernel pays
only what it adds inside the program (launch_s, 0 where the program sequences its layers
on chip). Calling a torch.compile'd graph (the compiled runtime) costs its device's
`compiled_call_s` once per inference likewise (Dynamo's frame evaluation and the wrapper's
entry), and Dynamo's guard check: `guard_check_per_parameter_s` times the model's
parameters (units.parameters).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from dialects.perf import KernelOp
from passes import units as U
from passes import work as W
from passes.annotate_deps import build_dag
from passes.diagnostic import DiagnosticError
from passes.fuse import FUSED_ATTR
from passes.liveness import footprint
from passes.map_target import DEVICE_ATTR, attribute_value, mapped_device, mapping_of, to_attribute
from targets import roofline
from targets.mapping_common import (
    compiled_call_overhead_s, guard_check_s, host_issue_s, launches_asynchronously,
    program_overhead_s,
)
from targets.workload import Workload

RUNTIMES = ("auto", "eager", "compiled")


@dataclass(frozen=True)
class KernelCost:
    kernel: KernelOp
    workload: Workload
    stage: int
    units_used: int
    estimate: roofline.Estimate


def schedule_latency(costs: list[KernelCost], units_total: int, concurrent: bool) -> float:
    """Sum over stages of the time each stage takes. Concurrent: first-fit packing of a
    stage's kernels into rounds whose units fit the device; a round lasts as long as its
    slowest kernel. Serial: every kernel after the other."""
    if not concurrent:
        return sum(c.estimate.latency_s for c in costs)
    by_stage: dict[int, list[KernelCost]] = defaultdict(list)
    for c in costs:
        by_stage[c.stage].append(c)
    total = 0.0
    for stage_costs in by_stage.values():
        rounds: list[list[KernelCost]] = []
        for c in sorted(stage_costs, key=lambda c: -c.estimate.latency_s):
            for r in rounds:
                if sum(x.units_used for x in r) + c.units_used <= units_total:
                    r.append(c)
                    break
            else:
                rounds.append([c])
        total += sum(max(x.estimate.latency_s for x in r) for r in rounds)
    return total


def issue_pipelined_latency(costs: list[KernelCost], issue_s: list[float]) -> tuple[float, float]:
    """(latency, host time) of kernels issued in order by a host that spends issue_s[i] on
    kernel i and does not wait, to a device that runs them in order (module docstring)."""
    host = device = 0.0
    for c, issue in zip(costs, issue_s):
        host += issue
        device = max(device, host) + c.estimate.latency_s - c.estimate.overhead_s
    return device, host


def stages_of(kernels: list[KernelOp]) -> dict[Operation, int]:
    """annotate-deps' stages when it ran, else the same levels computed here."""
    if all("stage" in k.attributes for k in kernels):
        return {k: k.attributes["stage"].value.data for k in kernels}
    dag = build_dag(kernels)
    stage: dict[Operation, int] = {}
    for k in kernels:
        stage[k] = 1 + max((stage[p] for p in dag.predecessors(k)), default=-1)
    return stage


@dataclass(frozen=True)
class CostPass(ModulePass):
    """Per-kernel compute/memory/overhead time, bottleneck and energy; latency by schedule."""

    name = "cost"

    runtime: str = field(default="auto", metadata={
        "help": "eager (one kernel at a time) | compiled (concurrent within a stage) | auto (compiled if fused)"})

    def __post_init__(self):
        if self.runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime '{self.runtime}'; valid runtimes: {', '.join(RUNTIMES)}")

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        unit_ops = list(U.units(op))
        unmapped = [u for u in unit_ops if not isinstance(u, KernelOp)]
        if unmapped or DEVICE_ATTR not in op.attributes:
            raise DiagnosticError("cost needs mapped kernels: run map-gpu, map-tpu, map-kpu or map-cpu "
                                  "before cost", unmapped[0] if unmapped else op)
        device = mapped_device(op)
        stage = stages_of(unit_ops)
        costs = []
        for kernel in unit_ops:
            mapping = mapping_of(kernel)
            workload = U.workload(kernel)
            estimate = roofline.estimate(workload, mapping, device)
            kernel.attributes.update(estimate_attributes(estimate))
            costs.append(KernelCost(kernel, workload, stage[kernel], mapping.units_used, estimate))

        runtime = self.runtime
        if runtime == "auto":
            runtime = "compiled" if FUSED_ATTR in op.attributes else "eager"
        units_total = max((mapping_of(k).units_total for k in unit_ops), default=1)
        latency = schedule_latency(costs, units_total, runtime == "compiled")
        host = None
        if runtime == "eager":
            # Eager PyTorch dispatches every op, views included, from the host one after
            # the other; a compiled graph folds views into its kernels' indexing.
            dispatch = device.overheads.framework_dispatch_s
            views = sum(1 for inner in op.walk() if W.is_view(inner))
            view_s = views * (float(dispatch.value) if dispatch is not None else 0.0)
            if launches_asynchronously(device) and costs:
                # views interleave with the kernels; spread evenly over their issue
                latency, host = issue_pipelined_latency(costs, [
                    host_issue_s(device, c.estimate.overhead_s, eager=True) + view_s / len(costs)
                    for c in costs])
            else:
                latency += view_s
        # A device that runs the model as one program is started once and waited for once.
        program = program_overhead_s(device)
        # Calling a torch.compile'd graph enters its wrapper and checks its guards, once.
        graph_call = compiled_call_overhead_s(device, runtime)
        guards = guard_check_s(device, runtime, U.parameters(op))
        latency += program + graph_call + guards
        self.annotate_module(op, device, costs, latency, runtime)
        if host is not None:
            op.attributes["perf.host_issue_s"] = to_attribute(host)
        if program:
            op.attributes["perf.program_overhead_s"] = to_attribute(program)
        if graph_call:
            op.attributes["perf.compiled_call_s"] = to_attribute(graph_call)
        if guards:
            op.attributes["perf.guard_check_s"] = to_attribute(guards)

    def annotate_module(self, op: ModuleOp, device, costs: list[KernelCost], latency: float, runtime: str):
        memory = footprint(op)
        capacity = device.total_capacity_bytes(device.outermost_memory)
        static_j = float(device.energy.idle_w.value) * latency
        compute_j = sum(c.estimate.compute_energy_j for c in costs)
        memory_j = sum(c.estimate.memory_energy_j for c in costs)
        split = defaultdict(float)
        for c in costs:
            split[c.estimate.bottleneck] += c.estimate.latency_s
        values = {
            "perf.runtime": runtime, "perf.latency_s": latency,
            "perf.serial_latency_s": sum(c.estimate.latency_s for c in costs),
            "perf.energy_j": compute_j + memory_j + static_j, "perf.energy_compute_j": compute_j,
            "perf.energy_memory_j": memory_j, "perf.energy_static_j": static_j,
            "perf.flops": sum(c.workload.flops for c in costs),
            "perf.bytes_moved": sum(c.workload.bytes_moved for c in costs),
            "perf.weights_bytes": memory.weights, "perf.peak_activation_bytes": memory.peak_activations,
            "perf.workspace_bytes": memory.workspace, "perf.peak_memory_bytes": memory.total,
            "perf.memory_capacity_bytes": int(capacity), "perf.fits": memory.total <= capacity,
            "perf.time_compute_s": split["compute"], "perf.time_memory_s": split["memory"],
            "perf.time_overhead_s": split["overhead"],
        }
        op.attributes.update({k: to_attribute(v) for k, v in values.items()})


def estimate_attributes(estimate: roofline.Estimate) -> dict:
    return {
        "compute_s": to_attribute(estimate.compute_time_s), "memory_s": to_attribute(estimate.memory_time_s),
        "overhead_s": to_attribute(estimate.overhead_s), "latency_s": to_attribute(estimate.latency_s),
        "bottleneck": StringAttr(estimate.bottleneck),
        "achieved_flops_per_s": to_attribute(estimate.achieved_flops_per_s),
        "energy_j": to_attribute(estimate.energy_j), "energy_compute_j": to_attribute(estimate.compute_energy_j),
        "energy_memory_j": to_attribute(estimate.memory_energy_j), "energy_static_j": to_attribute(estimate.static_energy_j),
        # The roofline this kernel sits on: its unit's peak at its precision and its level's bandwidth.
        "peak_flops_per_s": to_attribute(estimate.matrix_peak_flops_per_s if estimate.matrix_time_s > 0
                                         else estimate.vector_peak_flops_per_s),
        "bandwidth_bytes_per_s": to_attribute(estimate.bandwidth_bytes_per_s),
    }


def module_value(op: ModuleOp, key: str, default=None):
    """A module attribute's value (map_target.attribute_value)."""
    return attribute_value(op, key, default)

