"""`perf-opt --list-devices` and `--describe-device NAME`: the hardware catalog as text.

Why here and not in tools/: the tool only parses arguments; the table and the error handling
are ordinary code that tests can call.  The catalog (targets/catalog.py) owns every number
and `describe()`; this module only chooses what a one-line summary shows.

A device with power modes (Jetson, Orin CPU) is listed and described in its default mode; the
description ends with every mode and what it overrides.  There is deliberately no `NAME:MODE`
syntax here; code reaches another mode through `targets.catalog.load_device(name, power_mode)`.
"""

from __future__ import annotations

from targets.catalog import CatalogError, Device, describe, list_devices, load_device
from targets.device_describe import format_si, rate_unit

# The headline peak is the first precision of this list the device runs natively: what a
# buyer compares first (bf16 for training and LLM inference, int8 for edge inference).
HEADLINE_PRECISIONS = ("bf16", "int8", "fp16", "fp32")
COLUMNS = ("NAME", "CLASS", "HEADLINE PEAK", "OUTERMOST MEMORY", "TDP", "POWER MODES", "PRODUCT")
PRODUCT_WIDTH = 56


def list_devices_text() -> str:
    """One row per catalog device; a device file that fails to load gets a row saying why."""
    rows = [COLUMNS]
    for name in list_devices():
        try:
            rows.append(_row(load_device(name)))
        except CatalogError as err:
            rows.append((name, "?", "", "", "", "", f"invalid: {err}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]
             for row in rows]
    lines += ["Peaks are dense; bandwidth is the outermost memory level's spec peak.",
              "* marks the default power mode, the one listed and described.",
              "perf-opt --describe-device NAME shows every figure with its source."]
    return "\n".join(line.rstrip() for line in lines)


def describe_device(name: str) -> tuple[str, int]:
    """(text, exit status): the catalog's description, or a one-line error listing the names."""
    try:
        return describe(load_device(name)), 0
    except CatalogError as err:
        return f"perf-opt: error: {err}", 1


def headline_peak(device: Device) -> str:
    """'312 TFLOP/s bf16': the best native rate of the first headline precision it runs."""
    native = [p for p in HEADLINE_PRECISIONS if device.is_native(p)]
    if not native:
        return "-"
    precision = native[0]
    return f"{format_si(device.peak_flops(precision), rate_unit(precision))} {precision}"


def _row(device: Device) -> tuple[str, ...]:
    memory = device.outermost_memory
    bandwidth = format_si(float(memory.bandwidth_bytes_per_s.value), "B/s")
    modes = ", ".join(m + ("*" if m == device.default_power_mode else "")
                      for m in device.power_modes) or "-"
    product = device.product
    if len(product) > PRODUCT_WIDTH:
        product = product[:PRODUCT_WIDTH - 3].rstrip() + "..."
    return (device.name, device.device_class, headline_peak(device),
            f"{bandwidth} {memory.name}", f"{float(device.energy.tdp_w.value):.4g} W", modes,
            product)
