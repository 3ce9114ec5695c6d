"""perf-validate on a CUDA GPU: which catalog device predicts it, how a precision is set up
in PyTorch, how a forward pass is timed, and what the record says about the GPU.

Which model predicts a GPU row: map-gpu with the catalog entry for that GPU
(`map-gpu{device=NAME}`), and with `--calibration` a GPU calibration of it (perf-calibrate
--device cuda, or --gpu-measurements; compiler/calibrate/gpu_fit.py). torch reports the GPU
by its marketing name; GPU_CATALOG maps the names of the GPUs the catalog holds.

Precisions as PyTorch runs them: `fp32` with TF32 off for both matmuls and cuDNN
convolutions (PyTorch's default leaves cuDNN's TF32 on, torch.backends.cudnn.allow_tf32,
which would make "fp32" convolutions TF32), `tf32` with both on (FP32 tensors, TF32 tensor
cores), `bf16` and `fp16` as the model's dtype. A forward pass is timed to the end of its
last kernel: the callable synchronizes the device, because CUDA launches return before the
GPU finishes.

torch is imported inside the functions, like the rest of perf-validate.
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from typing import Callable, Iterator

# torch.cuda.get_device_name() -> catalog device (targets/devices/NAME.toml)
GPU_CATALOG = {
    "NVIDIA H200": "h200-sxm",
    "NVIDIA H100 80GB HBM3": "h100-sxm5",
    "NVIDIA H100 PCIe": "h100-pcie",
    "NVIDIA A100-SXM4-80GB": "a100-sxm4-80gb",
}
# The torch device GPU rows run on (a test runs the GPU path on the CPU by changing it).
TORCH_DEVICE = "cuda"


class GpuError(Exception):
    """No usable GPU, or one the catalog cannot name: the message says what to do."""


def catalog_device(gpu_name: str, override: str | None = None) -> str:
    """The catalog device for a GPU: `override` when given (checked against the catalog),
    else GPU_CATALOG's entry for its name."""
    from targets.catalog import list_devices, load_device

    gpus = [d for d in list_devices() if d != "host" and load_device(d).device_class == "gpu"]
    if override is not None:
        if override not in gpus:
            raise GpuError(f"unknown device '{override}'; valid devices: {', '.join(gpus)}")
        return override
    if gpu_name not in GPU_CATALOG:
        raise GpuError(f"no catalog device is known for the GPU '{gpu_name}'; name the one whose "
                       f"figures should predict it with --gpu-device (valid: {', '.join(gpus)})")
    return GPU_CATALOG[gpu_name]


def require_cuda() -> str:
    """The name of CUDA device 0, or GpuError when torch sees none."""
    import torch

    if not torch.cuda.is_available():
        raise GpuError("--device cuda: torch sees no CUDA device (torch.cuda.is_available() is "
                       f"False; torch {torch.__version__}, built for CUDA {torch.version.cuda})")
    return torch.cuda.get_device_name(0)


def storage_precision(precision: str) -> str:
    """The dtype a precision's tensors hold: TF32 computes on FP32 tensors."""
    return "fp32" if precision == "tf32" else precision


@contextmanager
def math_mode(precision: str) -> Iterator[None]:
    """PyTorch's TF32 switches set for `precision` (on for tf32, off otherwise), restored after."""
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    on = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def synchronized(fn: Callable[[], object]) -> Callable[[], object]:
    """`fn` followed by a device synchronize, so a timer sees the GPU's time."""
    import torch

    def run() -> object:
        out = fn()
        torch.cuda.synchronize()
        return out
    return run


def identity(catalog: str) -> dict:
    """The GPU as a validation result records it: name, capability, memory, the catalog
    device that predicts it, and the driver, CUDA and cuDNN versions."""
    import torch

    props = torch.cuda.get_device_properties(0)
    return {"name": props.name, "capability": f"{props.major}.{props.minor}",
            "memory_bytes": props.total_memory, "multiprocessors": props.multi_processor_count,
            "catalog_device": catalog, "driver": driver_version(),
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()}


def driver_version() -> str | None:
    """The NVIDIA driver version from nvidia-smi (torch does not report it), else None."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None
