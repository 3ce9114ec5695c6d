"""Shape arithmetic that the graph dialect's verifiers check against.

Pure functions on tuples of ints, shared by the verifiers so that every op states
its output-shape rule once. They mirror PyTorch's semantics (broadcasting, conv and
pooling output sizes with floor/ceil mode).
"""

from __future__ import annotations

from collections.abc import Sequence


class ShapeError(ValueError):
    """A shape rule does not hold; the message says which."""


def broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """NumPy/PyTorch broadcasting of two shapes."""
    out: list[int] = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            raise ShapeError(f"shapes {tuple(a)} and {tuple(b)} do not broadcast")
        out.append(max(x, y) if x != 1 and y != 1 else x * y)
    return tuple(reversed(out))


def window_out(size: int, kernel: int, stride: int, pad: int, dilation: int = 1,
               ceil_mode: bool = False) -> int:
    """Output extent of a sliding window (convolution or pooling) along one axis."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    if span < 0:
        raise ShapeError(f"window of {kernel} (dilation {dilation}) does not fit {size} + 2x{pad} padding")
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    # PyTorch: the last window must start inside the input or the left padding.
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def matmul(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """torch.matmul for operands of rank >= 1, with batch broadcasting."""
    if not a or not b:
        raise ShapeError("matmul operands must have rank >= 1")
    a2 = (1, *a) if len(a) == 1 else tuple(a)
    b2 = (*b, 1) if len(b) == 1 else tuple(b)
    if a2[-1] != b2[-2]:
        raise ShapeError(f"contracting dimensions differ: {a2[-1]} vs {b2[-2]}")
    batch = broadcast(a2[:-2], b2[:-2])
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def reduce(shape: Sequence[int], dims: Sequence[int], keepdim: bool) -> tuple[int, ...]:
    """Shape after reducing `dims` (negative dims allowed; empty dims = all)."""
    rank = len(shape)
    norm = {d % rank for d in dims} if dims else set(range(rank))
    if keepdim:
        return tuple(1 if i in norm else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in norm)


def normalize_dim(dim: int, rank: int) -> int:
    """A possibly negative dimension index as a positive one, or ShapeError."""
    if not -rank <= dim < max(rank, 1):
        raise ShapeError(f"dimension {dim} out of range for rank {rank}")
    return dim % rank if rank else 0


def element_count(shape: Sequence[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
