"""`map-cpu`: each unit becomes a `perf.cpu_kernel` recording its cores, SIMD and matrix units, cache blocking.
The model is `targets.cpu_model`; this file only names the target and its default device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from passes.map_target import MapPass


@dataclass(frozen=True)
class MapCpuPass(MapPass):
    """Map units onto a CPU: cores, SIMD and matrix units, cache blocking."""

    name = "map-cpu"
    TARGET: ClassVar[str] = "cpu"
    device: str = field(default="host", metadata={"help": "a cpu from perf-opt --list-devices"})
