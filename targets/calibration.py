"""Measured calibration of a CPU: what `perf-calibrate` wrote, read back, checked, and
applied to the device and to the mapping model.

Why: the CPU model's per-class efficiencies are defaults from another machine
(targets/cpu_model.py), and the host's bandwidths and clock are what the OS reports or
conservative guesses (targets/host.py). DESIGN.md: "Measured calibration overrides
datasheet efficiency".

Schema (JSON, `schema_version` 1; a spread is {"min", "median", "max"} over repeats):

    schema "perf-opt-calibration", schema_version 1, name, target "cpu", device "host",
    date (ISO 8601, UTC), mode (full | quick | custom)
    machine     cpu_model, arch, physical_cores, logical_cpus, threads_used,
                clock_hz_reported, clock_source, hypervisor, flags {avx2, fma, avx512f,
                avx512_bf16, avx512_vnni, avx_vnni, amx, neon, sve}, caches [...], memory_bytes
    software    python, torch, torchvision, perf_opt, mkldnn, cpu_capability
    conditions  repeats, min_sample_s, max_foreign_load, max_reference_slowdown,
                reference_gemm_best_s, load averages, busy_samples_redone,
                benchmarks_still_busy, cpu_utilization_median, allocator, duration_s
    clock       measured_hz (spread), method                        [applied to `host`]
    peak_flops  {precision: {unit, catalog, calibrated}}
    dispatch_overhead_s (spread)     one-element op through an nn.Module  [applied]
    launch_overhead_s (spread)       thread-pool fork/join                 [applied]
    bandwidth   {level: {bytes_per_s (spread), method, copy_/read_/copy_one_thread_
                 bytes_per_s, buffer sizes, timings, [effective_capacity_bytes, sweep]}}
                 [applied, by level name; a measured effective capacity replaces a larger
                 reported one (a VM's last-level cache is a share of the socket's)]
    first_touch bytes_per_s (spread) of page-faulting fresh memory   [applied]
                [release_bytes_per_s (spread): the unmapping alone, the share of that
                 cost paid where the buffer is freed]                   [applied]
    layout_reorder bytes_per_s (spread) of NCHW <-> channels-last copies, cases [applied]
    library_call_s {op class: {precision: spread}}: a minimal call's time beyond dispatch
                 (library_call_method says how)                        [applied; an FP32
                 "conv" of a file whose method does not say ONEDNN_PROBE_MARK timed
                 PyTorch's native path and is left out: the model prices that path itself]
    compiled_call_s (spread, optional): a one-op module torch.compile'd less the same module
                 eager: calling a compiled graph (frame evaluation, wrapper)  [applied]
    guard_check_per_parameter_s (spread, optional): Dynamo's guard check of compiled zoo
                 models per parameter                                   [applied]
    op_classes  {op class: {precision: {"bands": [band...],
                                        "ops": {op kind: {"bands": [band...]}}}}}
        band = flops_min, flops_max, flops_center, efficiency (what map-cpu uses),
               achieved_flops_per_s (spread), fraction_of_peak (spread), benchmarks
    benchmarks  [{name, op_class, kind, precision, params, workload (the importer's
                 Workload), time_s (spread), timing (cpu_utilization, foreign_load,
                 page_faults_per_call, reference_slowdown, ...), achieved_flops_per_s,
                 fraction_of_peak, fit {efficiency, required, bound, ...}}]

A GPU calibration (compiler/calibrate/gpu_fit.py) has `target` "gpu" and `device`, the catalog
GPU it measured, to which alone it applies; `machine` is the GPU (name, capability, memory,
SMs, driver), `bandwidth` the device-memory copy rate under the catalog level's name,
`dispatch_overhead_s` an eager view's host time, `launch_overhead_s` the rest of an eager
kernel-launching op's host time, and its efficiencies are fitted through targets/gpu_model.py.

`efficiency` is fitted (targets/calibration_fit.py): the class fraction at which targets/cpu_model.py and
targets/roofline.py reproduce the measured time, so it already accounts for the model's
overheads and core counts; `fraction_of_peak` is the raw achieved / peak. Op classes are
exactly the Workload classes; a class measured with several op kinds (max-pool and
softmax are both reductions) also has bands per kind (`ops`). Attention benchmarks whose
workload is marked `native_attention` (nn.MultiheadAttention's bmm, softmax, bmm) have the
kind NATIVE_ATTENTION_KIND and are keyed apart from the flash kernel's of the same shape.

`load(path)` validates (errors read `FILE: error: field: what`), `Calibration.apply(device)`
returns the device with the measured figures (kind "measured", source: the file),
`Calibration.fractions_for(workload)` gives {op class: fraction}: a benchmark's own fitted
efficiency when the workload has exactly its shape, else the workload's size band,
interpolated in log(FLOPs) between bands. Plain Python; no IR, no torch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from targets.catalog import Device, Sourced
from targets.derived_figures import with_clock
from targets.precision import PRECISIONS
from targets.op_kinds import op_kind
from targets.workload import OP_CLASSES, Workload, runs_native_attention

SCHEMA = "perf-opt-calibration"
SCHEMA_VERSION = 1
SOURCE_KEY = "calibration"
# A measured clock within this share of the device's is not worth rescaling peaks for.
CLOCK_TOLERANCE = 0.02


class CalibrationError(ValueError):
    """A calibration file is missing, unreadable or does not follow the schema."""


# What perf-calibrate's library_call_method says since its convolution probe takes oneDNN's
# path in FP32 too (compiler/calibrate/memory.LIBRARY_CALLS); before, a batch-1 1x1 probe ran
# on PyTorch's native path, so an older file's FP32 "conv" figure (2-5 us) is not oneDNN's.
ONEDNN_PROBE_MARK = "convolutions probed on oneDNN's path"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Spread:
    min: float
    median: float
    max: float

    @staticmethod
    def of(values: Iterable[float]) -> "Spread":
        vals = sorted(values)
        return Spread(vals[0], statistics.median(vals), vals[-1])

    def as_dict(self) -> dict:
        return {"min": self.min, "median": self.median, "max": self.max}


def rates(amount: float, seconds: Mapping[str, float]) -> dict:
    """{"min", "median", "max"} of amount / time for a time spread: the lowest rate comes
    from the longest time."""
    return {k: amount / seconds[t] for k, t in (("min", "max"), ("median", "median"), ("max", "min"))}


@dataclass(frozen=True)
class Band:
    """Benchmarks of one op class and precision whose FLOPs fall in one decade."""

    flops_min: float
    flops_max: float
    flops_center: float         # geometric mean of the benchmarks' FLOPs
    efficiency: float           # class fraction map-cpu uses (fitted)
    achieved_flops_per_s: Spread
    fraction_of_peak: Spread    # achieved / calibrated peak, as measured (overheads included)
    benchmarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Calibration:
    path: str
    name: str
    date: str
    target: str                 # cpu | gpu
    machine: Mapping[str, Any]
    software: Mapping[str, Any]
    bands: Mapping[str, Mapping[str, tuple[Band, ...]]]   # class -> precision -> bands
    bandwidth: Mapping[str, tuple[Spread, str]]            # level -> (bytes/s, method)
    dispatch_overhead_s: float | None = None
    launch_overhead_s: float | None = None
    clock_hz: float | None = None
    first_touch_bytes_per_s: float | None = None
    page_release_bytes_per_s: float | None = None
    layout_reorder_bytes_per_s: float | None = None
    library_call_s: Mapping[str, float] = dataclasses.field(default_factory=dict)  # "class:prec"
    compiled_call_s: float | None = None
    guard_check_per_parameter_s: float | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    capacities: Mapping[str, int] = dataclasses.field(default_factory=dict)  # level -> bytes
    # class -> precision -> op kind -> bands, for classes measured with several op kinds
    op_bands: Mapping[str, Mapping[str, Mapping[str, tuple[Band, ...]]]] = dataclasses.field(
        default_factory=dict)
    # kernel_key(workload) -> (fitted efficiency, benchmark name): the shapes measured alone
    kernels: Mapping[tuple, tuple[float, str]] = dataclasses.field(default_factory=dict)
    # the same benchmarks keyed by product_key (a compiled graph's units look them up so)
    products: Mapping[tuple, tuple[float, str]] = dataclasses.field(default_factory=dict)
    # The catalog device a GPU calibration measured (its figures are that GPU's only);
    # None for a CPU calibration, which applies to `host` or a CPU of the catalog.
    device: str | None = None

    # ---- provenance

    @property
    def citation(self) -> str:
        m = self.machine
        if self.target == "gpu":
            return (f"{self.path}: perf-calibrate measurement '{self.name}' of {m.get('name', '?')} "
                    f"(driver {m.get('driver', '?')}, CUDA {self.software.get('cuda', '?')}) on "
                    f"{self.date}, torch {self.software.get('torch', '?')}")
        return (f"{self.path}: perf-calibrate measurement '{self.name}' of {m.get('cpu_model', '?')} "
                f"({m.get('physical_cores', '?')} cores, {m.get('threads_used', '?')} threads) on "
                f"{self.date}, torch {self.software.get('torch', '?')}")

    def mismatch(self, info) -> str | None:
        """Why this calibration may not describe the machine `info` (targets.host.HostInfo)
        it is about to be applied to, or None: efficiencies measured on one CPU are not
        another's (a Zen 3 AVX2 file on an AVX-512/AMX Xeon mispredicts by 2x)."""
        from targets.host import isa_summary  # lazy: loading a calibration needs no host

        m, isa, recorded = self.machine, isa_summary(info.flags), self.machine.get("flags") or {}
        here = {"cpu_model": info.model_name, "physical_cores": info.physical_cores,
                "avx512f": isa["avx512f"], "amx": isa["amx"]}
        there = {"cpu_model": m.get("cpu_model"), "physical_cores": m.get("physical_cores"),
                 "avx512f": recorded.get("avx512f"), "amx": recorded.get("amx")}
        differ = [k for k in here if there[k] is not None and there[k] != here[k]]
        if not differ:
            return None
        return (f"calibration '{self.name}' ({self.path}) was measured on "
                f"{there['cpu_model']!r} ({there['physical_cores']} cores); this machine is "
                f"{here['cpu_model']!r} ({here['physical_cores']} cores): "
                f"{', '.join(differ)} differ, so its figures may not apply "
                f"(run perf-calibrate here)")

    def provenance(self) -> str:
        """What this calibration replaces, in a few lines for reports and --help output."""
        lines = [f"calibration {self.citation}"]
        if self.clock_hz:
            lines.append(f"  clock: {self.clock_hz / 1e9:.3f} GHz measured "
                         f"(reported {float(self.machine.get('clock_hz_reported') or 0) / 1e9:.3f} GHz)")
        if self.dispatch_overhead_s is not None:
            lines.append(f"  framework dispatch: {self.dispatch_overhead_s * 1e6:.2f} us per op")
        if self.launch_overhead_s is not None:
            lines.append(f"  thread-pool fork/join: {self.launch_overhead_s * 1e6:.2f} us")
        if self.first_touch_bytes_per_s is not None:
            lines.append(f"  first touch of fresh memory: {self.first_touch_bytes_per_s / 1e9:.2f} GB/s")
        if self.page_release_bytes_per_s is not None:
            lines.append(f"  releasing fresh memory (part of its first touch): "
                         f"{self.page_release_bytes_per_s / 1e9:.2f} GB/s")
        for key, seconds in self.library_call_s.items():
            lines.append(f"  library call {key}: {seconds * 1e6:.1f} us beyond dispatch")
        if self.layout_reorder_bytes_per_s is not None:
            lines.append(f"  NCHW <-> blocked layout reorder: {self.layout_reorder_bytes_per_s / 1e9:.2f} GB/s")
        if self.compiled_call_s is not None:
            lines.append(f"  compiled graph call: {self.compiled_call_s * 1e6:.1f} us beyond eager")
        if self.guard_check_per_parameter_s is not None:
            lines.append(f"  compiled graph guard check: {self.guard_check_per_parameter_s * 1e6:.2f} "
                         "us per parameter")
        for level, (bw, method) in self.bandwidth.items():
            lines.append(f"  {level}: {bw.median / 1e9:.1f} GB/s ({bw.min / 1e9:.1f}-{bw.max / 1e9:.1f}; {method})")
            if level in self.capacities:
                lines.append(f"  {level}: effective capacity {self.capacities[level] / 2**20:.0f} MiB measured")
        for cls, per_prec in self.bands.items():
            for prec, bands in per_prec.items():
                effs = ", ".join(f"{b.flops_center:.0e}:{b.efficiency:.3f}" for b in bands)
                lines.append(f"  {cls} {prec}: efficiency by FLOPs {effs}")
        return "\n".join(lines)

    # ---- device

    def apply(self, device: Device) -> Device:
        """`device` with the measured figures: memory-level bandwidths (by level name),
        dispatch and fork/join overheads, and, for the `host` device, peaks rescaled to the
        measured clock. Raises CalibrationError for a device of another class."""
        if device.device_class != self.target:
            raise CalibrationError(f"{self.path}: error: a {self.target} calibration cannot apply "
                                   f"to {device.name}, a {device.device_class}")
        if self.device is not None and device.name != self.device:
            raise CalibrationError(f"{self.path}: error: this calibration measured {self.device} "
                                   f"and applies to it only, not to {device.name}")
        if self.clock_hz and device.name == "host":  # before the bandwidths, measured at it
            device = _at_measured_clock(device, self.clock_hz, (self.citation,))
        sources = dict(device.sources)
        sources[SOURCE_KEY] = self.citation
        return dataclasses.replace(device, memory=self._memory(device.memory),
                                   overheads=self._overheads(device.overheads),
                                   sources=MappingProxyType(sources))

    def _measured(self, value: float, note: str) -> Sourced:
        return Sourced(value, (SOURCE_KEY,), "measured", note=note, citations=(self.citation,))

    def _memory(self, levels) -> tuple:
        """Each level this file measured, with its bandwidth (and a capacity below the OS's
        where the copies left the level's bandwidth sooner)."""
        out = []
        for level in levels:
            if level.name in self.bandwidth:
                bw, method = self.bandwidth[level.name]
                level = dataclasses.replace(level, measured_bandwidth_bytes_per_s=self._measured(
                    bw.median, f"{method}; median of repeats, spread {bw.min:.4g}-{bw.max:.4g} B/s"))
                capacity = self.capacities.get(level.name)
                if capacity is not None and capacity < float(level.capacity_bytes.value):
                    level = dataclasses.replace(level, capacity_bytes=self._measured(
                        capacity, f"largest copy (source + destination) still at this level's "
                                  f"bandwidth; the OS reports {float(level.capacity_bytes.value):.6g} B"))
            out.append(level)
        return tuple(out)

    def _overheads(self, overheads):
        """The device's overheads with each one this file measured, noted with how."""
        gpu = self.target == "gpu"
        measured = (
            ("framework_dispatch_s", self.dispatch_overhead_s,
             "host time of an eager view on a GPU tensor (dispatch, no kernel)" if gpu else
             "median time of a one-element op called through an nn.Module"),
            ("launch_s", self.launch_overhead_s,
             "host time of an eager one-element nn.ReLU on the GPU less a view's: module call "
             "and CUDA launch" if gpu else
             "t(2 threads) - t(1 thread)/2 - dispatch/2 of an op two parallel grains long"),
            ("first_touch_bytes_per_s", self.first_touch_bytes_per_s,
             "fill of freshly mmap'd memory less a refill of mapped memory"),
            ("page_release_bytes_per_s", self.page_release_bytes_per_s,
             "munmap of the filled mapping, timed alone"),
            ("layout_reorder_bytes_per_s", self.layout_reorder_bytes_per_s,
             "median of NCHW <-> channels-last copies of conv-sized tensors"),
            ("compiled_call_s", self.compiled_call_s,
             "a one-op module torch.compile'd less the same module eager"),
            ("guard_check_per_parameter_s", self.guard_check_per_parameter_s,
             "Dynamo's guard check of compiled zoo models per parameter, fitted"))
        changes: dict[str, Any] = {name: self._measured(value, note)
                                   for name, value, note in measured if value is not None}
        if self.library_call_s:
            calls = dict(overheads.library_call_s)
            calls.update({key: self._measured(seconds, "minimal call through an nn.Module less dispatch")
                          for key, seconds in self.library_call_s.items()})
            changes["library_call_s"] = MappingProxyType(calls)
        return dataclasses.replace(overheads, **changes)

    # ---- mapping

    def fractions_for(self, workload: Workload) -> dict[str, float]:
        """{op class: efficiency} for the workload: its own class at its precision, read at
        its FLOPs, from the bands of its op kind when that kind was measured (a max-pool is
        not a softmax, though both are reductions), else from the class's bands. Between
        bands the efficiency is interpolated linearly in log10(FLOPs); outside them the
        nearest band's is used. Empty when the class was not calibrated at this precision,
        or when the workload is a compiled graph's channels-last kernel of a kind whose
        benchmarks measure an NCHW-only algorithm (NCHW_ONLY_KINDS): the model's default
        applies.

        Only the own class: the element-wise tail of a matrix kernel (bias, the softmax
        inside attention) works on data in registers and cache, which standalone
        element-wise benchmarks (streaming memory, allocating outputs) do not measure, so
        the tail keeps the model's default; its measured kinds come along as "kind:<op
        kind>" entries (tail_fractions) for a model that runs the tail as a loop of its own."""
        out = self.tail_fractions(workload)
        exact = self.kernel_for(workload)
        if exact is not None:
            return {**out, workload.op_class: exact[0]}
        kind = benchmark_kind(workload)
        if not workload.plain_layout and kind in NCHW_ONLY_KINDS:
            return out
        bands = self.bands_for(workload.op_class, workload.precision, kind)
        return {**out, workload.op_class: interpolate(bands, workload.flops)} if bands else out

    def tail_fractions(self, workload: Workload) -> dict[str, float]:
        """{"kind:<op kind>": efficiency} of the measured kinds among a fused unit's tail
        ops, each read at its own FLOPs from its kind's bands: what a target whose tail is
        a loop of its own (a compiled graph on a CPU) may price it with."""
        out = {}
        for kind, flops in workload.tail:
            bands = next((per[workload.precision][kind] for per in self.op_bands.values()
                          if kind in per.get(workload.precision, {})), ())
            if bands:
                out[f"kind:{kind}"] = interpolate(bands, flops)
        return out

    def kernel_for(self, workload: Workload) -> tuple[float, str] | None:
        """(fitted efficiency, benchmark name) of a benchmark of exactly this kernel's shape
        (class, precision, layout, matrix products and bytes), or None. Kernels of equal
        FLOPs differ by far more than the bands' spread (BF16 1x1 convolutions of 0.1
        GFLOP at 56x56 on the Xeon test machine: 256 -> 64 channels at 0.15 of the AMX
        peak, 64 -> 256 at 0.035), so a measured shape wins over interpolation.

        A compiled graph's unit (channels-last, fused with the ops after it) never has its
        own benchmark: its library call is matched on the matrix products alone, the
        product's efficiency being what the eager benchmark of that layer measured net of
        its copies between layouts (calibration_fit). Fitting the shape, not the FLOPs, is
        what counts: resnet50's 3x3 layers of 0.23 GFLOP run at 0.93 (64 channels at 56x56)
        and 0.42 (512 at 7x7) of the BF16 peak on the Zen 5 test VM."""
        gemms = [(g.m, g.n, g.k, g.batch) for g in workload.gemms]
        # nn.MultiheadAttention's native attention reads its own benchmarks, or, in a file
        # that did not time it, the flash kernel's of the same shape (files before 2026-12-04)
        for native in dict.fromkeys((workload.runs_native_attention, False)):
            exact = self.kernels.get(kernel_key(
                workload.op_class, workload.precision, workload.plain_layout, gemms,
                workload.bytes_in, workload.bytes_weights, workload.bytes_out, native))
            if exact is None and not workload.plain_layout and gemms:
                exact = self.products.get(product_key(workload.op_class, workload.precision,
                                                      gemms, native))
            if exact is not None:
                return exact
        return None

    def bands_for(self, op_class: str, precision: str, kind: str | None = None) -> tuple[Band, ...]:
        by_kind = self.op_bands.get(op_class, {}).get(precision, {})
        if kind and kind in by_kind:
            return by_kind[kind]
        return self.bands.get(op_class, {}).get(precision, ())


