"""Ops that eager PyTorch runs in place inside a fused fast path the exported graph hides.

Why: torch.export traces a module's Python with fake tensors, for which the fast-path
checks of nn.TransformerEncoderLayer fail (`has_torch_function`), so the exported graph is
the slow path: the residual adds and the feed-forward activation allocate new tensors. In
eval mode without autograd the real module calls `torch._transformer_encoder_layer_fwd`
instead (torch/nn/modules/transformer.py, TransformerEncoderLayer.forward), which adds
each residual into its sublayer's output in place (`aten::add_`) and applies the
activation in place inside `aten::_addmm_activation` (`aten::relu_`); torch.profiler on the
zoo's transformer_encoder shows exactly those ops. What eager PyTorch allocates decides
which pages it faults in (targets/glibc_heap.py), so the importer marks these ops
`inplace`, as it does for a model's own `relu_`.

The fast path's attention (`aten::_native_multi_head_attention`: one bias-less GEMM,
`_transform_bias_rescale_qkv`, then bmm, softmax, bmm on CPU) is not rewritten: it stays
the exported scaled_dot_product_attention, priced with the calibration's benchmark of
F.scaled_dot_product_attention, which runs the flash kernel. That is a known miss in both
directions (README, "What still misses": at batch 8 h4 L128 d64 on the Zen 5 test VM, flash
952 us FP32 and 947 BF16, bmm + softmax + bmm 1893 and 346); nn.MultiheadAttention takes the
same native path on its own in eval mode (ViT-B/16's blocks, eagerly; compiled, ViT runs
flash attention and the encoder keeps its layers' fast path).

torch is imported inside the functions, like the rest of the importer.
"""

from __future__ import annotations

from typing import Any

# FX targets the fast path runs in place when they sit directly in the layer's forward.
IN_PLACE_TARGETS = frozenset({"aten.add.Tensor", "aten.relu.default", "aten.gelu.default"})


def fast_path_encoder_layers(module: Any) -> frozenset[str]:
    """Qualified names of the nn.TransformerEncoderLayer submodules of `module` that take
    the fast path in eval mode: the conditions of TransformerEncoderLayer.forward that
    depend on the module (the call-time ones, a 3-D input without autocast or autograd,
    hold for the runs perf-opt models)."""
    import torch

    if not torch.backends.mha.get_fastpath_enabled():
        return frozenset()
    return frozenset(name for name, m in module.named_modules()
                     if isinstance(m, torch.nn.TransformerEncoderLayer) and _eligible(m))


def _eligible(layer: Any) -> bool:
    attn = layer.self_attn
    return (not layer.training and attn.batch_first and attn.in_proj_bias is not None
            and attn._qkv_same_embed_dim and bool(layer.activation_relu_or_gelu)
            and layer.norm1.eps == layer.norm2.eps and attn.num_heads % 2 == 0
            and not any(m._forward_hooks or m._forward_pre_hooks for m in layer.modules()))


def _innermost_module(node: Any) -> str | None:
    stack = node.meta.get("nn_module_stack") or {}
    return list(stack.values())[-1][0] if stack else None


def _layer_of(node: Any) -> str | None:
    """The module whose forward ran the node: the layer itself, or the layer when the node
    is its `activation` given as a module (nn.ReLU() / nn.GELU() instead of F.relu)."""
    path = _innermost_module(node)
    if path is not None and path.endswith(".activation"):
        return path[: -len(".activation")]
    return path


def in_place_args(node: Any, layers: frozenset[str]) -> tuple | None:
    """The node's arguments in the order the fast path uses them when it runs the node in
    place (the buffer written first), or None when it does not. A residual add
    `x + sublayer(x)` writes into the sublayer's output, which only the add reads, not
    into the residual `x`, which the sublayer read as well."""
    import torch.fx

    if not layers or str(node.target) not in IN_PLACE_TARGETS or _layer_of(node) not in layers:
        return None
    args = tuple(node.args)
    if str(node.target) == "aten.add.Tensor" and len(args) >= 2:
        def only_read_here(arg: Any) -> bool:
            return isinstance(arg, torch.fx.Node) and len(arg.users) == 1

        if not only_read_here(args[0]) and only_read_here(args[1]):
            args = (args[1], args[0]) + args[2:]
    return args
