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
`_transform_bias_rescale_qkv`, then bmm, softmax, bmm on CPU) stays the exported
scaled_dot_product_attention, marked `native_attention` (native_attention_modules): an
nn.MultiheadAttention in eval mode takes that path on its own too (MultiheadAttention.forward,
torch/nn/modules/activation.py), which is how torchvision's ViT blocks run eagerly. The
mark matters because the two algorithms differ both ways on a CPU: the zoo encoder's
attention at batch 8 (h4 L128 d64), flash 952 us FP32 and 947 BF16, bmm + softmax + bmm 1893
and 346 (Zen 5 test VM, 2 threads); perf-calibrate times both (suite.native_attention) and
a marked attention reads the native benchmarks (targets/calibration.py kernel_for). Under
torch.compile Dynamo keeps an encoder layer's fast-path call (`aten::
_transformer_encoder_layer_fwd` in the profile) but traces a bare MultiheadAttention's
Python into scaled_dot_product_attention, which Inductor runs as flash attention (ViT-B/16
compiled: `aten::_scaled_dot_product_flash_attention_for_cpu`), so the mark says which:
NATIVE_ALWAYS or NATIVE_EAGER.

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


# When an nn.MultiheadAttention runs its attention natively (the `native_attention` mark):
NATIVE_EAGER = "eager"        # in eager code only (a bare module: compiled code traces it)
NATIVE_ALWAYS = "always"      # eager and compiled (inside an encoder layer's fast path)
SDPA_TARGET = "aten.scaled_dot_product_attention.default"
# Ops between the packed input projection and each of q, k, v in the exported slow path
# (F.multi_head_attention_forward: linear, unflatten, transpose, contiguous, select, views)
PROJECTION_SHAPE_OPS = frozenset({
    "aten.view.default", "aten.permute.default", "aten.select.int", "aten.clone.default",
    "aten.squeeze.dims", "aten.unsqueeze.default", "aten.transpose.int", "aten.unflatten.int",
    "aten._unsafe_view.default", "aten.reshape.default", "aten.contiguous.default"})


def native_attention_modules(module: Any, layers: frozenset[str]) -> dict[str, str]:
    """{qualified name of an nn.MultiheadAttention that takes its fast path in eval mode:
    NATIVE_ALWAYS inside an encoder layer of `layers` (fast_path_encoder_layers), else
    NATIVE_EAGER}. The module conditions of MultiheadAttention.forward; the call-time one,
    self-attention (query, key and value the same tensor), is checked on the graph
    (native_attention)."""
    import torch

    if not torch.backends.mha.get_fastpath_enabled():
        return {}
    return {name: NATIVE_ALWAYS if name.rpartition(".")[0] in layers else NATIVE_EAGER
            for name, m in module.named_modules()
            if isinstance(m, torch.nn.MultiheadAttention) and _attention_eligible(m)}


def _attention_eligible(attn: Any) -> bool:
    return (not attn.training and attn.batch_first and attn.in_proj_weight is not None
            and attn.in_proj_bias is not None and attn._qkv_same_embed_dim
            and attn.num_heads % 2 == 0 and attn.bias_k is None and attn.bias_v is None
            and not attn.add_zero_attn and not attn._forward_hooks and not attn._forward_pre_hooks)


def native_attention(node: Any, modules: dict[str, str]) -> str | None:
    """NATIVE_EAGER or NATIVE_ALWAYS when the node is the scaled_dot_product_attention of
    such a module called as self-attention (q, k and v cut from one packed projection),
    else None."""
    if str(node.target) != SDPA_TARGET:
        return None
    when = modules.get(_innermost_module(node))
    if when is None:
        return None
    sources = {_projection(arg) for arg in node.args[:3]}
    return when if len(sources) == 1 and None not in sources else None


def _projection(arg: Any) -> Any:
    """The node q, k or v was cut from, through shape ops; None when it is not a node."""
    import torch.fx

    while isinstance(arg, torch.fx.Node) and str(arg.target) in PROJECTION_SHAPE_OPS:
        arg = arg.args[0]
    return arg if isinstance(arg, torch.fx.Node) else None


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