# Kinds whose benchmarks measure an algorithm particular to PyTorch's NCHW layout, which a
# compiled graph does not run: ATen's NCHW max pooling walks each channel's plane with
# scalar code and writes int64 indices (the 3x3/2 pool of resnet18 at batch 1: 2.87 ms on
# the Zen 5 test VM, 0.14 ms eager on channels-last tensors), where Inductor generates one
# vectorized loop over channels-last data and fuses it with the batch norm and ReLU before
# it (0.09 ms, torch.profiler with cpp.enable_kernel_profile). Their bands and those of
# their class do not apply to such a kernel; the model's default does.
NCHW_ONLY_KINDS = ("max_pool2d", "avg_pool2d")


# The kind under which benchmarks of nn.MultiheadAttention's native attention (bmm,
# softmax, bmm) are fitted and looked up, apart from the flash kernel's
# (compiler/eager_fast_paths.py; targets/workload.py runs_native_attention).
NATIVE_ATTENTION_KIND = "native_attention"


def benchmark_kind(workload: Workload) -> str:
    """The op kind a workload's benchmarks are fitted under and its bands looked up by."""
    return NATIVE_ATTENTION_KIND if workload.runs_native_attention else op_kind(workload.name)


def product_key(op_class: str, precision: str, gemms: Iterable[Iterable[int]],
                native_attention: bool = False) -> tuple:
    """What identifies a kernel's matrix products, whatever its layout and fused ops (and,
    for an attention, which algorithm runs them)."""
    cls = f"{op_class}:{NATIVE_ATTENTION_KIND}" if native_attention else op_class
    return (cls, precision, tuple(tuple(int(x) for x in g) for g in gemms))


