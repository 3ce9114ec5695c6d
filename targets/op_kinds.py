"""One name for the same op however it is spelled: an FX node ('relu__3'), an ATen op or
profiler event ('aten::relu_'), a graph dialect op ('graph.relu') or a calibration benchmark
('relu'). Calibration bands, compiled-graph tails and the per-op comparison with
torch.profiler all match ops by this kind."""

from __future__ import annotations

import re

# FX / ATen spellings of the same op, for matching a workload to benchmarks of its kind.
_KIND_SYNONYMS = {
    "max_pool2d_with_indices": "max_pool2d", "_native_batch_norm_legit_no_training": "batch_norm",
    "native_batch_norm": "batch_norm", "clamp_min": "relu", "hardtanh": "relu6",
    "_scaled_dot_product_flash_attention_for_cpu": "scaled_dot_product_attention",
    "addmm": "linear", "clone": "copy",
}


def op_kind(name: str) -> str:
    """The op a unit, profiler event or dialect op names: 'relu__3' -> 'relu', 'aten::add_'
    -> 'add', 'max_pool2d_with_indices_1' -> 'max_pool2d' (FX node names derive from ATen
    names), 'graph.silu' -> 'silu'."""
    base = name.split("::")[-1].rpartition(".")[2]
    base = re.sub(r"_\d+$", "", base).rstrip("_")
    base = _KIND_SYNONYMS.get(base, base).lstrip("_")
    return _KIND_SYNONYMS.get(base, base)
