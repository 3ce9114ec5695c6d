"""Figures the loader computes rather than reads: power-mode and clock scaling, energy-per-op bounds.

Why a separate step: a device file states one configuration (the datasheet's), while a Jetson
runs in 15 W or MAXN and a file may leave an energy per op open.  Both are derived here, after
validation, and every derived figure carries its formula, merges the sources of its inputs,
and stays an ``assumption`` if any input was one, so ``describe()`` can show how it was made.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from targets.catalog_errors import CatalogError, UnknownPowerModeError
from targets.device_model import Device, PowerMode, Sourced


def select_power_mode(device: Device, power_mode: str | None) -> Device:
    """`device` in `power_mode` (or its default mode), with every open figure derived."""
    mode = power_mode or device.default_power_mode
    if mode is None:
        return finish_device(device)
    if mode not in device.power_modes:
        valid = ", ".join(device.power_modes) or "none (device has no power modes)"
        raise UnknownPowerModeError(
            f"{device.name}: unknown power mode {mode!r}; valid power modes: {valid}")
    return finish_device(apply_power_mode(device, device.power_modes[mode]))


def _scaled(fig: Sourced, factor: float, why: str, *extra: Sourced | None) -> Sourced:
    """A figure scaled by a power mode; keeps the provenance of every input."""
    inputs = (fig,) + tuple(x for x in extra if x is not None)
    return _derived(float(fig.value) * factor, inputs,
                    f"{float(fig.value):.6g} * {factor:.6g}", why)


def _derived(value: float, inputs: tuple[Sourced, ...], formula: str, note: str) -> Sourced:
    """A figure computed by the loader: sources merged, and an assumption stays an assumption."""
    keys = tuple(dict.fromkeys(k for x in inputs for k in x.source))
    cites = tuple(dict.fromkeys(c for x in inputs for c in x.citations))
    kind = "assumption" if any(x.kind == "assumption" for x in inputs) else "derived"
    return Sourced(value=value, source=keys, kind=kind, formula=formula, note=note,
                   citations=cites)


def apply_power_mode(device: Device, mode: PowerMode) -> Device:
    """Override clocks, enabled units, TDP and DRAM bandwidth; rescale peaks and bandwidths."""
    base_units = float(device.compute.units.value)
    base_clock = float(device.compute.boost_clock_hz.value)
    units = mode.units or device.compute.units
    unit_ratio = float(units.value) / base_units
    units_out = []
    for u in device.execution_units:
        clock = mode.clock_hz or u.clock_hz
        factor = unit_ratio * min(float(clock.value), float(u.clock_hz.value)) / float(
            u.clock_hz.value)
        why = (f"power mode {mode.name}: x{float(units.value):g}/{base_units:g} "
               f"{device.compute.unit_name}s x clock {float(clock.value):.6g}/"
               f"{float(u.clock_hz.value):.6g} Hz")
        peak = {p: _scaled(f, factor, why, mode.units, mode.clock_hz) for p, f in u.peak.items()}
        units_out.append(replace(u, clock_hz=clock if mode.clock_hz else u.clock_hz,
                                 peak=MappingProxyType(peak)))
    clock_ratio = float((mode.clock_hz or device.compute.boost_clock_hz).value) / base_clock
    levels = []
    for i, lvl in enumerate(device.memory):
        outermost = i == len(device.memory) - 1
        if outermost:
            if mode.dram_bandwidth_bytes_per_s:
                lvl = replace(lvl, bandwidth_bytes_per_s=mode.dram_bandwidth_bytes_per_s,
                              measured_bandwidth_bytes_per_s=None)
        else:
            factor = clock_ratio * (unit_ratio if lvl.scope == "per_unit" else 1.0)
            lvl = replace(lvl, bandwidth_bytes_per_s=_scaled(
                lvl.bandwidth_bytes_per_s, factor,
                f"power mode {mode.name}: on-chip bandwidth follows clock"
                + (" and enabled units" if lvl.scope == "per_unit" else ""),
                mode.units, mode.clock_hz))
        if levels and float(lvl.bandwidth_bytes_per_s.value) > float(
                levels[-1].bandwidth_bytes_per_s.value):
            lvl = replace(lvl, bandwidth_bytes_per_s=_scaled(
                levels[-1].bandwidth_bytes_per_s, 1.0,
                f"power mode {mode.name}: limited by the nearer level {levels[-1].name}, "
                f"through which the data reaches the cores"))
        levels.append(lvl)
    compute = replace(device.compute, units=units,
                      boost_clock_hz=mode.clock_hz or device.compute.boost_clock_hz)
    energy = replace(device.energy, tdp_w=mode.tdp_w or device.energy.tdp_w,
                     idle_w=mode.idle_w or device.energy.idle_w)
    return replace(device, compute=compute, execution_units=tuple(units_out),
                   memory=tuple(levels), energy=energy, power_mode=mode.name)


def with_clock(device: Device, clock: Sourced, why: str) -> Device:
    """`device` with every execution unit at `clock`: a unit's peaks are per-cycle rates
    times its clock, so they scale by clock / the unit's clock; on-chip bandwidths (bytes
    per cycle) follow the cores' clock, DRAM's does not.  Energy per op stays: the voltage
    a clock needs is not modelled."""
    hz = float(clock.value)
    cores = device.cpu.all_core_clock_hz if device.cpu is not None else device.compute.boost_clock_hz

    def scaled(fig: Sourced, old: Sourced) -> Sourced:
        return _derived(float(fig.value) * hz / float(old.value), (fig, clock),
                        f"{float(fig.value):.6g} * {hz:.6g} / {float(old.value):.6g}", why)

    units = tuple(replace(u, clock_hz=clock, peak=MappingProxyType(
        {p: scaled(f, u.clock_hz) for p, f in u.peak.items()})) for u in device.execution_units)
    levels = tuple(lvl if i == len(device.memory) - 1 else replace(
        lvl, bandwidth_bytes_per_s=scaled(lvl.bandwidth_bytes_per_s, cores),
        measured_bandwidth_bytes_per_s=(lvl.measured_bandwidth_bytes_per_s and scaled(
            lvl.measured_bandwidth_bytes_per_s, cores)))
        for i, lvl in enumerate(device.memory))
    out = replace(device, execution_units=units, memory=levels,
                  compute=replace(device.compute, boost_clock_hz=clock))
    if device.cpu is not None:
        out = replace(out, cpu=replace(device.cpu, all_core_clock_hz=clock))
    return out


def finish_device(device: Device) -> Device:
    """Derive every energy-per-op the file leaves open: (TDP - idle) / peak, an upper bound
    that attributes all dynamic power at TDP to that unit running flat out."""
    tdp, idle = device.energy.tdp_w, device.energy.idle_w
    dynamic_w = float(tdp.value) - float(idle.value)
    if dynamic_w <= 0:
        raise CatalogError(f"{device.name}: idle power must be below TDP")
    units = []
    for u in device.execution_units:
        energy = dict(u.energy_pj_per_op)
        for prec, peak in u.peak.items():
            if prec in energy:
                continue
            energy[prec] = _derived(
                dynamic_w / float(peak.value) * 1e12, (tdp, idle, peak),
                f"({float(tdp.value):.6g} - {float(idle.value):.6g}) / "
                f"{float(peak.value):.6g} * 1e12",
                "upper bound: (TDP - idle) / peak; all dynamic power charged to compute")
        units.append(replace(u, energy_pj_per_op=MappingProxyType(energy)))
    return replace(device, execution_units=tuple(units))

