"""Device catalog: typed, sourced hardware descriptions read from ``targets/devices/*.toml``.

Why this exists: every latency, energy and memory figure perf-opt prints is only as good as the
hardware numbers behind it, so every number carries its provenance and the loader refuses a
number without one.  Passes ask this module for physics (peak rate of a precision on a unit,
bandwidth of a memory level, energy per op) and never hard-code hardware.  Stdlib only; no IR,
no torch.

Schema of a device file (file name == device name; ``host`` is built at run time by
``targets/host.py`` instead)::

    schema  = 1
    name    = "a100-sxm4-80gb"
    class   = "gpu"                         # gpu | tpu | kpu | cpu
    vendor  = "NVIDIA"
    product = "NVIDIA A100-SXM4-80GB ..."
    notes   = "..."                         # optional free text
    default_power_mode = "maxn"             # only with [power_modes]
    base    = "h100-sxm5"                   # optional: start from that file's tables; this
                                            # file's tables merge over them, a [[memory]]
                                            # level replaces the base's of the same name

    [sources]                               # bibliography: key -> full citation
    a100_wp = "NVIDIA, 'NVIDIA A100 Tensor Core GPU Architecture' whitepaper, 2020, ..."

    # A *figure* is an inline table; a bare number anywhere is rejected:
    #   { value = 108, source = "a100_wp" }
    #   { value = 3.12e14, source = "a100_wp", kind = "derived",
    #     formula = "108 * 1024 * 2 * 1.41e9" }
    # source  : one bibliography key or a list of keys (required)
    # kind    : spec (default) | measured | derived | assumption
    # formula : plain arithmetic (+ - * / ** and parentheses); required for `derived`;
    #           when present it is evaluated and must match value within 1 %
    # note    : free text; required for `assumption`

    [compute]      unit_name, units, boost_clock_hz, [base_clock_hz]
    [gpu]          compute_capability, warp_size, max_threads_per_unit, max_warps_per_unit,
                   max_blocks_per_unit, registers_per_unit, shared_memory_per_unit_bytes,
                   tensor_cores_per_unit
    [tpu]          systolic_rows, systolic_cols, mxus_per_core, cores_per_chip
    [kpu]          tiles, scratchpad_per_tile_bytes, [pe_rows, pe_cols, shared_sram_bytes]
    [cpu]          p_cores, threads, simd_width_bits, fma_units_per_core, all_core_clock_hz,
                   [e_cores, e_core_clock_hz], isa_extensions = [...], matrix_extensions = [...]

    [execution_units.<name>]                # e.g. cuda_core, tensor_core, simd, amx, mxu, vpu
    kind = "matrix"          # scalar | simd | simt | vector | matrix | systolic | tile
    description = "..."
    clock_hz = {...}                        # the clock the peaks below are quoted at
    [execution_units.<name>.peak]           # dense (no sparsity) FLOP/s, or op/s for integers
    bf16 = {...}                            # a precision the unit cannot execute is absent
    [execution_units.<name>.energy_pj_per_op]   # optional; missing entries are
                                # derived as (tdp_w - idle_w) / peak (an upper bound)

    [emulation]                             # every precision no unit executes natively
    fp8 = { mode = "upcast", via = "fp16", cost_factor = {...}, reason = "..." }
    fp64 = { mode = "refuse", reason = "..." }
    #   upcast: computed in the native precision `via`; effective rate = peak(via) / cost_factor
    #   refuse: the device cannot run it; the passes must report an error

    [[memory]]                              # ordered nearest-first
    name = "l2"; kind = "l2"                # registers|l1|shared|l2|l3|llc|cmem|vmem|sram|
                                            # scratchpad|shared_sram|hbm|dram
    scope = "total"                         # capacity per compute unit ("per_unit") or "total"
    capacity_bytes = {...}
    bandwidth_bytes_per_s = {...}           # peak, aggregate over the whole device
    measured_bandwidth_bytes_per_s = {...}  # optional published measurement (wins for
                                            # achievable bandwidth; the spec stays the peak)
    energy_pj_per_byte = {...}
    #   Loader check: bandwidth non-increasing and reach capacity (per-unit capacity for
    #   per_unit levels, total otherwise) non-decreasing, nearest-first.

    [energy]       tdp_w, idle_w, [peak_power_w]
    [overheads]    launch_s, sync_s, [framework_dispatch_s, first_touch_bytes_per_s,
                                      page_release_bytes_per_s,
                                      layout_reorder_bytes_per_s, program_launch_s,
                                      compiled_call_s, guard_check_per_parameter_s]
        # compiled_call_s once per inference of a torch.compile'd graph, and
        # guard_check_per_parameter_s per parameter of its model;
        # launch_s per kernel; program_launch_s (+ sync_s) once per inference where the
        # device runs the whole model as one compiled program
    [power_modes.<name>]   description,
                           [tdp_w, idle_w, units, clock_hz, dram_bandwidth_bytes_per_s]
        # units/clock scale every unit's peak by (units/base units) * (clock/unit clock);
        # on-chip bandwidths scale likewise; dram_bandwidth overrides the outermost level.

Precision names are exactly ``PRECISIONS`` of targets/precision.py.  Every precision is native
on some unit, emulated (upcast) or refused, and ``describe()`` says which.

API: ``list_devices()`` (file names, not parsed, plus ``host``); ``load_device(name,
power_mode=None)`` -> frozen ``Device`` (``UnknownDeviceError`` / ``UnknownPowerModeError`` list
the valid choices); ``Device.peak_flops(precision, unit=None)``, ``unit_for``,
``execution_for`` (follows the emulation table), ``supports``, ``precision_status``,
``energy_per_op_pj``, ``memory_level``, ``outermost_memory``, ``figures()`` (every number with
its path); ``describe(device)`` for ``perf-opt --describe-device``.  Figures the loader computes
(power-mode scaling, energy bounds) carry their formula, and anything computed from an
assumption is itself labelled an assumption.

This module is the public facade; the work lives in one file per job:
targets/device_model.py (the frozen ``Device`` and its queries), targets/device_file.py (TOML
parsing and validation, formulas), targets/derived_figures.py (power modes, energy bounds),
targets/device_describe.py (``describe()``) and targets/catalog_errors.py.  Import from here.
"""