PRODUCT_KEY_LENGTH = 3


def kernel_key(op_class: str, precision: str, plain_layout: bool, gemms: Iterable[Iterable[int]],
               bytes_in: int, bytes_weights: int, bytes_out: int,
               native_attention: bool = False) -> tuple:
    """What identifies a kernel's shape for a calibration lookup: its product_key (the
    first PRODUCT_KEY_LENGTH fields), then its layout and bytes."""
    return product_key(op_class, precision, gemms, native_attention) + (
        bool(plain_layout), int(bytes_in), int(bytes_weights), int(bytes_out))


def interpolate(bands: tuple[Band, ...], flops: float) -> float:
    """Efficiency at `flops`: piecewise linear in log10(FLOPs) between band centres."""
    if len(bands) == 1 or flops <= bands[0].flops_center:
        return bands[0].efficiency
    if flops >= bands[-1].flops_center:
        return bands[-1].efficiency
    x = math.log10(max(flops, 1.0))
    for lo, hi in zip(bands, bands[1:]):
        if flops <= hi.flops_center:
            x0, x1 = math.log10(lo.flops_center), math.log10(hi.flops_center)
            t = (x - x0) / (x1 - x0) if x1 > x0 else 0.0
            return lo.efficiency + t * (hi.efficiency - lo.efficiency)
    return bands[-1].efficiency


