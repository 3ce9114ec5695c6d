"""Every pass `perf-opt` knows, by its command-line name.

perf-opt's own passes come from `passes/`; xDSL's generic canonicalize, cse and dce are
kept available. Classes are imported when the registry is first asked, not at start-up.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing

from xdsl.passes import ModulePass

# name -> (module, class). Order is the order of --list-passes.
_PASSES: dict[str, tuple[str, str]] = {
    "fuse": ("passes.fuse", "FusePass"),
    "annotate-deps": ("passes.annotate_deps", "AnnotateDepsPass"),
    "assign-precision": ("passes.assign_precision", "AssignPrecisionPass"),
    "map-gpu": ("passes.map_gpu", "MapGpuPass"),
    "map-tpu": ("passes.map_tpu", "MapTpuPass"),
    "map-kpu": ("passes.map_kpu", "MapKpuPass"),
    "map-cpu": ("passes.map_cpu", "MapCpuPass"),
    "cost": ("passes.cost", "CostPass"),
    "cost-report": ("passes.cost_report", "CostReportPass"),
    "canonicalize": ("xdsl.transforms.canonicalize", "CanonicalizePass"),
    "cse": ("xdsl.transforms.common_subexpression_elimination", "CommonSubexpressionElimination"),
    "dce": ("xdsl.transforms.dead_code_elimination", "DeadCodeElimination"),
}


def available() -> dict[str, type[ModulePass]]:
    """Registered passes whose module exists in this checkout, by name."""
    found: dict[str, type[ModulePass]] = {}
    for name, (module, cls) in _PASSES.items():
        try:
            found[name] = getattr(importlib.import_module(module), cls)
        except ModuleNotFoundError as err:
            if err.name != module:  # a real import bug inside the pass: surface it
                raise
    return found


# xDSL's generic passes, described in perf-opt's terms (their own docstrings are empty
# or not one line).
_SUMMARIES = {
    "canonicalize": "Apply xDSL's canonicalization patterns (folds, simplifications).",
    "cse": "Eliminate common subexpressions: identical pure ops on the same operands.",
    "dce": "Erase ops whose results are unused (unused weights included).",
}


def summary(pass_cls: type[ModulePass]) -> str:
    if pass_cls.name in _SUMMARIES:
        return _SUMMARIES[pass_cls.name]
    doc = (pass_cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


@dataclasses.dataclass
class OptionInfo:
    name: str  # kebab-case, as typed on the command line
    type: str
    default: str
    help: str


def options(pass_cls: type[ModulePass]) -> list[OptionInfo]:
    hints = typing.get_type_hints(pass_cls)
    infos = []
    for f in dataclasses.fields(pass_cls):
        if f.name == "name" or not f.init:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool):
            default = str(default).lower()
        elif isinstance(default, tuple):
            default = ",".join(map(str, default))
        type_text = getattr(hints.get(f.name), "__name__", None) or str(hints.get(f.name))
        infos.append(OptionInfo(f.name.replace("_", "-"), type_text.replace("typing.", ""),
                                "" if default is None else str(default), f.metadata.get("help", "")))
    return infos


def describe_all() -> str:
    """The `--list-passes` text: each pass, its summary, its options."""
    lines = ["Available passes:"]
    for name, cls in available().items():
        lines.append(f"  {name:<18} {summary(cls)}")
        for opt in options(cls):
            default = f" = {opt.default}" if opt.default != "" else ""
            lines.append(f"      {opt.name}: {opt.type}{default}    {opt.help}".rstrip())
    return "\n".join(lines)
