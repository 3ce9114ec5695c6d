"""What every map-* pass shares: load and check the device, turn each unit into a
`perf.<target>_kernel` whose attributes are the mapping the target's model computed.

The physics lives in `targets/<target>_model.py` (plain Python, tested without IR); this
module only moves data between IR and those models. A mapped kernel carries every field
the cost pass needs, so nothing travels outside the IR.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import sys
from dataclasses import dataclass, field
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, ModuleOp, StringAttr, f64, i1, i64
from xdsl.ir import Attribute, Operation
from xdsl.passes import ModulePass

from dialects.perf import KERNEL_OPS, KernelOp, RegionUnitOp
from passes import units as U
from passes.diagnostic import DiagnosticError
from passes.fuse import FUSED_ATTR, kind
from passes.liveness import FreshPages, Schedule, schedule
from passes.outline import outline, rewrap
from targets.calibration import load as load_calibration
from targets.catalog import HOST, CatalogError, Device, Sourced, load_device
from targets.derived_figures import with_clock
from targets.workload import Mapping

TARGET_ATTR, DEVICE_ATTR, POWER_MODE_ATTR = "perf.target", "perf.device", "perf.power_mode"
UTILIZATION_ATTR, EFFICIENCY_ATTR = "perf.utilization", "perf.efficiency"
CALIBRATION_ATTR = "perf.calibration"  # the calibration file map-* applied (cost re-applies it)
CALIBRATION_KERNEL_ATTR = "calibration_kernel"  # the benchmark of this exact shape that set the efficiency
CLOCK_ATTR = "perf.clock_hz"  # the clock a map pass's clock-ghz option set (cost re-applies it)
# A clock-ghz outside this range is a typo (MHz or Hz given), not a what-if.
CLOCK_GHZ_RANGE = (0.05, 10.0)
MAP_PASS = {"gpu": "map-gpu", "tpu": "map-tpu", "kpu": "map-kpu", "cpu": "map-cpu"}

# Mapping fields stored on kernels under these attribute names (precision is renamed so
# it does not collide with the graph ops' own `precision`).
_FIELD_ATTRS = {"precision": "exec_precision"}


@functools.lru_cache(maxsize=65536)
def _cached_attribute(kind: type, value) -> Attribute:
    if kind is bool:
        return IntegerAttr(int(value), i1)
    if kind is int:
        return IntegerAttr(value, i64)
    if kind is float:
        return FloatAttr(value, f64)
    return StringAttr(str(value))


def to_attribute(value) -> Attribute:
    """A Python scalar as an attribute (shared: xDSL verifies every new attribute)."""
    return _cached_attribute(type(value) if isinstance(value, (bool, int, float)) else str, value)


def from_attribute(attr: Attribute):
    if isinstance(attr, IntegerAttr):
        value = attr.value.data
        return bool(value) if attr.type == i1 else value
    if isinstance(attr, FloatAttr):
        return attr.value.data
    if isinstance(attr, StringAttr):
        return attr.data
    return attr


def attribute_value(op: Operation, key: str, default=None):
    """The Python value of `op`'s attribute `key` (from_attribute), or `default` without it."""
    attr = op.attributes.get(key)
    return from_attribute(attr) if attr is not None else default


def mapping_attributes(mapping: Mapping) -> dict[str, Attribute]:
    attrs = {}
    for f in dataclasses.fields(mapping):
        if f.name == "details":
            continue
        attrs[_FIELD_ATTRS.get(f.name, f.name)] = to_attribute(getattr(mapping, f.name))
    for key, value in mapping.details.items():
        attrs[key] = to_attribute(value)
    return attrs


def mapping_of(kernel: KernelOp) -> Mapping:
    """The Mapping a map pass stored on a kernel (the inverse of mapping_attributes)."""
    values = {}
    for f in dataclasses.fields(Mapping):
        if f.name == "details":
            continue
        attr = kernel.attributes.get(_FIELD_ATTRS.get(f.name, f.name))
        if attr is None:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DiagnosticError(f"kernel lacks the mapping attribute '{f.name}'", kernel)
            continue
        values[f.name] = from_attribute(attr)
    return Mapping(**values)


