"""Fitting a calibration: the benchmarks perf-calibrate timed, inverted through the mapping
model of the device's class (CPU or GPU) into the per-class efficiencies a calibration file
holds (its `op_classes` bands).

Why apart from targets/calibration.py: reading and applying a calibration file (map-cpu,
every pipeline) needs neither the CPU model nor the roofline; only perf-calibrate and
`perf-calibrate --refit` fit one. `fit(doc, device)` fills each benchmark's `fit` and the
document's bands in place; `fit_one` inverts the model for one workload and time.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import statistics
from dataclasses import dataclass
from typing import Any, Mapping

from targets import roofline
from targets.calibration import Spread, benchmark_kind, from_dict, rates
from targets.op_kinds import op_kind
from targets.catalog import Device
from targets.mapping_common import host_issue_s, launches_asynchronously
from targets.workload import ConvGeometry, Gemm, Workload

# Fitted efficiencies are kept inside [MIN_EFFICIENCY, 1].
MIN_EFFICIENCY = 1e-4
# A GPU kernel timed back to back within this factor of the host's time to issue it ran
# at the host's pace: its own time is hidden, so it says nothing about the GPU's rate.
HOST_BOUND_MARGIN = 1.10


def workload_to_dict(w: Workload) -> dict:
    d = dataclasses.asdict(w)
    d["gemms"] = [[g.m, g.n, g.k, g.batch] for g in w.gemms]
    return d


def workload_from_dict(d: Mapping[str, Any]) -> Workload:
    fields = {f.name for f in dataclasses.fields(Workload)}
    values = {k: v for k, v in d.items() if k in fields}
    values["gemms"] = tuple(Gemm(*g) for g in d.get("gemms", ()))
    if values.get("conv") is not None:
        values["conv"] = ConvGeometry.from_dict(values["conv"])
    values["tail"] = tuple((str(kind), int(n)) for kind, n in d.get("tail", ()))
    return Workload(**values)


def benchmark_padding(k: int, stride: int) -> int:
    """The padding of perf-calibrate's convolution benchmarks: 'same' for a kernel wider than
    1 that does not stride by its width (a patchify layer has none)."""
    return k // 2 if k > 1 and stride < k else 0


def conv_geometry_of_params(params: Mapping[str, Any]) -> dict:
    """The geometry of a convolution benchmark from its parameters (compiler/calibrate/
    suite.conv), for files measured before workloads recorded it."""
    k, stride = int(params["k"]), int(params.get("stride", 1))
    pad = benchmark_padding(k, stride)
    hw = int(params["hw"])
    return dataclasses.asdict(ConvGeometry(
        (int(params.get("batch", 1)), int(params["cin"]), hw, hw), (k, k), (stride, stride),
        (pad, pad), (1, 1), int(params.get("groups", 1))))


@dataclass(frozen=True)
class Fit:
    """How one benchmark's measured time reads in the mapping model's terms."""

    efficiency: float | None    # class fraction reproducing the time (None: overhead-bound)
    required: float | None      # the same before clamping into (0, 1]
    bound: str                  # compute | memory | overhead: what explains the time
    peak_flops_per_s: float     # peak of the unit the model runs it on
    model_overhead_s: float
    model_memory_s: float
    cores_used: int


def fit_one(workload: Workload, seconds: float, device: Device,
            others: Mapping[str, float] | None = None) -> Fit:
    """The class fraction at which the device class's model (`targets.cpu_model`,
    `targets.gpu_model`) + `targets.roofline` reproduce
    `seconds` for `workload` on `device` (already calibrated: bandwidths, overheads).

    With the class fraction at 1 the model gives matrix time Tm (or vector time Tv for a
    vector-only op); the measured time less the model's overhead (and less the vector tail
    of a matrix op, at the `others` element-wise fraction) must be Tm / e, so e = Tm / that.
    When the model's memory time already exceeds it, the op is memory-bound in the model
    and e only makes the compute term match the measurement (reported as "memory")."""
    cal = dict(others or {})
    cal[workload.op_class] = 1.0
    model = importlib.import_module(f"targets.{device.device_class}_model")
    mapping = model.map_workload(workload, device, cal)
    est = roofline.estimate(workload, mapping, device)
    if launches_asynchronously(device):
        # Timed back to back on the GPU's clock, a call takes the longer of its kernel and
        # the host's issue of the next one; the launch is not added to the kernel.
        host = host_issue_s(device, mapping.overhead_s, eager=True)
        budget = 0.0 if seconds <= host * HOST_BOUND_MARGIN else seconds
    else:
        budget = seconds - mapping.overhead_s
    matrix = workload.matrix_flops > 0
    peak = (roofline.matrix_rate(workload, mapping, device) if matrix
            else roofline.vector_rate(mapping, device))[0]
    work = (budget - est.vector_time_s) if matrix else budget
    unit_time = est.matrix_time_s if matrix else est.vector_time_s
    if work <= 0 or unit_time <= 0:
        return Fit(None, None, "overhead", peak, mapping.overhead_s, est.memory_time_s,
                   mapping.units_used)
    required = unit_time / work
    bound = "memory" if est.memory_time_s >= budget else "compute"
    return Fit(min(1.0, max(MIN_EFFICIENCY, required)), required, bound, peak,
               mapping.overhead_s, est.memory_time_s, mapping.units_used)


def calibrated_host(doc: Mapping[str, Any], device: Device, origin: str) -> Device:
    """`device` with the document's bandwidths, overheads and clock (no bands needed);
    a CPU's or a GPU's."""
    shell = dict(doc)
    shell["op_classes"] = {}
    return from_dict(shell, origin).apply(device)


def fit(doc: dict, device: Device, origin: str = "<calibration>") -> dict:
    """Fill in each benchmark's fit and the size bands of a calibration document (in place;
    returns it). `device` is the uncalibrated device (`host`, or the catalog GPU measured):
    the document's bandwidths, overheads and clock are applied first, as map-cpu and
    map-gpu will apply them."""
    dev = calibrated_host(doc, device, origin)
    for b in doc.get("benchmarks", []):
        if "source_channels" not in b["workload"] and "cin" in b.get("params", {}):
            # files measured before workloads recorded it: the benchmark's own parameter
            b["workload"]["source_channels"] = int(b["params"]["cin"])
        if b["workload"].get("conv") is None and "cin" in b.get("params", {}):
            b["workload"]["conv"] = conv_geometry_of_params(b["params"])
        w = workload_from_dict(b["workload"])
        b["kind"] = benchmark_kind(w)
        t = b["time_s"]
        f = fit_one(w, t["median"], dev)
        b["achieved_flops_per_s"] = rates(w.flops, t)
        b["fraction_of_peak"] = {k: v / f.peak_flops_per_s for k, v in b["achieved_flops_per_s"].items()}
        b["fit"] = {"efficiency": f.efficiency, "required": f.required, "bound": f.bound,
                    "peak_flops_per_s": f.peak_flops_per_s, "model_overhead_s": f.model_overhead_s,
                    "model_memory_s": f.model_memory_s, "cores_used": f.cores_used,
                    "clamped": f.required is not None and f.required > 1.0}
    doc["op_classes"] = _bands(doc.get("benchmarks", []))
    return doc


def _band(members: list[dict]) -> dict:
    flops = [max(1, workload_from_dict(b["workload"]).flops) for b in members]
    center = math.exp(statistics.fmean(math.log(f) for f in flops))
    return {
        "flops_min": float(min(flops)), "flops_max": float(max(flops)),
        "flops_center": min(float(max(flops)), max(float(min(flops)), center)),
        "efficiency": statistics.median(b["fit"]["efficiency"] for b in members),
        "achieved_flops_per_s": Spread(
            min(b["achieved_flops_per_s"]["min"] for b in members),
            statistics.median(b["achieved_flops_per_s"]["median"] for b in members),
            max(b["achieved_flops_per_s"]["max"] for b in members)).as_dict(),
        "fraction_of_peak": Spread(
            min(b["fraction_of_peak"]["min"] for b in members),
            statistics.median(b["fraction_of_peak"]["median"] for b in members),
            max(b["fraction_of_peak"]["max"] for b in members)).as_dict(),
        "benchmarks": [b["name"] for b in members],
    }


def _by_decade(members: list[dict]) -> list[dict]:
    groups: dict[int, list[dict]] = {}
    for b in members:
        flops = max(1, workload_from_dict(b["workload"]).flops)
        groups.setdefault(int(math.floor(math.log10(flops))), []).append(b)
    return [_band(g) for _, g in sorted(groups.items())]


def _bands(benches: list[dict]) -> dict:
    """Fitted benchmarks grouped by class and precision, then by decade of FLOPs; a class
    measured with several op kinds also gets bands per kind (`ops`)."""
    fitted: dict[tuple[str, str], list[dict]] = {}
    for b in benches:
        if (b.get("fit") or {}).get("efficiency") is not None:
            fitted.setdefault((b["op_class"], b["precision"]), []).append(b)
    out: dict[str, dict[str, dict]] = {}
    for (cls, prec), members in sorted(fitted.items()):
        entry: dict[str, Any] = {"bands": _by_decade(members)}
        kinds: dict[str, list[dict]] = {}
        for b in members:
            kinds.setdefault(b.get("kind") or op_kind(b["workload"]["name"]), []).append(b)
        if len(kinds) > 1:
            entry["ops"] = {k: {"bands": _by_decade(v)} for k, v in sorted(kinds.items())}
        out.setdefault(cls, {})[prec] = entry
    return out
