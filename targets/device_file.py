"""Reading a device file: TOML -> a validated, mode-less ``Device``.

Why so strict: a number without a source, a formula that disagrees with its value, or a
precision nobody said how to handle would silently become a wrong latency in some report, so
the loader rejects the file and names the offending path (``compute.units``,
``execution_units.tensor_core.peak.bf16``, ...).  The schema is documented in the docstring of
targets/catalog.py, where device authors look first.  Formulas are data, so they are parsed as
arithmetic, never executed.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from targets.catalog_errors import CatalogError
from targets.device_model import (
    ComputeSpec, CpuSpec, Device, Emulation, EnergySpec, ExecutionUnit, GpuSpec, KpuSpec,
    MemoryLevel, Overheads, PowerMode, Sourced, TpuSpec,
)
from targets.precision import PRECISIONS
from targets.workload import OP_CLASSES

DEVICE_CLASSES = ("gpu", "tpu", "kpu", "cpu")
FIGURE_KINDS = ("spec", "measured", "derived", "assumption")
UNIT_KINDS = ("scalar", "simd", "simt", "vector", "matrix", "systolic", "tile")
MEMORY_KINDS = (
    "registers", "l1", "shared", "l2", "l3", "llc", "cmem", "vmem", "sram", "scratchpad",
    "shared_sram", "hbm", "dram",
)
SCOPES = ("per_unit", "total")
FORMULA_TOLERANCE = 0.01


def read_device_file(path: str | Path) -> Device:
    """Parse and validate one TOML file; its stem must equal its ``name``."""
    device = build_device(_read_raw(Path(path), ()), origin=str(path))
    if Path(path).stem != device.name:
        raise CatalogError(f"{path}: file name must equal name = {device.name!r}")
    return device


def _read_raw(path: Path, seen: tuple[Path, ...]) -> dict:
    """The file's tables, over those of its `base` device when it names one."""
    if path in seen:
        raise CatalogError(f"{path}: base devices form a cycle: "
                           + " -> ".join(p.stem for p in seen + (path,)))
    with open(path, "rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise CatalogError(f"{path}: invalid TOML: {err}") from None
    base = raw.pop("base", None)
    if base is None:
        return raw
    base_path = path.parent / f"{base}.toml"
    if not isinstance(base, str) or not base_path.is_file():
        raise CatalogError(f"{path}: base: no device file {base_path.name} next to it")
    return over_base(_read_raw(base_path, seen + (path,)), raw)


def over_base(base: dict, variant: dict) -> dict:
    """A variant device's tables over its base's: tables merge key by key (a figure, an inline
    table, is replaced whole); a [[memory]] level replaces the base's level of the same name
    and a new name is appended; any other value is replaced.

    Why: a part that differs from another in a few figures (the H200 is the H100 SXM5's GH100
    with HBM3e) names that part as its base and lists only what differs, so the shared
    figures and their sources live in one file."""
    out = dict(base)
    for key, value in variant.items():
        old = out.get(key)
        if key == "memory" and isinstance(old, list) and isinstance(value, list):
            new_levels = {lvl.get("name"): lvl for lvl in value}
            out[key] = [new_levels.pop(lvl.get("name"), lvl) for lvl in old] + list(
                new_levels.values())
        elif isinstance(old, dict) and isinstance(value, dict) and "value" not in value:
            out[key] = over_base(old, value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- formulas


_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate_formula(text: str) -> float:
    """Evaluate plain arithmetic (numbers, + - * / **, parentheses); anything else is an error.

    Formulas are data, so they are parsed, not exec'd."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](ev(node.operand))
        raise CatalogError(f"formula {text!r}: only numbers and + - * / ** are allowed")

    try:
        return ev(ast.parse(text, mode="eval"))
    except SyntaxError as err:
        raise CatalogError(f"formula {text!r} is not arithmetic: {err.msg}") from None



# --------------------------------------------------------------------------- parsing


class _Ctx:
    """Where we are in a file (for error messages) and which source keys exist."""

    def __init__(self, origin: str, sources: Mapping[str, str]):
        self.origin = origin
        self.sources = sources

    def fail(self, path: str, message: str) -> CatalogError:
        return CatalogError(f"{self.origin}: {path}: {message}")


def build_device(raw: Mapping[str, Any], origin: str = "<device>") -> Device:
    """Validate a parsed device document and build the (mode-less) Device."""
    sources = raw.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise CatalogError(f"{origin}: a [sources] table (key -> citation) is required")
    for key, text in sources.items():
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(f"{origin}: sources.{key} must be a non-empty citation string")
    ctx = _Ctx(origin, MappingProxyType(dict(sources)))
    _reject_bare_numbers(raw, "", ctx)
    allowed = {"schema", "name", "class", "vendor", "product", "notes", "default_power_mode",
               "sources", "compute", "gpu", "tpu", "kpu", "cpu", "execution_units",
               "emulation", "memory", "energy", "overheads", "power_modes"}
    _no_unknown_keys(raw, allowed, "", ctx)
    if raw.get("schema") != 1:
        raise ctx.fail("schema", "schema = 1 is required")
    dclass = _string(raw, "class", "", ctx)
    if dclass not in DEVICE_CLASSES:
        raise ctx.fail("class", f"must be one of {', '.join(DEVICE_CLASSES)}")
    for other in DEVICE_CLASSES:
        if other != dclass and other in raw:
            raise ctx.fail(other, f"a {dclass} device cannot have a [{other}] section")
    if dclass not in raw:
        raise ctx.fail(dclass, f"a {dclass} device needs a [{dclass}] section")
    spec_type = {"gpu": GpuSpec, "tpu": TpuSpec, "kpu": KpuSpec, "cpu": CpuSpec}[dclass]
    units = _execution_units(_table(raw, "execution_units", "", ctx), ctx)
    modes = _power_modes(raw.get("power_modes", {}), ctx)
    default_mode = raw.get("default_power_mode")
    if modes and default_mode not in modes:
        raise ctx.fail("default_power_mode", f"must name one of {', '.join(modes)}")
    device = Device(
        name=_string(raw, "name", "", ctx),
        device_class=dclass,
        vendor=_string(raw, "vendor", "", ctx),
        product=_string(raw, "product", "", ctx),
        notes=str(raw.get("notes", "")),
        sources=ctx.sources,
        compute=_section(ComputeSpec, _table(raw, "compute", "", ctx), "compute", ctx),
        execution_units=units,
        emulation=_emulation(raw.get("emulation", {}), units, ctx),
        memory=_memory(raw.get("memory"), ctx),
        energy=_section(EnergySpec, _table(raw, "energy", "", ctx), "energy", ctx),
        overheads=_overheads(_table(raw, "overheads", "", ctx), ctx),
        power_modes=modes,
        default_power_mode=default_mode,
        **{dclass: _section(spec_type, _table(raw, dclass, "", ctx), dclass, ctx)},
    )
    _check_memory_order(device.memory, ctx)
    return device


def _overheads(raw: Mapping[str, Any], ctx: _Ctx) -> Overheads:
    """The [overheads] table; its library_call_s is a table of "op_class:precision" figures."""
    calls = raw.get("library_call_s", {})
    if not isinstance(calls, dict):
        raise ctx.fail("overheads.library_call_s", "a table is required")
    parsed = {}
    for key, fig in calls.items():
        path = f"overheads.library_call_s.{key}"
        cls, _, prec = key.partition(":")
        if cls not in OP_CLASSES or prec not in PRECISIONS:
            raise ctx.fail(path, f"keys are op_class:precision (op classes: {', '.join(OP_CLASSES)}; "
                                 f"precisions: {', '.join(PRECISIONS)})")
        parsed[key] = _figure(fig, path, ctx)
    rest = {k: v for k, v in raw.items() if k != "library_call_s"}
    return dataclasses.replace(_section(Overheads, rest, "overheads", ctx),
                               library_call_s=MappingProxyType(parsed))


def _reject_bare_numbers(node: Any, path: str, ctx: _Ctx) -> None:
    """Every number must sit in a figure table {value, source, ...}; `schema` is the exception."""
    if isinstance(node, dict):
        if "value" in node:
            return  # a figure; checked field by field in _figure
        for key, val in node.items():
            sub = f"{path}.{key}".lstrip(".")
            if sub == "schema":
                continue
            _reject_bare_numbers(val, sub, ctx)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _reject_bare_numbers(item, f"{path}[{i}]", ctx)
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        raise ctx.fail(path, f"number {node!r} has no source; write "
                             f"{{ value = {node!r}, source = \"<key in [sources]>\" }}")


def _figure(raw: Any, path: str, ctx: _Ctx) -> Sourced:
    if not isinstance(raw, dict) or "value" not in raw:
        raise ctx.fail(path, "expected a figure { value = ..., source = ... }")
    _no_unknown_keys(raw, {"value", "source", "kind", "formula", "note"}, path, ctx)
    value = raw["value"]
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ctx.fail(path, f"value must be a finite number, got {value!r}")
    source = raw.get("source")
    keys = (source,) if isinstance(source, str) else tuple(source or ())
    if not keys or not all(isinstance(k, str) for k in keys):
        raise ctx.fail(path, "number has no source (source = \"<key>\" or [\"<key>\", ...])")
    missing = [k for k in keys if k not in ctx.sources]
    if missing:
        raise ctx.fail(path, f"source key(s) {', '.join(missing)} not in [sources]")
    kind = raw.get("kind", "spec")
    if kind not in FIGURE_KINDS:
        raise ctx.fail(path, f"kind must be one of {', '.join(FIGURE_KINDS)}")
    formula, note = raw.get("formula"), raw.get("note")
    if kind == "derived" and not formula:
        raise ctx.fail(path, "a derived figure must show its formula")
    if kind == "assumption" and not note:
        raise ctx.fail(path, "an assumption must say why in a note")
    if formula is not None:
        result = evaluate_formula(str(formula))
        if not math.isclose(result, value, rel_tol=FORMULA_TOLERANCE):
            raise ctx.fail(path, f"formula {formula!r} = {result:.6g} but value = {value!r}")
    return Sourced(value=value, source=keys, kind=kind, formula=formula, note=note,
                   citations=tuple(ctx.sources[k] for k in keys))


def _section(cls: type, raw: Mapping[str, Any], path: str, ctx: _Ctx, **fixed: Any) -> Any:
    """Build a spec dataclass from a table, typing each field from its annotation."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    settable = {n for n, f in fields.items() if not str(f.type).startswith("Mapping")}
    _no_unknown_keys(raw, settable - set(fixed), path, ctx)
    kwargs: dict[str, Any] = dict(fixed)
    for name, f in fields.items():
        if name in fixed or name not in settable:
            continue
        sub = f"{path}.{name}"
        optional = f.default is not dataclasses.MISSING
        if name not in raw:
            if not optional:
                raise ctx.fail(sub, "is required")
            continue
        value, ftype = raw[name], str(f.type)
        if ftype.startswith("Sourced"):
            kwargs[name] = _figure(value, sub, ctx)
        elif ftype.startswith("tuple[str"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ctx.fail(sub, "must be a list of strings")
            kwargs[name] = tuple(value)
        else:
            if not isinstance(value, str):
                raise ctx.fail(sub, "must be a string")
            kwargs[name] = value
    return cls(**kwargs)


def _execution_units(raw: Mapping[str, Any], ctx: _Ctx) -> tuple[ExecutionUnit, ...]:
    units = []
    for name, table in raw.items():
        path = f"execution_units.{name}"
        if not isinstance(table, dict):
            raise ctx.fail(path, "must be a table")
        _no_unknown_keys(table, {"kind", "description", "clock_hz", "peak", "energy_pj_per_op"},
                         path, ctx)
        kind = _string(table, "kind", path, ctx)
        if kind not in UNIT_KINDS:
            raise ctx.fail(f"{path}.kind", f"must be one of {', '.join(UNIT_KINDS)}")
        peak = _precision_figures(_table(table, "peak", path, ctx), f"{path}.peak", ctx)
        if not peak:
            raise ctx.fail(f"{path}.peak", "a unit must execute at least one precision")
        energy = _precision_figures(table.get("energy_pj_per_op", {}),
                                    f"{path}.energy_pj_per_op", ctx)
        stray = set(energy) - set(peak)
        if stray:
            raise ctx.fail(f"{path}.energy_pj_per_op", f"{', '.join(stray)} not executed here")
        units.append(ExecutionUnit(
            name=name, kind=kind, description=str(table.get("description", "")),
            clock_hz=_figure(table.get("clock_hz"), f"{path}.clock_hz", ctx),
            peak=MappingProxyType(peak), energy_pj_per_op=MappingProxyType(energy)))
    if not units:
        raise ctx.fail("execution_units", "at least one execution unit is required")
    return tuple(units)


def _precision_figures(raw: Any, path: str, ctx: _Ctx) -> dict[str, Sourced]:
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table keyed by precision")
    out = {}
    for prec, fig in raw.items():
        if prec not in PRECISIONS:
            raise ctx.fail(f"{path}.{prec}", f"unknown precision; valid: {', '.join(PRECISIONS)}")
        out[prec] = _figure(fig, f"{path}.{prec}", ctx)
    return out


def _emulation(raw: Any, units: tuple[ExecutionUnit, ...], ctx: _Ctx) -> Mapping[str, Emulation]:
    native = {p for u in units for p in u.peak}
    if not isinstance(raw, dict):
        raise ctx.fail("emulation", "must be a table keyed by precision")
    out = {}
    for prec, table in raw.items():
        path = f"emulation.{prec}"
        if prec not in PRECISIONS:
            raise ctx.fail(path, f"unknown precision; valid: {', '.join(PRECISIONS)}")
        if prec in native:
            raise ctx.fail(path, "precision is native on some unit; remove the emulation entry")
        if not isinstance(table, dict):
            raise ctx.fail(path, "must be a table { mode, reason, ... }")
        mode = _string(table, "mode", path, ctx)
        reason = _string(table, "reason", path, ctx)
        if mode == "refuse":
            _no_unknown_keys(table, {"mode", "reason"}, path, ctx)
            out[prec] = Emulation(prec, mode, reason)
        elif mode == "upcast":
            _no_unknown_keys(table, {"mode", "reason", "via", "cost_factor"}, path, ctx)
            via = _string(table, "via", path, ctx)
            if via not in native:
                raise ctx.fail(f"{path}.via", f"{via!r} must be a native precision "
                                              f"({', '.join(sorted(native))})")
            cost = _figure(table.get("cost_factor"), f"{path}.cost_factor", ctx)
            if float(cost.value) <= 0:
                raise ctx.fail(f"{path}.cost_factor", "must be positive")
            out[prec] = Emulation(prec, mode, reason, via, cost)
        else:
            raise ctx.fail(f"{path}.mode", "must be 'upcast' or 'refuse'")
    uncovered = [p for p in PRECISIONS if p not in native and p not in out]
    if uncovered:
        raise ctx.fail("emulation", f"say how {', '.join(uncovered)} is handled "
                                    f"(mode = 'upcast' with via/cost_factor, or 'refuse')")
    return MappingProxyType(out)


def _memory(raw: Any, ctx: _Ctx) -> tuple[MemoryLevel, ...]:
    if not isinstance(raw, list) or not raw:
        raise ctx.fail("memory", "at least one [[memory]] level is required, nearest first")
    levels = []
    for i, table in enumerate(raw):
        path = f"memory[{i}]"
        level = _section(MemoryLevel, table, path, ctx)
        if level.kind not in MEMORY_KINDS:
            raise ctx.fail(f"{path}.kind", f"must be one of {', '.join(MEMORY_KINDS)}")
        if level.scope not in SCOPES:
            raise ctx.fail(f"{path}.scope", f"must be one of {', '.join(SCOPES)}")
        levels.append(level)
    names = [lvl.name for lvl in levels]
    if len(set(names)) != len(names):
        raise ctx.fail("memory", "level names must be unique")
    return tuple(levels)


def _check_memory_order(levels: tuple[MemoryLevel, ...], ctx: _Ctx) -> None:
    """Nearest-first: bandwidth never rises, reachable capacity never shrinks."""
    for near, far in zip(levels, levels[1:]):
        if float(far.bandwidth_bytes_per_s.value) > float(near.bandwidth_bytes_per_s.value):
            raise ctx.fail("memory", f"{far.name} has more bandwidth than the nearer "
                                     f"{near.name}; order levels nearest-first")
        if float(far.capacity_bytes.value) < float(near.capacity_bytes.value):
            raise ctx.fail("memory", f"{far.name} is smaller than the nearer {near.name}; "
                                     f"order levels nearest-first")


def _power_modes(raw: Any, ctx: _Ctx) -> Mapping[str, PowerMode]:
    if not isinstance(raw, dict):
        raise ctx.fail("power_modes", "must be a table of modes")
    modes = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ctx.fail(f"power_modes.{name}", "must be a table")
        modes[name] = _section(PowerMode, table, f"power_modes.{name}", ctx, name=name)
    return MappingProxyType(modes)


def _table(raw: Mapping[str, Any], key: str, path: str, ctx: _Ctx) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ctx.fail(f"{path}.{key}".lstrip("."), "a table is required")
    return value


def _string(raw: Mapping[str, Any], key: str, path: str, ctx: _Ctx) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ctx.fail(f"{path}.{key}".lstrip("."), "a non-empty string is required")
    return value


def _no_unknown_keys(raw: Mapping[str, Any], allowed: set[str], path: str, ctx: _Ctx) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ctx.fail(path or "<top>", f"unknown key(s) {', '.join(unknown)}; "
                                        f"allowed: {', '.join(sorted(allowed))}")