def _at_measured_clock(device: Device, clock_hz: float, cite: tuple[str, ...]) -> Device:
    """The host at the clock its cores were measured to run (derived_figures.with_clock:
    the host's peaks are cores x lanes x FMA x 2 x clock, so they scale with it)."""
    clock = Sourced(clock_hz, (SOURCE_KEY,), "measured",
                    note="dependent integer-add chain, one add per cycle, all cores loaded",
                    citations=cite)
    old = float(device.compute.boost_clock_hz.value)
    if old > 0 and abs(clock_hz / old - 1) <= CLOCK_TOLERANCE:  # the peaks stand; the clock is known now
        return dataclasses.replace(device, compute=dataclasses.replace(device.compute, boost_clock_hz=clock))
    return with_clock(device, clock, "rescaled to the measured clock")


# --------------------------------------------------------------------------- loading


def load(path: str | Path) -> Calibration:
    """Read and validate a calibration file (cached per resolved path and mtime)."""
    p = Path(path)
    try:
        stamp = p.stat().st_mtime_ns
    except OSError as err:
        raise CalibrationError(f"{path}: error: cannot read calibration file: "
                               f"{err.strerror or err}") from None
    return _load_cached(str(p), stamp)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, _mtime: int) -> Calibration:
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise CalibrationError(f"{path}: error: cannot read calibration file: "
                               f"{err.strerror or err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CalibrationError(f"{path}:{err.lineno}:{err.colno}: error: not valid JSON: "
                               f"{err.msg}") from None
    return from_dict(data, path)


