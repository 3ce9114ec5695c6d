"""Precision on the IR side: the op attribute assign-precision writes, and the precision
a tensor's dtype stores at. The enum itself is `targets.precision` (shared with targets/).
"""

from __future__ import annotations

from xdsl.dialects.builtin import (
    BFloat16Type,
    Float16Type,
    Float32Type,
    Float64Type,
    IntegerType,
    TensorType,
)
from xdsl.ir import Attribute

from targets.precision import PRECISION_BITS, PRECISIONS, check_precision, storage_bytes  # noqa: F401

PRECISION_ATTR = "precision"  # the op attribute assign-precision writes


def precision_of_element_type(element_type: Attribute) -> str:
    """The precision a tensor's dtype stores at (indices and masks count as integers)."""
    if isinstance(element_type, Float32Type):
        return "fp32"
    if isinstance(element_type, BFloat16Type):
        return "bf16"
    if isinstance(element_type, Float16Type):
        return "fp16"
    if isinstance(element_type, Float64Type):
        return "fp64"
    if isinstance(element_type, IntegerType):
        width = element_type.width.data
        return {16: "int16", 8: "int8", 4: "int4"}.get(width, "int32")
    return "fp32"


def element_bits(element_type: Attribute) -> int:
    """Storage bits of a dtype as imported (i64 indices are 64, i1 masks a byte)."""
    if isinstance(element_type, IntegerType):
        return max(8, element_type.width.data)
    return PRECISION_BITS[precision_of_element_type(element_type)]


def is_float(element_type: Attribute) -> bool:
    return not isinstance(element_type, IntegerType)


def precision_of_type(typ: Attribute) -> str:
    return precision_of_element_type(typ.element_type) if isinstance(typ, TensorType) else "fp32"
