"""``describe()``: a device as text, every figure with its provenance.

Why: ``perf-opt --describe-device`` is how a user checks a number before trusting a report
built on it, so each line shows the value, its kind (spec / measured / derived / assumption),
its source keys and any formula, and every precision says whether it is native, emulated (and
at what cost) or refused.  The unit formatters are shared with the device listing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from targets.device_model import Device, Sourced
from targets.precision import PRECISIONS

_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def format_si(value: float, unit: str) -> str:
    """`value` with an SI prefix (3.12e14, "FLOP/s" -> "312 TFLOP/s"); sub-unit seconds in us."""
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    if unit == "s":
        return f"{value * 1e6:.4g} us"
    return f"{value:.4g} {unit}"


def rate_unit(precision: str) -> str:
    """Integers count operations, floats count FLOPs."""
    return "op/s" if precision.startswith("int") else "FLOP/s"


def format_bytes(value: float) -> str:
    """Capacities in binary units (KiB ... TiB), as datasheets quote memory sizes."""
    for scale, prefix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= scale:
            return f"{value / scale:.4g} {prefix}"
    return f"{value:.0f} B"


def _fig(fig: Sourced | None, fmt: Any) -> str:
    if fig is None:
        return "n/a"
    return f"{fmt(float(fig.value))}  [{fig.provenance()}]"


def describe(device: Device) -> str:
    """Multi-line human description: every figure with its source, and each precision's status."""
    d = device
    n = lambda v: f"{v:.6g}"  # noqa: E731 - tiny formatter
    lines = [f"{d.name}: {d.product}", f"  class {d.device_class}, vendor {d.vendor}"
             + (f", power mode {d.power_mode}" if d.power_mode else "")]
    if d.notes:
        lines.append(f"  notes: {d.notes}")
    c = d.compute
    lines += ["compute:",
              f"  {c.unit_name}s: {_fig(c.units, n)}",
              f"  boost clock: {_fig(c.boost_clock_hz, lambda v: format_si(v, 'Hz'))}",
              f"  base clock: {_fig(c.base_clock_hz, lambda v: format_si(v, 'Hz'))}"]
    spec = d.gpu or d.tpu or d.kpu or d.cpu
    lines.append(f"{d.device_class} details:")
    for f in dataclasses.fields(spec):
        val = getattr(spec, f.name)
        if isinstance(val, Sourced):
            fmt = format_bytes if f.name.endswith("_bytes") else (
                (lambda v: format_si(v, "Hz")) if f.name.endswith("_hz") else n)
            lines.append(f"  {f.name}: {_fig(val, fmt)}")
        elif val not in (None, ()):
            lines.append(f"  {f.name}: {', '.join(val) if isinstance(val, tuple) else val}")
    lines.append("execution units (dense peak; energy per op):")
    for u in d.execution_units:
        lines.append(f"  {u.name} ({u.kind}) {u.description}")
        lines.append(f"    clock: {_fig(u.clock_hz, lambda v: format_si(v, 'Hz'))}")
        for prec, fig in u.peak.items():
            lines.append(f"    {prec:5s} peak {_fig(fig, lambda v: format_si(v, rate_unit(prec)))}")
            energy = _fig(u.energy_pj_per_op.get(prec), lambda v: f"{v:.4g} pJ/op")
            lines.append(f"          energy {energy}")
    lines.append("precisions:")
    for prec in PRECISIONS:
        status = d.precision_status(prec)
        if status == "native":
            ex = d.execution_for(prec)
            rate = format_si(ex.peak_flops, rate_unit(prec))
            lines.append(f"  {prec:5s} native on {ex.unit}: {rate}")
        elif status == "emulated":
            ex, emu = d.execution_for(prec), d.emulation[prec]
            rate = format_si(ex.peak_flops, rate_unit(prec))
            lines.append(f"  {prec:5s} emulated: computed as {emu.via} on {ex.unit}, cost x"
                         f"{_fig(emu.cost_factor, n)} -> {rate}; {emu.reason}")
        else:
            lines.append(f"  {prec:5s} refused: {d.emulation[prec].reason}")
    lines.append("memory (nearest first; bandwidth aggregate over the device):")
    bw = lambda v: format_si(v, "B/s")  # noqa: E731 - tiny formatter
    for lvl in d.memory:
        note = f" - {lvl.note}" if lvl.note else ""
        lines.append(f"  {lvl.name} ({lvl.kind}, {lvl.scope}){note}")
        lines.append(f"    capacity {_fig(lvl.capacity_bytes, format_bytes)}")
        lines.append(f"    bandwidth {_fig(lvl.bandwidth_bytes_per_s, bw)}")
        if lvl.measured_bandwidth_bytes_per_s:
            lines.append(f"    measured bandwidth (wins for achievable) "
                         f"{_fig(lvl.measured_bandwidth_bytes_per_s, bw)}")
        lines.append(f"    energy {_fig(lvl.energy_pj_per_byte, lambda v: f'{v:.4g} pJ/B')}")
    e, o = d.energy, d.overheads
    lines += ["energy:",
              f"  TDP {_fig(e.tdp_w, lambda v: f'{v:.4g} W')}",
              f"  idle {_fig(e.idle_w, lambda v: f'{v:.4g} W')}",
              f"  peak power {_fig(e.peak_power_w, lambda v: f'{v:.4g} W')}",
              "overheads:",
              f"  launch {_fig(o.launch_s, lambda v: format_si(v, 's'))}",
              f"  sync {_fig(o.sync_s, lambda v: format_si(v, 's'))}",
              *([f"  program launch (once per inference) "
                 f"{_fig(o.program_launch_s, lambda v: format_si(v, 's'))}"]
                if o.program_launch_s is not None else []),
              f"  framework dispatch {_fig(o.framework_dispatch_s, lambda v: format_si(v, 's'))}"]
    if o.first_touch_bytes_per_s is not None:
        lines.append(f"  first touch of fresh memory {_fig(o.first_touch_bytes_per_s, bw)}")
    if o.page_release_bytes_per_s is not None:
        lines.append(f"  releasing fresh memory (part of its first touch) {_fig(o.page_release_bytes_per_s, bw)}")
    if o.layout_reorder_bytes_per_s is not None:
        lines.append(f"  NCHW <-> blocked layout reorder {_fig(o.layout_reorder_bytes_per_s, bw)}")
    for key, fig in o.library_call_s.items():
        lines.append(f"  library call {key} {_fig(fig, lambda v: format_si(v, 's'))}")
    if o.compiled_call_s is not None:
        lines.append(f"  compiled graph call (once per inference) "
                     f"{_fig(o.compiled_call_s, lambda v: format_si(v, 's'))}")
    if o.guard_check_per_parameter_s is not None:
        lines.append(f"  compiled graph guard check per parameter "
                     f"{_fig(o.guard_check_per_parameter_s, lambda v: format_si(v, 's'))}")
    if d.power_modes:
        lines.append(f"power modes (default {d.default_power_mode}):")
        for mode in d.power_modes.values():
            parts = [f"{k}={_fig(getattr(mode, k), n)}" for k in
                     ("tdp_w", "units", "clock_hz", "dram_bandwidth_bytes_per_s")
                     if getattr(mode, k) is not None]
            lines.append(f"  {mode.name}: {mode.description}")
            lines += [f"    {p}" for p in parts]
    lines.append("sources:")
    lines += [f"  [{key}] {text}" for key, text in d.sources.items()]
    return "\n".join(lines)