class _Checker:
    def __init__(self, origin: str):
        self.origin = origin

    def fail(self, where: str, message: str):
        raise CalibrationError(f"{self.origin}: error: {where}: {message}")

    def obj(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, got {type(value).__name__}")
        return value

    def num(self, value, where: str, positive: bool = True, allow_zero: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(where, f"expected a number, got {value!r}")
        if positive and (value < 0 or (value == 0 and not allow_zero)):
            self.fail(where, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
        return float(value)

    def spread(self, value, where: str, allow_zero: bool = False) -> Spread:
        d = self.obj(value, where)
        for key in ("min", "median", "max"):
            if key not in d:
                self.fail(where, f"missing '{key}' (a spread has min, median, max)")
        s = Spread(*(self.num(d[k], f"{where}.{k}", allow_zero=allow_zero)
                     for k in ("min", "median", "max")))
        if not s.min <= s.median <= s.max:
            self.fail(where, f"min <= median <= max does not hold ({s.min}, {s.median}, {s.max})")
        return s


def from_dict(data: Any, origin: str = "<calibration>") -> Calibration:
    """Validate a parsed calibration document; errors name the file and the field."""
    c = _Checker(origin)
    if not isinstance(data, dict):
        raise CalibrationError(f"{origin}: error: a calibration file is a JSON object, "
                               f"got {type(data).__name__}")
    if data.get("schema") != SCHEMA:
        c.fail("schema", f"expected \"{SCHEMA}\", got {data.get('schema')!r} (is this a "
                         "perf-calibrate output?)")
    if data.get("schema_version") != SCHEMA_VERSION:
        c.fail("schema_version", f"unsupported version {data.get('schema_version')!r}; "
                                 f"supported: {SCHEMA_VERSION}")
    for key in ("machine", "software", "op_classes"):
        if key not in data:
            c.fail(key, "missing (required: machine, software, op_classes)")
    target = data.get("target", "cpu")
    if target not in ("cpu", "gpu"):
        c.fail("target", f"unsupported target {target!r}; supported: cpu, gpu")
    device = None
    if target == "gpu":
        device = data.get("device")
        if not isinstance(device, str) or not device:
            c.fail("device", "a GPU calibration names the catalog device it measured")
    machine = c.obj(data["machine"], "machine")
    software = c.obj(data["software"], "software")
    bands: dict[str, dict[str, tuple[Band, ...]]] = {}
    op_bands: dict[str, dict[str, dict[str, tuple[Band, ...]]]] = {}
    for cls, per_prec in c.obj(data["op_classes"], "op_classes").items():
        if cls not in OP_CLASSES:
            c.fail(f"op_classes.{cls}", f"unknown op class; valid: {', '.join(OP_CLASSES)}")
        for prec, entry in c.obj(per_prec, f"op_classes.{cls}").items():
            where = f"op_classes.{cls}.{prec}"
            if prec not in PRECISIONS:
                c.fail(where, f"unknown precision; valid: {', '.join(PRECISIONS)}")
            bands.setdefault(cls, {})[prec] = _band_list(c, c.obj(entry, where).get("bands"), where)
            for kind, sub in c.obj(entry.get("ops", {}), f"{where}.ops").items():
                w = f"{where}.ops.{kind}"
                op_bands.setdefault(cls, {}).setdefault(prec, {})[kind] = _band_list(
                    c, c.obj(sub, w).get("bands"), w)
    bandwidth: dict[str, tuple[Spread, str]] = {}
    capacities: dict[str, int] = {}
    for level, entry in c.obj(data.get("bandwidth", {}), "bandwidth").items():
        e = c.obj(entry, f"bandwidth.{level}")
        if "bytes_per_s" not in e:
            c.fail(f"bandwidth.{level}", "missing 'bytes_per_s'")
        bandwidth[level] = (c.spread(e["bytes_per_s"], f"bandwidth.{level}.bytes_per_s"),
                            str(e.get("method", "")))
        if e.get("effective_capacity_bytes") is not None:
            cap = e["effective_capacity_bytes"]
            if isinstance(cap, bool) or not isinstance(cap, int) or cap <= 0:
                c.fail(f"bandwidth.{level}.effective_capacity_bytes",
                       f"must be a positive integer, got {cap!r}")
            capacities[level] = cap
    clock = None
    first_touch, reorder = (_rate(c, data, key) for key in ("first_touch", "layout_reorder"))
    release = _rate(c, data, "first_touch", "release_bytes_per_s", required=False)
    calls = {}
    native_probe = ONEDNN_PROBE_MARK not in str(data.get("library_call_method", ""))
    for cls, per_prec in c.obj(data.get("library_call_s") or {}, "library_call_s").items():
        if cls not in OP_CLASSES:
            c.fail(f"library_call_s.{cls}", f"unknown op class; valid: {', '.join(OP_CLASSES)}")
        for prec, value in c.obj(per_prec, f"library_call_s.{cls}").items():
            if prec not in PRECISIONS:
                c.fail(f"library_call_s.{cls}.{prec}", "unknown precision")
            seconds = c.spread(value, f"library_call_s.{cls}.{prec}", allow_zero=True).median
            if not (native_probe and cls == "conv" and prec == "fp32"):
                calls[f"{cls}:{prec}"] = seconds
    kernels = _kernels(c, data.get("benchmarks") or [])
    dispatch, launch, compiled_call, guards = (
        c.spread(data[key], key, allow_zero=True).median if data.get(key) is not None else None
        for key in ("dispatch_overhead_s", "launch_overhead_s", "compiled_call_s",
                    "guard_check_per_parameter_s"))
    if data.get("clock") is not None:
        clk = c.obj(data["clock"], "clock")
        if clk.get("measured_hz") is not None:
            clock = c.spread(clk["measured_hz"], "clock.measured_hz").median
    return Calibration(
        path=str(origin), name=str(data.get("name", Path(str(origin)).stem)),
        date=str(data.get("date", "")), target=target,
        machine=MappingProxyType(dict(machine)), software=MappingProxyType(dict(software)),
        bands=MappingProxyType({k: MappingProxyType(v) for k, v in bands.items()}),
        bandwidth=MappingProxyType(bandwidth), capacities=MappingProxyType(capacities),
        dispatch_overhead_s=dispatch,
        launch_overhead_s=launch, clock_hz=clock, first_touch_bytes_per_s=first_touch,
        page_release_bytes_per_s=release,
        layout_reorder_bytes_per_s=reorder, library_call_s=MappingProxyType(calls),
        compiled_call_s=compiled_call, guard_check_per_parameter_s=guards,
        raw=MappingProxyType(data), kernels=MappingProxyType(kernels),
        products=MappingProxyType({key[:PRODUCT_KEY_LENGTH]: value for key, value in kernels.items()
                                   if key[PRODUCT_KEY_LENGTH - 1]}),
        op_bands=MappingProxyType({c: MappingProxyType({p: MappingProxyType(k) for p, k in v.items()})
                                   for c, v in op_bands.items()}),
        device=device)


KERNEL_FIELDS = ("op_class", "precision", "gemms", "bytes_in", "bytes_weights", "bytes_out")


def _kernels(c: _Checker, benchmarks: Any) -> dict[tuple, tuple[float, str]]:
    """The benchmarks whose fit found a compute efficiency, keyed by kernel_key. A
    benchmark the model's overheads alone explain (efficiency null) leaves its shape to
    the bands."""
    if not isinstance(benchmarks, list):
        c.fail("benchmarks", f"expected a list, got {type(benchmarks).__name__}")
    out = {}
    for i, bench in enumerate(benchmarks):
        where = f"benchmarks[{i}]"
        b = c.obj(bench, where)
        fit = c.obj(b.get("fit") or {}, f"{where}.fit")
        if fit.get("efficiency") is None or "workload" not in b:
            continue
        w = c.obj(b["workload"], f"{where}.workload")
        missing = [f for f in KERNEL_FIELDS if f not in w]
        if missing:
            c.fail(f"{where}.workload", f"missing {', '.join(missing)}")
        efficiency = c.num(fit["efficiency"], f"{where}.fit.efficiency")
        if efficiency > 1.0:
            c.fail(f"{where}.fit.efficiency", f"{efficiency} is not a fraction in (0, 1]")
        try:
            plain = w.get("plain_layout", True)
            key = kernel_key(w["op_class"], w["precision"], plain, w["gemms"], w["bytes_in"],
                             w["bytes_weights"], w["bytes_out"],
                             runs_native_attention(str(w.get("native_attention", "")), plain))
        except (TypeError, ValueError):
            c.fail(f"{where}.workload", "gemms must be [m, n, k, batch] lists and bytes integers")
        out[key] = (efficiency, str(b.get("name", where)))
    return out


def _rate(c: _Checker, data: Mapping[str, Any], key: str, field: str = "bytes_per_s",
          required: bool = True) -> float | None:
    """The median of `data[key][field]`, or None when the file has no `key` (or, for an
    optional field, no `field`: files written before it was measured)."""
    if data.get(key) is None:
        return None
    entry = c.obj(data[key], key)
    if field not in entry:
        if not required:
            return None
        c.fail(key, f"missing '{field}'")
    return c.spread(entry[field], f"{key}.{field}").median


def _band_list(c: _Checker, raw_bands, where: str) -> tuple[Band, ...]:
    if not isinstance(raw_bands, list) or not raw_bands:
        c.fail(f"{where}.bands", "expected a non-empty list of size bands")
    parsed = [_parse_band(c, b, f"{where}.bands[{i}]") for i, b in enumerate(raw_bands)]
    return tuple(sorted(parsed, key=lambda b: b.flops_center))


def _parse_band(c: _Checker, value, where: str) -> Band:
    b = c.obj(value, where)
    for key in ("flops_min", "flops_max", "flops_center", "efficiency", "achieved_flops_per_s",
                "fraction_of_peak"):
        if key not in b:
            c.fail(where, f"missing '{key}'")
    lo, hi, center = (c.num(b[k], f"{where}.{k}") for k in ("flops_min", "flops_max", "flops_center"))
    if not lo <= center <= hi:
        c.fail(where, f"flops_min <= flops_center <= flops_max does not hold ({lo}, {center}, {hi})")
    eff = c.num(b["efficiency"], f"{where}.efficiency")
    if not 0.0 < eff <= 1.0:
        c.fail(f"{where}.efficiency", f"{eff} is not a fraction in (0, 1]")
    return Band(lo, hi, center, eff, c.spread(b["achieved_flops_per_s"], f"{where}.achieved_flops_per_s"),
                c.spread(b["fraction_of_peak"], f"{where}.fraction_of_peak"),
                tuple(str(n) for n in b.get("benchmarks", ())))
