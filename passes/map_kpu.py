"""`map-kpu`: each unit becomes a `perf.kpu_kernel` recording its scratchpad tiles, iterations, load/compute/store overlap.
The model is `targets.kpu_model`; this file only names the target and its default device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from passes.map_target import MapPass


@dataclass(frozen=True)
class MapKpuPass(MapPass):
    """Map units onto a KPU: scratchpad tiles, iterations, load/compute/store overlap."""

    name = "map-kpu"
    TARGET: ClassVar[str] = "kpu"
    device: str = field(default="kpu-t256", metadata={"help": "a kpu from perf-opt --list-devices"})