def check_device(name: str, power_mode: str | None, target: str) -> Device:
    """The device, or a ValueError that names the valid devices or the right pass."""
    try:
        device = load_device(name, power_mode)
    except CatalogError as err:
        raise ValueError(str(err)) from None
    if device.device_class != target:
        raise ValueError(f"device '{name}' is a {device.device_class}: use {MAP_PASS[device.device_class]}, "
                         f"not {MAP_PASS[target]}")
    return device


def configured_device(device: Device, calibration: str | None, clock_hz: float | None) -> Device:
    """A catalog device with what a map pass's options change: the calibration's measured
    figures, then the clock the user set (it wins: a what-if on top of the measurement)."""
    if calibration is not None:
        device = load_calibration(calibration).apply(device)
    if clock_hz is not None:
        device = with_clock(device, Sourced(
            clock_hz, ("pass_option",), "assumption", note=f"set by the {MAP_PASS[device.device_class]} "
            f"option clock-ghz={clock_hz / 1e9:g}, not measured",
            citations=("perf-opt pass option clock-ghz",)), "scaled to the clock-ghz option")
    return device


def mapped_device(module: ModuleOp) -> Device:
    """The device a map-* pass placed `module` on: catalog entry, power mode, the
    calibration and clock it applied (module attributes), so later passes cost with the same
    figures."""
    def text(key: str) -> str | None:
        attr = module.attributes.get(key)
        return attr.data if isinstance(attr, StringAttr) else None

    return configured_device(load_device(text(DEVICE_ATTR), text(POWER_MODE_ATTR)),
                             text(CALIBRATION_ATTR), attribute_value(module, CLOCK_ATTR))


@functools.lru_cache(maxsize=None)
def _warn_if_foreign(path: str) -> None:
    """Warn once per file and process when a calibration names another CPU than this one."""
    from targets.host import probe

    why = load_calibration(path).mismatch(probe())
    if why:
        print(f"warning: {why}", file=sys.stderr)


