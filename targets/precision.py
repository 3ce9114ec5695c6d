"""The one precision enum of perf-opt (DESIGN.md) and what each costs in storage.

Plain Python so that both `targets/` (no IR) and the passes share one table. int4 and fp4
pack two elements per byte; tf32 is stored as fp32 and only computes at reduced mantissa.
"""

from __future__ import annotations

PRECISION_BITS: dict[str, int] = {
    "fp64": 64, "fp32": 32, "tf32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "fp4": 4,
    "int32": 32, "int16": 16, "int8": 8, "int4": 4,
}
PRECISIONS: tuple[str, ...] = tuple(PRECISION_BITS)
FLOAT_PRECISIONS: tuple[str, ...] = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "fp4")


class UnknownPrecisionError(ValueError):
    def __init__(self, name: str):
        super().__init__(f"unknown precision '{name}'; valid precisions: {', '.join(PRECISIONS)}")


def check_precision(name: str) -> str:
    if name not in PRECISION_BITS:
        raise UnknownPrecisionError(name)
    return name


def storage_bytes(elements: int, precision: str) -> int:
    """Bytes to store `elements` values: sub-byte precisions round up to whole bytes."""
    return -(-elements * PRECISION_BITS[precision] // 8)
