"""`map-gpu`: each unit becomes a `perf.gpu_kernel` recording its SMs, warps, blocks, waves, occupancy, tensor cores.
The model is `targets.gpu_model`; this file only names the target and its default device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from passes.map_target import MapPass


@dataclass(frozen=True)
class MapGpuPass(MapPass):
    """Map units onto a GPU: SMs, warps, blocks, waves, occupancy, tensor cores."""

    name = "map-gpu"
    TARGET: ClassVar[str] = "gpu"
    device: str = field(default="h100-sxm5", metadata={"help": "a gpu from perf-opt --list-devices"})
