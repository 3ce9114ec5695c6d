"""`map-tpu`: each unit becomes a `perf.tpu_kernel` recording its systolic-array tiles, padding, weight-stationary passes.
The model is `targets.tpu_model`; this file only names the target and its default device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from passes.map_target import MapPass


@dataclass(frozen=True)
class MapTpuPass(MapPass):
    """Map units onto a TPU: systolic-array tiles, padding, weight-stationary passes."""

    name = "map-tpu"
    TARGET: ClassVar[str] = "tpu"
    device: str = field(default="tpu-v4", metadata={"help": "a tpu from perf-opt --list-devices"})
