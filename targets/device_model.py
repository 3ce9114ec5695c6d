"""The device model: frozen dataclasses for one device, and the questions passes ask of it.

Why frozen and typed: a Device is built once from a validated file (targets/device_file.py),
optionally rescaled for a power mode (targets/derived_figures.py), and then shared by every
pass; nothing may change a number after validation, and every number is a ``Sourced`` figure
so its provenance travels with it into reports.  Stdlib only; no IR, no torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from targets.catalog_errors import CatalogError, UnsupportedPrecisionError
from targets.precision import UnknownPrecisionError, check_precision

# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Sourced:
    """One number with its provenance: why it is believable, or why it is only assumed."""

    value: float
    source: tuple[str, ...]
    kind: str = "spec"
    formula: str | None = None
    note: str | None = None
    citations: tuple[str, ...] = ()

    def __float__(self) -> float:
        return float(self.value)

    @property
    def citation(self) -> str:
        """The full citation text of every source key, joined."""
        return "; ".join(self.citations)

    def provenance(self) -> str:
        """Short provenance for listings: kind, source keys, formula and note."""
        parts = [f"{self.kind}: {', '.join(self.source)}"]
        if self.formula:
            parts.append(f"= {self.formula}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)



# --------------------------------------------------------------------------- device


@dataclass(frozen=True)
class ComputeSpec:
    unit_name: str
    units: Sourced
    boost_clock_hz: Sourced
    base_clock_hz: Sourced | None = None


@dataclass(frozen=True)
class GpuSpec:
    compute_capability: str
    warp_size: Sourced
    max_threads_per_unit: Sourced
    max_warps_per_unit: Sourced
    max_blocks_per_unit: Sourced
    registers_per_unit: Sourced
    shared_memory_per_unit_bytes: Sourced
    tensor_cores_per_unit: Sourced


@dataclass(frozen=True)
class TpuSpec:
    systolic_rows: Sourced
    systolic_cols: Sourced
    mxus_per_core: Sourced
    cores_per_chip: Sourced


@dataclass(frozen=True)
class KpuSpec:
    tiles: Sourced
    scratchpad_per_tile_bytes: Sourced
    pe_rows: Sourced | None = None
    pe_cols: Sourced | None = None
    shared_sram_bytes: Sourced | None = None


@dataclass(frozen=True)
class CpuSpec:
    p_cores: Sourced
    threads: Sourced
    simd_width_bits: Sourced
    fma_units_per_core: Sourced
    all_core_clock_hz: Sourced
    e_cores: Sourced | None = None
    e_core_clock_hz: Sourced | None = None
    isa_extensions: tuple[str, ...] = ()
    matrix_extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecutionUnit:
    """One kind of arithmetic hardware (CUDA cores, tensor cores, AMX, an MXU array, ...)."""

    name: str
    kind: str
    description: str
    clock_hz: Sourced
    peak: Mapping[str, Sourced]
    energy_pj_per_op: Mapping[str, Sourced]


@dataclass(frozen=True)
class Emulation:
    """How a precision no unit executes natively is handled: upcast to `via`, or refused."""

    precision: str
    mode: str
    reason: str
    via: str | None = None
    cost_factor: Sourced | None = None


@dataclass(frozen=True)
class MemoryLevel:
    name: str
    kind: str
    scope: str
    capacity_bytes: Sourced
    bandwidth_bytes_per_s: Sourced
    energy_pj_per_byte: Sourced
    measured_bandwidth_bytes_per_s: Sourced | None = None
    note: str | None = None

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """A published measurement wins over the spec sheet for what kernels can reach."""
        best = self.measured_bandwidth_bytes_per_s or self.bandwidth_bytes_per_s
        return float(best.value)


@dataclass(frozen=True)
class EnergySpec:
    tdp_w: Sourced
    idle_w: Sourced
    peak_power_w: Sourced | None = None


@dataclass(frozen=True)
class Overheads:
    launch_s: Sourced
    sync_s: Sourced
    framework_dispatch_s: Sourced | None = None
    # Rate at which fresh pages of a new allocation are faulted in and zeroed by the OS on
    # their first write (CPU devices; measured by perf-calibrate, no datasheet gives it).
    first_touch_bytes_per_s: Sourced | None = None
    # The part of that cost paid when the pages go back to the OS (munmap, or glibc trimming
    # its heap), at the rate pages are released: the time lands where the buffer is freed,
    # which in a compiled graph is the wrapper's `del`, not the kernel that faulted it. CPU
    # devices, measured by perf-calibrate; without it the whole cost stays with the kernel.
    page_release_bytes_per_s: Sourced | None = None
    # Rate at which a tensor is copied between PyTorch's NCHW layout and a channels-blocked
    # one (tensor bytes per second; a transposing copy, far slower than a plain one). CPU
    # devices, measured by perf-calibrate; without it a reorder runs at the cache's copy rate.
    layout_reorder_bytes_per_s: Sourced | None = None
    # Fixed cost of one call into a kernel library beyond the framework's dispatch, by
    # "op_class:precision" (eager oneDNN convolutions on the 2-core test VMs: 41-52 us in
    # FP32 and BF16). Measured by perf-calibrate; no datasheet gives it: the probed host
    # carries this project's measurements (targets/host.py), catalog devices leave it out.
    library_call_s: Mapping[str, Sourced] = dataclasses.field(default_factory=dict)
    # Start of one compiled program, paid once per inference (with sync_s to collect the
    # result), on a device that runs a whole model as one program (an XLA program step, the
    # Edge TPU delegate's invoke); launch_s is then what each kernel inside it adds.
    program_launch_s: Sourced | None = None
    # Fixed cost of calling a torch.compile'd graph beyond what its kernels cost: Dynamo's
    # frame evaluation and guard check and the compiled wrapper's entry, once per inference
    # of a compiled (fused) graph. Measured by perf-calibrate (a one-op module compiled less
    # the same module eager); no datasheet gives it.
    compiled_call_s: Sourced | None = None
    # Dynamo's guard check on every call of a compiled graph, per parameter of the model it
    # compiled (each parameter tensor and the module attributes around it are guarded:
    # about 20 guards per convolution + batch norm). Measured by perf-calibrate and
    # bench/dynamo_guards.py (Zen 5 VM, torch 2.14.1: 4.7 us, eleven zoo models from -26%
    # to +44% of it); no datasheet gives it.
    guard_check_per_parameter_s: Sourced | None = None


@dataclass(frozen=True)
class PowerMode:
    name: str
    description: str
    tdp_w: Sourced | None = None
    idle_w: Sourced | None = None
    units: Sourced | None = None
    clock_hz: Sourced | None = None
    dram_bandwidth_bytes_per_s: Sourced | None = None


@dataclass(frozen=True)
class Execution:
    """What running `precision` on this device means: where, in what, at what rate."""

    precision: str
    computed_as: str
    unit: str
    peak_flops: float
    cost_factor: float
    emulated: bool


@dataclass(frozen=True)
class Device:
    """One device in one power mode (``power_mode`` is None for devices without modes)."""

    name: str
    device_class: str
    vendor: str
    product: str
    notes: str
    sources: Mapping[str, str]
    compute: ComputeSpec
    execution_units: tuple[ExecutionUnit, ...]
    emulation: Mapping[str, Emulation]
    memory: tuple[MemoryLevel, ...]
    energy: EnergySpec
    overheads: Overheads
    gpu: GpuSpec | None = None
    tpu: TpuSpec | None = None
    kpu: KpuSpec | None = None
    cpu: CpuSpec | None = None
    power_modes: Mapping[str, PowerMode] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}))
    default_power_mode: str | None = None
    power_mode: str | None = None

    # ---- precisions and peaks

    def is_native(self, precision: str) -> bool:
        _check_precision(precision)
        return any(precision in u.peak for u in self.execution_units)

    def precision_status(self, precision: str) -> str:
        """"native", "emulated" or "refused"."""
        if self.is_native(precision):
            return "native"
        return "emulated" if self.emulation[precision].mode == "upcast" else "refused"

    def supports(self, precision: str) -> bool:
        """True when the device can compute the precision, natively or by upcasting."""
        return self.precision_status(precision) != "refused"

    def emulation_for(self, precision: str) -> Emulation | None:
        _check_precision(precision)
        return self.emulation.get(precision)

    def unit(self, name: str) -> ExecutionUnit:
        for u in self.execution_units:
            if u.name == name:
                return u
        raise CatalogError(f"{self.name}: no execution unit {name!r}; units: "
                           f"{', '.join(u.name for u in self.execution_units)}")

    def unit_for(self, precision: str) -> ExecutionUnit:
        """The unit with the highest native peak for `precision`."""
        candidates = [u for u in self.execution_units if precision in u.peak]
        if not candidates:
            raise UnsupportedPrecisionError(
                f"{self.name}: {precision} is {self.precision_status(precision)}, not native")
        return max(candidates, key=lambda u: float(u.peak[precision].value))

    def peak_flops(self, precision: str, unit: str | None = None) -> float:
        """Dense native peak (FLOP/s or op/s) on `unit`, or on the best unit."""
        return float(self.peak_figure(precision, unit).value)

    def peak_figure(self, precision: str, unit: str | None = None) -> Sourced:
        _check_precision(precision)
        u = self.unit(unit) if unit else self.unit_for(precision)
        if precision not in u.peak:
            raise UnsupportedPrecisionError(
                f"{self.name}: unit {u.name} does not execute {precision}; it executes "
                f"{', '.join(u.peak)}")
        return u.peak[precision]

    def execution_for(self, precision: str) -> Execution:
        """Where and how fast `precision` runs, following the emulation table."""
        status = self.precision_status(precision)
        if status == "refused":
            raise UnsupportedPrecisionError(
                f"{self.name} refuses {precision}: {self.emulation[precision].reason}")
        if status == "native":
            u = self.unit_for(precision)
            return Execution(precision, precision, u.name, float(u.peak[precision].value),
                             1.0, False)
        emu = self.emulation[precision]
        u = self.unit_for(emu.via)
        cost = float(emu.cost_factor.value)
        return Execution(precision, emu.via, u.name, float(u.peak[emu.via].value) / cost,
                         cost, True)

    def energy_per_op_pj(self, precision: str, unit: str | None = None) -> float:
        """Dynamic energy per op (pJ) of the native `precision` on `unit` (or the best unit)."""
        u = self.unit(unit) if unit else self.unit_for(precision)
        return float(u.energy_pj_per_op[precision].value)

    # ---- memory

    def memory_level(self, name: str) -> MemoryLevel:
        for level in self.memory:
            if level.name == name:
                return level
        raise CatalogError(f"{self.name}: no memory level {name!r}; levels: "
                           f"{', '.join(m.name for m in self.memory)}")

    @property
    def outermost_memory(self) -> MemoryLevel:
        """The off-chip level (HBM / DRAM / host memory) that holds weights."""
        return self.memory[-1]

    def total_capacity_bytes(self, level: MemoryLevel | str) -> float:
        lvl = self.memory_level(level) if isinstance(level, str) else level
        per = float(lvl.capacity_bytes.value)
        return per * float(self.compute.units.value) if lvl.scope == "per_unit" else per

    # ---- provenance

    def figures(self) -> Iterator[tuple[str, Sourced]]:
        """Every number of the device with a dotted path, for listings and audits."""
        yield from _walk_figures(self, "")


def _walk_figures(obj: Any, prefix: str) -> Iterator[tuple[str, Sourced]]:
    if isinstance(obj, Sourced):
        yield prefix, obj
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _walk_figures(getattr(obj, f.name), f"{prefix}.{f.name}".lstrip("."))
    elif isinstance(obj, Mapping):
        for key, val in obj.items():
            yield from _walk_figures(val, f"{prefix}.{key}")
    elif isinstance(obj, tuple):
        for item in obj:
            label = getattr(item, "name", None)
            if label is not None:
                yield from _walk_figures(item, f"{prefix}.{label}")


def _check_precision(precision: str) -> None:
    """The shared precision check (targets/precision.py), raised as a CatalogError so callers
    of the catalog catch one exception family."""
    try:
        check_precision(precision)
    except UnknownPrecisionError as err:
        raise CatalogError(str(err)) from None
