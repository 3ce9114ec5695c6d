"""`map-cpu`: each unit becomes a `perf.cpu_kernel` recording its cores, SIMD and matrix units, cache blocking.
The model is `targets.cpu_model`; this file only names the target and its default device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from passes import units as U
from passes.liveness import fresh_pages
from passes.map_target import MapPass


ALLOCATORS = ("glibc", "pinned")


@dataclass(frozen=True)
class MapCpuPass(MapPass):
    """Map units onto a CPU: cores, SIMD and matrix units, cache blocking."""

    name = "map-cpu"
    TARGET: ClassVar[str] = "cpu"
    device: str = field(default="host", metadata={"help": "a cpu from perf-opt --list-devices"})

    allocator: str = field(default="glibc", metadata={
        "help": "host allocator: glibc (PyTorch's default on Linux; its heap trims and its large "
                "blocks are mmapped, so outputs land on fresh pages) or pinned (freed memory is "
                "kept: glibc with M_MMAP_THRESHOLD and M_TRIM_THRESHOLD raised, as perf-validate "
                "--pin-allocator runs it)"})

    def __post_init__(self):
        super().__post_init__()
        if self.allocator not in ALLOCATORS:
            raise ValueError(f"unknown allocator '{self.allocator}'; valid allocators: "
                             f"{', '.join(ALLOCATORS)}")

    def fresh_pages(self, module: ModuleOp) -> dict[Operation, int]:
        if self.allocator == "pinned":  # nothing is returned to the OS, nothing re-faults
            return dict.fromkeys(U.units(module), 0)
        return fresh_pages(module)  # glibc trims and regrows its heap, mmaps large blocks
