"""Pipeline text -> pass instances, with mlir-opt's error messages.

`--pass-pipeline='builtin.module(fuse{max-ops=4},map-gpu)'` and the bare
`fuse{max-ops=4},map-gpu` mean the same. An unknown pass or option is a one-line error
that lists what is valid.
"""

from __future__ import annotations

import dataclasses
import re
import typing

from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import ArgSpec, parse_pipeline
from xdsl.utils.exceptions import ArgSpecParseError

from compiler import pass_registry


class PipelineError(Exception):
    """The pipeline text names something that does not exist; the message lists choices."""


_WRAPPER = re.compile(r"^\s*builtin\.module\s*\((.*)\)\s*$", re.DOTALL)


def strip_module_wrapper(text: str) -> str:
    match = _WRAPPER.match(text)
    return match.group(1) if match else text


_OPTION_VALUE = re.compile(r'(?<==)([^\s{}=,"]+)')
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_-]+|[-+]?[0-9]+(\.[0-9]*([eE][-+]?[0-9]+)?)?")


def quote_paths(text: str) -> str:
    """mlir-opt takes `rules=dir/my.rules` unquoted; xDSL's lexer needs a string literal
    for anything that is not an identifier or a number, so such values get quotes."""
    return _OPTION_VALUE.sub(lambda m: m.group(1) if _PLAIN_VALUE.fullmatch(m.group(1))
                             else '"' + m.group(1) + '"', text)


def _ints_widened(cls: type[ModulePass], spec: ArgSpec) -> ArgSpec:
    """`clock-ghz=4` means 4.0: xDSL reads a whole number as an int and refuses it for a
    float option, where mlir-opt takes it."""
    hints = typing.get_type_hints(cls)
    floats = {name for name, hint in hints.items()
              if hint is float or float in typing.get_args(hint)}
    params = {key: tuple(float(v) if key in floats and type(v) is int else v for v in values)
              for key, values in spec.normalize_parameter_names().parameters.items()}
    return dataclasses.replace(spec, parameters=params)


def build(text: str) -> list[ModulePass]:
    registry = pass_registry.available()
    text = quote_paths(strip_module_wrapper(text).strip())
    if not text:
        return []
    try:
        specs = list(parse_pipeline(text))
    except ArgSpecParseError as err:  # derives from BaseException, not Exception
        raise PipelineError(str(err).replace("\n", " ").strip()) from None
    passes = []
    for spec in specs:
        cls = registry.get(spec.name)
        if cls is None:
            raise PipelineError(f"unknown pass '{spec.name}'; valid passes: {', '.join(sorted(registry))}")
        valid = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "name"}
        for key in spec.normalize_parameter_names().parameters:
            if key not in valid:
                names = ", ".join(sorted(v.replace("_", "-") for v in valid)) or "none"
                raise PipelineError(f"pass '{spec.name}' has no option '{key.replace('_', '-')}'; "
                                    f"valid options: {names}")
        try:
            passes.append(cls.from_spec(_ints_widened(cls, spec)))
        except (ValueError, TypeError) as err:
            raise PipelineError(f"pass '{spec.name}': {err}") from None
    return passes