from __future__ import annotations

import functools
from pathlib import Path

from targets.catalog_errors import (
    CatalogError, UnknownDeviceError, UnknownPowerModeError, UnsupportedPrecisionError,
)
from targets.derived_figures import apply_power_mode, finish_device, select_power_mode
from targets.device_describe import describe
from targets.device_file import (
    DEVICE_CLASSES, FIGURE_KINDS, FORMULA_TOLERANCE, MEMORY_KINDS, SCOPES, UNIT_KINDS,
    build_device, evaluate_formula, read_device_file,
)
from targets.device_model import (
    ComputeSpec, CpuSpec, Device, Emulation, EnergySpec, Execution, ExecutionUnit, GpuSpec,
    KpuSpec, MemoryLevel, Overheads, PowerMode, Sourced, TpuSpec,
)
from targets.precision import PRECISIONS

__all__ = [
    "CatalogError", "UnknownDeviceError", "UnknownPowerModeError", "UnsupportedPrecisionError",
    "ComputeSpec", "CpuSpec", "Device", "Emulation", "EnergySpec", "Execution", "ExecutionUnit",
    "GpuSpec", "KpuSpec", "MemoryLevel", "Overheads", "PowerMode", "Sourced", "TpuSpec",
    "DEVICE_CLASSES", "DEVICES_DIR", "FIGURE_KINDS", "FORMULA_TOLERANCE", "HOST",
    "MEMORY_KINDS", "PRECISIONS", "SCOPES", "UNIT_KINDS",
    "apply_power_mode", "build_device", "describe", "evaluate_formula", "finish_device",
    "list_devices", "load_device", "load_device_file",
]

HOST = "host"
DEVICES_DIR = Path(__file__).resolve().parent / "devices"


def list_devices() -> list[str]:
    """Device names: one per TOML file (not parsed) plus the run-time `host` device."""
    return sorted({p.stem for p in DEVICES_DIR.glob("*.toml")} | {HOST})


def load_device(name: str, power_mode: str | None = None) -> Device:
    """The named device, with `power_mode` (or the file's default mode) applied."""
    if name == HOST:
        from targets import host  # lazy: host probing touches the OS
        return select_power_mode(host.build_host_device(), power_mode)
    path = DEVICES_DIR / f"{name}.toml"
    if not path.is_file():
        raise UnknownDeviceError(
            f"unknown device {name!r}; valid devices: {', '.join(list_devices())}")
    return _load_file_cached(str(path), power_mode)


def load_device_file(path: str | Path, power_mode: str | None = None) -> Device:
    """Load and validate one device file (used for catalogs outside targets/devices)."""
    return _load_file_cached(str(Path(path).resolve()), power_mode)


@functools.lru_cache(maxsize=None)
def _load_file_cached(path: str, power_mode: str | None) -> Device:
    """Files are parsed once per (path, mode): every pass of a pipeline asks again."""
    return select_power_mode(read_device_file(path), power_mode)
