"""`map-cpu`: each unit becomes a `perf.cpu_kernel` recording its cores, SIMD and matrix units, cache blocking.
The model is `targets.cpu_model`; this file only names the target and its default device."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Operation

from passes.liveness import FreshPages, Schedule, fresh_pages
from passes.map_target import MapPass
from targets import cpu_copies
from targets.catalog import Device


ALLOCATORS = ("glibc", "pinned")
WEIGHTS = ("per-call", "prepacked")
ALLOCATOR_ATTR, WEIGHTS_ATTR = "perf.allocator", "perf.weights"


@dataclass(frozen=True)
class MapCpuPass(MapPass):
    """Map units onto a CPU: cores, SIMD and matrix units, cache blocking."""

    name = "map-cpu"
    TARGET: ClassVar[str] = "cpu"
    device: str = field(default="host", metadata={"help": "a cpu from perf-opt --list-devices"})

    allocator: str = field(default="glibc", metadata={
        "help": "host allocator: glibc (PyTorch's default on Linux; its heap trims and its large "
                "blocks are mmapped, so outputs land on fresh pages) or pinned (glibc with "
                "M_MMAP_THRESHOLD at 32 MiB and M_TRIM_THRESHOLD at 1 GiB, as perf-validate "
                "--pin-allocator runs it: only blocks of 32 MiB and more are fresh each run)"})

    weights: str = field(default="per-call", metadata={
        "help": "per-call (PyTorch eager, torch.compile without freezing: the library gets plain "
                "weights and copies them into its layout on every call; a compiled graph also "
                "copies convolution weights channels-last and reads library results back for "
                "the ops after them) or prepacked (weights packed once ahead of the runs and "
                "element-wise tails fused into the library call: Inductor's freezing, IPEX, "
                "OpenVINO, Intel's MLPerf runner)"})

    def __post_init__(self):
        super().__post_init__()
        if self.allocator not in ALLOCATORS:
            raise ValueError(f"unknown allocator '{self.allocator}'; valid allocators: "
                             f"{', '.join(ALLOCATORS)}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"unknown weights '{self.weights}'; valid weights: {', '.join(WEIGHTS)}")

    def prepared(self, workload):
        return dataclasses.replace(workload, prepacked=self.weights == "prepacked")

    def apply(self, ctx, op) -> None:
        super().apply(ctx, op)
        # what a re-run of the mapping (cost-report's suggestions) must repeat
        op.attributes[ALLOCATOR_ATTR] = StringAttr(self.allocator)
        op.attributes[WEIGHTS_ATTR] = StringAttr(self.weights)

    def fresh_pages(self, plan: Schedule, plain_layout: bool, device: Device) -> dict[Operation, FreshPages]:
        # glibc trims and regrows its heap and mmaps large blocks; pinned, only the largest
        def native(conv, precision: str) -> bool:
            return not cpu_copies.runs_on_onednn(conv, precision, device)
        return fresh_pages(plan, pinned=self.allocator == "pinned", plain_layout=plain_layout,
                           native_conv=native, prepacked=self.weights == "prepacked")

    def run_bytes(self, workloads, plain_layout: bool, device: Device) -> int:
        """What the kernels read and write in one run, plus the copies a library makes per
        call: a compiled graph's channels-last weights, a oneDNN convolution's blocked
        weights and its activations' layout copies, a native one's columns (an AMX matmul's
        packed weights are left out)."""
        total = 0
        for w in workloads:
            w = dataclasses.replace(w, plain_layout=plain_layout)
            total += w.bytes_moved + sum(cpu_copies.per_call_copies(w, device, amx=False))
        return total