@dataclass(frozen=True)
class MapPass(ModulePass):
    """Base of map-gpu, map-tpu, map-kpu, map-cpu."""

    TARGET: ClassVar[str]
    device: str = ""
    power_mode: str | None = field(default=None, metadata={"help": "power mode (Jetson: 15w 30w 50w maxn)"})
    calibration: str | None = field(default=None, metadata={
        "help": "calibration file from perf-calibrate (measured efficiencies, bandwidths, overheads)"})
    clock_ghz: float | None = field(default=None, metadata={
        "help": "the clock every compute unit runs at, in GHz: peaks and on-chip bandwidths "
                "scale with it (a what-if, or the clock a VM hides: its /proc/cpuinfo gives the "
                "nominal rate); default: the device's own (a calibration's measured one)"})

    def __post_init__(self):
        device = check_device(self.device, self.power_mode, self.TARGET)
        if self.clock_ghz is not None and not (
                CLOCK_GHZ_RANGE[0] <= self.clock_ghz <= CLOCK_GHZ_RANGE[1]):
            raise ValueError(f"clock-ghz must be a clock in GHz between {CLOCK_GHZ_RANGE[0]:g} "
                             f"and {CLOCK_GHZ_RANGE[1]:g}, got {self.clock_ghz:g}")
        if self.calibration is not None:  # a bad file is a ValueError (CalibrationError) here
            load_calibration(self.calibration).apply(device)
            if self.device == HOST:
                _warn_if_foreign(self.calibration)

    @property
    def clock_hz(self) -> float | None:
        return self.clock_ghz * 1e9 if self.clock_ghz is not None else None

    def model(self):
        """The target's mapping model, `targets/<target>_model.py`."""
        return importlib.import_module(f"targets.{self.TARGET}_model")

    def fresh_pages(self, plan: Schedule, plain_layout: bool, device: Device) -> dict[Operation, FreshPages]:
        """Bytes each unit's outputs fault in afresh per run on `device`; only a host
        allocator does. `plain_layout`: the runtime passes activations in PyTorch's default
        layout (eager)."""
        return {}

    def run_bytes(self, workloads, plain_layout: bool, device: Device) -> int:
        """Bytes the model's kernels move in one run (the caches' reuse distance of a
        weight); 0 where the target's model does not use it."""
        return 0

    def prepared(self, workload):
        """The workload as this pass's options leave it (map-cpu: prepacked weights)."""
        return workload

    def calibration_fractions(self, workload) -> dict[str, float] | None:
        """Measured {op class: fraction of peak} for the workload's size band, or None."""
        if self.calibration is None:
            return None
        return load_calibration(self.calibration).fractions_for(workload)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        device = configured_device(check_device(self.device, self.power_mode, self.TARGET),
                                   self.calibration, self.clock_hz)
        if self.calibration is not None:  # measured bandwidths, overheads (and host clock)
            op.attributes[CALIBRATION_ATTR] = StringAttr(self.calibration)
        if self.clock_hz is not None:
            op.attributes[CLOCK_ATTR] = FloatAttr(self.clock_hz, f64)
        model = self.model()
        kernel_cls = KERNEL_OPS[self.TARGET]
        weighted_util = weighted_eff = total_flops = 0.0
        plan = schedule(op)
        model_weights = sum(plan.weights.values())  # they share the device's on-chip memory
        plain = FUSED_ATTR not in op.attributes  # eager: tensors in PyTorch's default layout
        fresh = self.fresh_pages(plan, plain, device)
        units = list(U.units(op))
        workloads = {u: self.prepared(U.workload(u)) for u in units if not isinstance(u, KernelOp)}
        run_bytes = self.run_bytes(list(workloads.values()), plain, device)
        for unit in units:
            if isinstance(unit, KernelOp):
                raise DiagnosticError(f"already mapped to {unit.TARGET}; run one map pass per pipeline", unit)
            pages = fresh.get(unit)
            workload = dataclasses.replace(workloads[unit], model_weight_bytes=model_weights,
                                           model_run_bytes=run_bytes,
                                           fresh_bytes=pages.total if pages else None,
                                           loop_fresh_bytes=pages.loop if pages else 0,
                                           plain_layout=plain)
            try:
                mapping = model.map_workload(workload, device, self.calibration_fractions(workload))
            except ValueError as err:  # refused precision, impossible mapping
                raise DiagnosticError(f"cannot map '{workload.name}' to {device.name}: {err}", unit) from None
            attrs = mapping_attributes(mapping)
            measured = (load_calibration(self.calibration).kernel_for(workload)
                        if self.calibration is not None else None)
            if measured is not None:  # the efficiency is this very shape's benchmark
                attrs[CALIBRATION_KERNEL_ATTR] = StringAttr(measured[1])
            name = U.unit_name(unit)
            if isinstance(unit, RegionUnitOp):
                kernel = rewrap(unit, kernel_cls, attrs)
            else:
                kernel = outline([unit], kernel_cls, kind(unit), {"name": StringAttr(name), **attrs})
                _carry_unit_attrs(unit, kernel)
            flops = max(workload.flops, 1)
            weighted_util += mapping.utilization * flops
            weighted_eff += mapping.efficiency * flops
            total_flops += flops
        op.attributes.update({
            TARGET_ATTR: StringAttr(self.TARGET), DEVICE_ATTR: StringAttr(device.name),
            UTILIZATION_ATTR: FloatAttr(weighted_util / total_flops if total_flops else 0.0, f64),
            EFFICIENCY_ATTR: FloatAttr(weighted_eff / total_flops if total_flops else 0.0, f64),
        })
        if device.power_mode:
            op.attributes[POWER_MODE_ATTR] = StringAttr(device.power_mode)


# Unit-level attributes other passes wrote (annotate-deps) move to the new kernel.
_UNIT_ATTRS = ("stage", "preds", "critical_flops", "critical_count")


def _carry_unit_attrs(unit: Operation, kernel: KernelOp) -> None:
    for key in _UNIT_ATTRS:
        if key in unit.attributes:
            kernel.attributes[key] = unit.attributes.pop(key)
