"""Where models come from: torchvision names, the project's extra zoo models, and a
user's own `path/to/file.py:factory`.

torch is imported lazily, inside the functions, so that listing names from tools that
never build a model stays cheap.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The models the project promises to import (issue #2). The first seven must import
# with zero generic ops.
ZOO = (
    "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
    "vit_b_16", "convnext_tiny", "regnet_y_400mf", "densenet121", "squeezenet1_0",
    "shufflenet_v2_x1_0", "swin_t", "maxvit_t", "transformer_encoder", "mlp",
)

# Hyper-parameters of the two zoo models that torchvision does not provide.
ENCODER = {"layers": 4, "d_model": 256, "heads": 4, "seq": 128, "ffn": 1024}
MLP_SIZES = (784, 512, 512, 10)


class ModelError(Exception):
    """A model name or factory the user gave cannot be built; the message says why."""


@dataclass
class BuiltModel:
    name: str
    module: Any  # torch.nn.Module
    inputs: tuple  # example inputs, batch included
    batch: int


def extra_models() -> tuple[str, ...]:
    return ("transformer_encoder", "mlp")


def list_models() -> list[str]:
    """Every name `perf-import` accepts: torchvision classification models and extras."""
    import torchvision

    names = torchvision.models.list_models(module=torchvision.models)
    return sorted(set(names) | set(extra_models()))


def _default_sample_shape(name: str) -> tuple[int, ...]:
    """Per-sample input shape (without batch) of a named model."""
    if name == "transformer_encoder":
        return (ENCODER["seq"], ENCODER["d_model"])
    if name == "mlp":
        return (MLP_SIZES[0],)
    if name == "inception_v3":
        return (3, 299, 299)
    return (3, 224, 224)


def _build_extra(name: str):
    import torch.nn as nn

    if name == "transformer_encoder":
        layer = nn.TransformerEncoderLayer(ENCODER["d_model"], ENCODER["heads"],
                                           dim_feedforward=ENCODER["ffn"], batch_first=True)
        return nn.TransformerEncoder(layer, ENCODER["layers"], enable_nested_tensor=False)
    layers: list = []
    for i, (a, b) in enumerate(zip(MLP_SIZES, MLP_SIZES[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(MLP_SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _load_factory(spec: str):
    path_text, _, factory_name = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise ModelError(f"no such file: {path}")
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    assert module_spec and module_spec.loader
    user_module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(user_module)
    except Exception as err:  # the user's code: report, never trace back
        raise ModelError(f"{path}: cannot load: {type(err).__name__}: {err}") from None
    factory = getattr(user_module, factory_name, None)
    if not callable(factory):
        found = sorted(n for n, v in vars(user_module).items() if callable(v) and not n.startswith("_"))
        raise ModelError(f"{path} has no factory '{factory_name}'; callables found: {', '.join(found) or 'none'}")
    try:
        return factory()
    except Exception as err:
        raise ModelError(f"{spec}: the factory failed: {type(err).__name__}: {err}") from None


def torch_dtype(precision: str):
    """The torch dtype a precision name stands for; ModelError lists the valid names."""
    import torch

    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
              "fp64": torch.float64}
    if precision not in dtypes:
        raise ModelError(f"unknown dtype '{precision}'; valid: {', '.join(sorted(dtypes))}")
    return dtypes[precision]


def build(name: str, batch: int = 1, input_shape: tuple[int, ...] | None = None,
          dtype: str = "fp32") -> BuiltModel:
    """Builds the model (random weights, eval mode) and example inputs of the batch."""
    import torch
    import torchvision

    model_dtype = torch_dtype(dtype)
    if batch < 1:
        raise ModelError(f"batch must be >= 1, got {batch}")

    inputs: tuple | None = None
    if ".py:" in name:
        made = _load_factory(name)
        module, inputs = (made if isinstance(made, tuple) else (made, None))
        label = Path(name.rpartition(":")[0]).stem + ":" + name.rpartition(":")[2]
    elif name in extra_models():
        module, label = _build_extra(name), name
    else:
        valid = list_models()
        if name not in valid:
            raise ModelError(f"unknown model '{name}'; valid models: {', '.join(valid)} "
                             "(or path/to/file.py:factory)")
        module, label = torchvision.models.get_model(name, weights=None), name

    if not isinstance(module, torch.nn.Module):
        raise ModelError(f"{name}: the factory returned {type(module).__name__}, not a torch.nn.Module")
    module = module.eval().to(model_dtype)

    if input_shape is not None:
        shape = tuple(input_shape)
        inputs = (torch.randn(*shape, dtype=model_dtype),)
        batch = shape[0] if shape else 1
    elif inputs is None:
        if label not in ZOO and name not in list_models():
            raise ModelError(f"{name}: the factory returned no example inputs; pass --input-shape")
        inputs = (torch.randn(batch, *_default_sample_shape(label), dtype=model_dtype),)
    else:
        inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
        first = inputs[0]
        batch = int(first.shape[0]) if hasattr(first, "shape") and len(first.shape) else 1
    return BuiltModel(label, module, inputs, batch)
