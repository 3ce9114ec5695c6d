"""The micro-benchmarks: one PyTorch op each, named by the Workload op class it calibrates.

Why these: each class is measured over sizes that span what the zoo models run (a
ResNet's 3x3 and 1x1 convolutions, MobileNet/EfficientNet/ConvNeXt depthwise layers,
transformer GEMMs and attention, element-wise tensors from L1-sized to DRAM-sized), so
the calibrated efficiency of a model's op comes from a benchmark of similar size, not
from one extrapolated number. Every op is called through an `nn.Module`, as eager models
call it, so the measured time includes what a model pays per op.

A benchmark is data (`Bench`): its op class, a label, and a builder giving (module,
inputs) for a dtype. The same module is exported through perf-opt's importer to get the
Workload the pipeline would build for it, so the fit compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from targets.calibration_fit import benchmark_padding

# size presets: "full" (a few minutes on 2 cores), "quick" (about a minute), "tiny" (tests)
PRESETS = ("full", "quick", "tiny")


@dataclass(frozen=True)
class Bench:
    name: str
    op_class: str
    build: Callable[[Any], tuple[Any, tuple]]   # dtype -> (module, inputs)
    params: dict = field(default_factory=dict)
    # dtype -> (module, inputs) whose exported graph describes the benchmark, when the timed
    # module computes it the way PyTorch runs it rather than the way a model exports it
    described_by: Callable[[Any], tuple[Any, tuple]] | None = None
    native_attention: str = ""   # the mark the described workload gets (Workload field)


def _nn():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    return torch, nn, F


class _Binary:
    """x + y / x * y as a module (eager models write them in forward)."""

    @staticmethod
    def make(kind: str):
        torch, nn, _ = _nn()

        class Binary(nn.Module):
            def forward(self, x, y):
                return x + y if kind == "add" else x * y

        return Binary()


def _sdpa_module():
    torch, nn, F = _nn()

    class Attention(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    return Attention()


def _native_attention_module():
    """The attention of aten::_native_multi_head_attention on a CPU (aten/src/ATen/native/
    transformers/attention.cpp: bmm_nt, softmax, bmm_nn over batch x heads), with q already
    scaled, as _transform_bias_rescale_qkv leaves it."""
    torch, nn, _ = _nn()

    class NativeAttention(nn.Module):
        def forward(self, q, k, v):
            scores = torch.matmul(q, k.transpose(-2, -1))
            return torch.matmul(torch.softmax(scores, dim=-1), v)

    return NativeAttention()


def _permute_copy_module():
    torch, nn, _ = _nn()

    class PermuteCopy(nn.Module):
        def forward(self, x):
            return x.permute(0, 3, 1, 2).contiguous()

    return PermuteCopy()


def _cat_module():
    torch, nn, _ = _nn()

    class Cat(nn.Module):
        def forward(self, x, y):
            return torch.cat([x, y], dim=1)

    return Cat()


def _randn(dtype, *shape):
    torch, _, _ = _nn()
    return torch.randn(*shape, dtype=dtype)


def linear(m: int, k: int, n: int) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        return nn.Linear(k, n).to(dtype), (_randn(dtype, m, k),)
    return Bench(f"linear {m}x{k}->{n}", "matmul", build, {"m": m, "k": k, "n": n})


def conv(cin: int, cout: int, hw: int, k: int, stride: int = 1, batch: int = 1,
         groups: int = 1) -> Bench:
    pad = benchmark_padding(k, stride)
    depthwise = groups > 1 and groups == cin == cout

    def build(dtype):
        _, nn, _ = _nn()
        mod = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, groups=groups, bias=False)
        return mod.to(dtype), (_randn(dtype, batch, cin, hw, hw),)
    label = (f"{'dw' if depthwise else 'conv'} {k}x{k}/{stride} {cin}->{cout} @{hw}"
             + (f" b{batch}" if batch > 1 else ""))
    return Bench(label, "depthwise_conv" if depthwise else "conv", build,
                 {"cin": cin, "cout": cout, "hw": hw, "k": k, "stride": stride, "batch": batch,
                  "groups": groups})


def dwconv(c: int, hw: int, k: int = 3, stride: int = 1, batch: int = 1) -> Bench:
    return conv(c, c, hw, k, stride, batch, groups=c)


def unary(kind: str, elements: int) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        mod = {"relu": lambda: nn.ReLU(inplace=True), "gelu": nn.GELU, "silu": nn.SiLU,
               "sigmoid": nn.Sigmoid, "relu6": lambda: nn.ReLU6(inplace=True)}[kind]()
        return mod, (_randn(dtype, 1, elements),)
    return Bench(f"{kind} {elements}", "elementwise", build, {"op": kind, "elements": elements})


def binary(kind: str, elements: int) -> Bench:
    def build(dtype):
        return _Binary.make(kind), (_randn(dtype, 1, elements), _randn(dtype, 1, elements))
    return Bench(f"{kind} {elements}", "elementwise", build, {"op": kind, "elements": elements})


def maxpool(c: int, hw: int, batch: int = 1) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        return nn.MaxPool2d(3, 2, 1), (_randn(dtype, batch, c, hw, hw),)
    return Bench(f"maxpool 3x3/2 {c} @{hw}" + (f" b{batch}" if batch > 1 else ""), "reduction",
                 build, {"c": c, "hw": hw, "batch": batch})


def avgpool(c: int, hw: int, batch: int = 1) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        return nn.AdaptiveAvgPool2d(1), (_randn(dtype, batch, c, hw, hw),)
    return Bench(f"adaptive_avgpool {c} @{hw}" + (f" b{batch}" if batch > 1 else ""), "reduction",
                 build, {"c": c, "hw": hw, "batch": batch})


def softmax(rows: int, cols: int) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        return nn.Softmax(dim=-1), (_randn(dtype, rows, cols),)
    return Bench(f"softmax {rows}x{cols}", "reduction", build, {"rows": rows, "cols": cols})


def batchnorm(c: int, hw: int, batch: int = 1) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        mod = nn.BatchNorm2d(c).eval().to(dtype)
        return mod, (_randn(dtype, batch, c, hw, hw),)
    return Bench(f"batch_norm {c} @{hw}" + (f" b{batch}" if batch > 1 else ""), "normalization",
                 build, {"c": c, "hw": hw, "batch": batch})


def layernorm(rows: int, d: int) -> Bench:
    def build(dtype):
        _, nn, _ = _nn()
        return nn.LayerNorm(d).to(dtype), (_randn(dtype, rows, d),)
    return Bench(f"layer_norm {rows}x{d}", "normalization", build, {"rows": rows, "d": d})


def attention(batch: int, heads: int, seq: int, dim: int) -> Bench:
    def build(dtype):
        shape = (batch, heads, seq, dim)
        return _sdpa_module(), tuple(_randn(dtype, *shape) for _ in range(3))
    return Bench(f"sdpa b{batch} h{heads} L{seq} d{dim}", "attention", build,
                 {"batch": batch, "heads": heads, "seq": seq, "dim": dim})


def native_attention(batch: int, heads: int, seq: int, dim: int) -> Bench:
    """nn.MultiheadAttention's attention in eval mode (bmm, softmax, bmm), described by the
    scaled_dot_product_attention a model exports for it, marked as running natively."""
    shape = (batch, heads, seq, dim)

    def build(dtype):
        return _native_attention_module(), tuple(_randn(dtype, *shape) for _ in range(3))

    def described(dtype):
        return _sdpa_module(), tuple(_randn(dtype, *shape) for _ in range(3))
    return Bench(f"native_attention b{batch} h{heads} L{seq} d{dim}", "attention", build,
                 {"batch": batch, "heads": heads, "seq": seq, "dim": dim},
                 described_by=described, native_attention="eager")


def permute_copy(hw: int, c: int, batch: int = 1) -> Bench:
    def build(dtype):
        return _permute_copy_module(), (_randn(dtype, batch, hw, hw, c),)
    return Bench(f"permute+copy {hw}x{hw}x{c}" + (f" b{batch}" if batch > 1 else ""),
                 "data_movement", build, {"hw": hw, "c": c, "batch": batch})


def cat(c: int, hw: int) -> Bench:
    def build(dtype):
        return _cat_module(), (_randn(dtype, 1, c, hw, hw), _randn(dtype, 1, c, hw, hw))
    return Bench(f"cat 2x{c} @{hw}", "data_movement", build, {"c": c, "hw": hw})


def suite(preset: str = "full") -> list[Bench]:
    """The benchmarks of a preset, cheapest class first."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    if preset == "tiny":
        return [linear(16, 32, 32), linear(64, 64, 64), conv(8, 8, 8, 3), dwconv(8, 8),
                unary("relu", 1024), binary("add", 1024), maxpool(4, 8), batchnorm(4, 8),
                layernorm(8, 32), softmax(8, 32), attention(1, 2, 16, 8), permute_copy(8, 4)]
    quick = preset == "quick"
    out: list[Bench] = []
    # element-wise: 4K elements (L1) .. 16M (DRAM)
    sizes = [1 << 12, 1 << 16, 1 << 19, 1 << 22] if quick else \
        [1 << 10, 1 << 13, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24]
    for kind in ("relu", "add") if quick else ("relu", "add", "mul", "gelu"):
        out += [(unary if kind in ("relu", "gelu") else binary)(kind, n) for n in sizes]
    if quick:
        out += [unary("gelu", 1 << 16), unary("gelu", 1 << 20)]
    else:
        out += [unary(k, n) for k in ("silu", "sigmoid", "relu6") for n in (1 << 14, 1 << 18, 1 << 21)]
    # reductions: pooling, softmax
    out += [maxpool(64, 112), avgpool(512, 7), softmax(512, 128)]
    if not quick:
        out += [maxpool(64, 56), maxpool(64, 112, 8), avgpool(1280, 7), avgpool(2048, 7, 8),
                softmax(2364, 197), softmax(4096, 128), softmax(64, 64)]
    # normalization
    out += [batchnorm(64, 112), batchnorm(256, 14), layernorm(197, 768)]
    if not quick:
        out += [batchnorm(64, 56), batchnorm(512, 7), batchnorm(32, 112, 8), batchnorm(16, 16),
                layernorm(128, 256), layernorm(1576, 768), layernorm(3136, 96), layernorm(8, 64)]
    # data movement
    out += [permute_copy(56, 96), cat(64, 28)]
    if not quick:
        out += [permute_copy(14, 384), permute_copy(56, 96, 8), cat(128, 56), cat(32, 14)]
    # matmul (nn.Linear, bias included)
    squares = (64, 256, 1024) if quick else (64, 128, 256, 512, 1024, 2048)
    out += [linear(s, s, s) for s in squares]
    out += [linear(1, 784, 512), linear(128, 256, 1024), linear(197, 768, 3072)]
    if not quick:
        out += [linear(1, 512, 512), linear(8, 784, 512), linear(1, 2048, 1000),
                linear(128, 1024, 256), linear(1024, 256, 1024), linear(197, 768, 768),
                linear(197, 3072, 768), linear(1576, 768, 768), linear(8, 512, 10),
                # ConvNeXt-T's pointwise MLPs per stage (tokens x channels -> 4x channels and
                # back); the transformer encoder's attention projections
                linear(3136, 96, 384), linear(3136, 384, 96), linear(784, 192, 768),
                linear(784, 768, 192), linear(196, 384, 1536), linear(196, 1536, 384),
                linear(49, 768, 3072), linear(49, 3072, 768), linear(128, 256, 768),
                linear(128, 256, 256)]
    # convolutions: ResNet-like 3x3 and 1x1, strided, stems
    out += [conv(64, 64, 56, 3), conv(256, 256, 14, 3), conv(256, 64, 56, 1), conv(3, 64, 224, 7, 2)]
    # MobileNet/EfficientNet pointwise (1x1) convolutions: few channels, large images
    out += [conv(16, 96, 112, 1), conv(144, 24, 56, 1)]
    if not quick:
        out += [conv(96, 24, 56, 1), conv(24, 144, 56, 1), conv(32, 192, 28, 1),
                conv(40, 240, 28, 1), conv(192, 64, 14, 1), conv(320, 1280, 7, 1)]
    if not quick:
        out += [conv(128, 128, 28, 3), conv(512, 512, 7, 3), conv(64, 128, 56, 3, 2),
                conv(64, 256, 56, 1), conv(1024, 256, 14, 1), conv(512, 2048, 7, 1),
                conv(32, 16, 112, 1), conv(3, 32, 224, 3, 2), conv(3, 768, 224, 16, 16),
                conv(64, 64, 56, 3, batch=8), conv(256, 64, 56, 1, batch=8),
                # ConvNeXt-T's patchify stem and downsampling layers (kernel = stride): oneDNN
                # runs them at a fraction of a 3x3 layer's rate (2-core EPYC VM: 46 GFLOP/s
                # for 2x2/2, 14 for the 4x4/4 stem, against 110-170 for ResNet's layers)
                conv(3, 96, 224, 4, 4), conv(96, 192, 56, 2, 2), conv(192, 384, 28, 2, 2),
                conv(384, 768, 14, 2, 2)]
    # depthwise: MobileNet/EfficientNet 3x3 and 5x5, ConvNeXt 7x7
    out += [dwconv(32, 112), dwconv(144, 56, 3, 2), dwconv(96, 56, 7)]
    if not quick:
        out += [dwconv(192, 28), dwconv(384, 14), dwconv(960, 7), dwconv(240, 28, 5),
                dwconv(768, 7, 7), dwconv(32, 112, batch=8), dwconv(96, 112, 3, 2),
                dwconv(144, 56), dwconv(672, 14, 5)]
    # attention
    out += [attention(1, 4, 128, 64), attention(1, 12, 197, 64)]
    if not quick:
        out += [attention(8, 4, 128, 64), attention(8, 12, 197, 64), attention(1, 2, 32, 32)]
    # the same shapes as nn.MultiheadAttention runs them eagerly (the encoder, ViT-B/16)
    out += [native_attention(1, 4, 128, 64), native_attention(1, 12, 197, 64)]
    if not quick:
        out += [native_attention(8, 4, 128, 64), native_attention(8, 12, 197, 64)]
    return out
