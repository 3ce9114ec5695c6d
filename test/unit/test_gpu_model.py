"""map-gpu physics (targets.gpu_model): SMs, tiles, waves, occupancy, tensor-core
eligibility, and agreement with published H100 GEMM measurements."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from targets import gpu_model
from targets.catalog import load_device
from targets.mapping_common import PrecisionNotSupportedError, balance
from targets.workload import Gemm
from test_roofline import conv_workload, elementwise_workload, gemm_workload, run

H100 = load_device("h100-sxm5")
A100 = load_device("a100-sxm4-80gb")


def test_small_gemm_uses_a_handful_of_sms():
    """64x64x64 BF16 at batch 1: 32x32 tiles (the most parallel) -> 2 x 2 = 4 blocks on 4
    of 132 SMs, one wave, utilization 4/132 = 0.030. K = 64 is one 64-element step, so the
    pipeline reaches 1/3; a 32x32 tile needs 468 GB/s of operands per SM but shared memory
    gives 253 GB/s (0.541). Efficiency = 4/132 x 1/3 x 0.541 x 0.8667 = 0.00474."""
    m = gpu_model.map_workload(gemm_workload(64, 64, 64), H100)
    assert m.units_used == 4 and m.units_total == 132
    assert m.utilization == pytest.approx(4 / 132)
    d = m.details
    assert (d["tile_m"], d["blocks"], d["waves"], d["k_steps"]) == (32, 4, 1, 1)
    assert d["pipeline_efficiency"] == pytest.approx(1 / 3)
    assert d["operand_bandwidth_efficiency"] == pytest.approx(0.541, abs=1e-3)
    assert m.efficiency == pytest.approx(0.00474, rel=1e-2)
    assert m.memory_level == "l2"            # 24 KiB working set fits the 50 MiB L2


def test_large_gemm_fills_all_sms_in_several_waves():
    """4096^3 BF16: 1024 tiles of 128x128 on 132 SMs -> 8 waves, the last with 1024 - 7 x
    132 = 100 SMs busy; utilization 1024/1056 = 0.970; efficiency 0.970 x 64/66 x 0.8667 =
    0.815 (the published 806 TFLOPS of 989.4)."""
    m = gpu_model.map_workload(gemm_workload(4096, 4096, 4096), H100)
    d = m.details
    assert m.units_used == 132 and d["tensor_cores"] and d["tile_m"] == 128
    assert (d["blocks"], d["waves"], d["tail_sms_busy"]) == (1024, 8, 100)
    assert m.utilization == pytest.approx(1024 / 1056)
    assert m.efficiency == pytest.approx(0.8149, rel=1e-3)
    assert d["resident_blocks_per_sm"] == 1 and d["occupancy"] == pytest.approx(4 / 64)
    assert m.memory_level == "hbm" and m.overhead_s == 5e-6


def test_vector_kernel_one_thread_per_output_element():
    """200704 outputs -> 200704 threads, 6272 warps, 784 blocks of 256; 8 blocks resident
    per SM (2048 threads / 256); 784 blocks on 132 SMs: utilization 784/(132 x 6) = 0.990."""
    m = gpu_model.map_workload(elementwise_workload(64 * 56 * 56, "fp32"), H100)
    d = m.details
    assert (d["threads"], d["warps"], d["blocks"]) == (200704, 6272, 784)
    assert d["vector_resident_blocks_per_sm"] == 8
    assert m.exec_unit == "cuda_core" and not d["tensor_cores"]
    assert m.utilization == pytest.approx(784 / 792)
    assert m.vector_efficiency == m.efficiency == pytest.approx(784 / 792)


def test_occupancy_limits_follow_the_catalog():
    """Jetson Orin (cc 8.7): 1536 threads per SM -> 6 blocks of 256; H100: 8."""
    orin = load_device("jetson-agx-orin-64gb")
    assert gpu_model.resident_blocks(orin.gpu, 256, 32, 0) == 6
    assert gpu_model.resident_blocks(H100.gpu, 256, 32, 0) == 8
    assert gpu_model.resident_blocks(H100.gpu, 256, 255, 0) == 1     # registers bind
    assert gpu_model.resident_blocks(H100.gpu, 128, 32, 100 * 1024) == 2   # shared memory


@pytest.mark.parametrize("precision, k, n, unit, aligned", [
    ("bf16", 4096, 4096, "tensor_core", True),
    ("fp32", 4096, 4096, "cuda_core", True),     # FP32 is not a tensor-core format
    ("tf32", 4096, 4096, "tensor_core", True),   # unless the user chose TF32
    ("bf16", 100, 4096, "tensor_core", False),   # K not a multiple of 8: padded to 104
    ("int8", 1032, 4096, "tensor_core", False),  # K a multiple of 8 but not of 16: padded
    ("int8", 1024, 4096, "tensor_core", True),
    ("tf32", 4096, 1026, "tensor_core", False),  # N not a multiple of 4: padded to 1028
])
def test_tensor_core_eligibility(precision, k, n, unit, aligned):
    m = gpu_model.map_workload(gemm_workload(512, n, k, precision), H100)
    assert m.exec_unit == unit
    assert m.details["tensor_cores"] == (unit == "tensor_core")
    if unit == "tensor_core":
        assert m.details["tensor_core_aligned"] == aligned


def test_unaligned_gemm_is_padded_onto_tensor_cores():
    """K = 100 in int8 pads to 112 (16-element alignment): 100/112 of the work is useful,
    and the padded GEMM is never faster than an aligned one of the padded size."""
    m = gpu_model.map_workload(gemm_workload(512, 112, 100, "int8"), H100)
    assert (m.exec_unit, m.precision) == ("tensor_core", "int8")
    assert m.details["alignment_efficiency"] == pytest.approx(100 / 112)
    aligned = gpu_model.map_workload(gemm_workload(512, 112, 112, "int8"), H100)
    assert m.efficiency == pytest.approx(aligned.efficiency * 100 / 112, rel=1e-6)


@pytest.mark.parametrize("name", ["h100-sxm5", "a100-sxm4-80gb", "jetson-agx-orin-64gb"])
def test_int8_not_slower_than_fp32_for_compute_bound_gemm(name):
    device = load_device(name)
    _, int8 = run(gemm_workload(4096, 4096, 4096, "int8"), device)
    _, fp32 = run(gemm_workload(4096, 4096, 4096, "fp32"), device)
    assert fp32.bottleneck == "compute"
    assert int8.latency_s <= fp32.latency_s


def test_emulated_fp4_maps_to_fp8_tensor_cores():
    m = gpu_model.map_workload(gemm_workload(1024, 1024, 1024, "fp4"), H100)
    assert m.emulated and (m.exec_unit, m.precision) == ("tensor_core", "fp8")
    assert m.details["tile_k"] == 128                 # 128 bytes of 8-bit operands


def test_refused_precision_lists_the_supported_ones():
    """No catalog GPU refuses a precision today, so make Orin refuse FP8."""
    orin = load_device("jetson-agx-orin-64gb")
    refusing = dataclasses.replace(orin, emulation=MappingProxyType(
        {**orin.emulation, "fp8": dataclasses.replace(
            orin.emulation["fp8"], mode="refuse", reason="no FP8 in this test")}))
    with pytest.raises(PrecisionNotSupportedError,
                       match=r"cannot run fp8 .*supported precisions: fp64, fp32, .*int8"):
        gpu_model.map_workload(gemm_workload(64, 64, 64, "fp8"), refusing)
    with pytest.raises(ValueError):
        gpu_model.map_workload(gemm_workload(64, 64, 64, "fp8"), refusing)


@pytest.mark.parametrize("name", ["h100-sxm5", "h100-pcie", "a100-sxm4-80gb"])
def test_more_batch_never_lowers_utilization_from_batch_one(name):
    """Layers that under-fill a big GPU at batch 1 use more of it at batch 8 and 64. Not a
    law for every shape: a layer that (nearly) fills the GPU at batch 1 can leave a wave
    tail at a larger batch (ViT's 197x768x3072 MLP: 0.982 of H100-PCIe's 114 SMs at batch 1,
    0.957 at batch 8), see the sawtooth test below."""
    device = load_device(name)
    for build in (lambda b: conv_workload(b, "int8"),
                  lambda b: conv_workload(b, "int8", cin=512, cout=512, hw=7),
                  lambda b: gemm_workload(b, 4096, 4096, "int8"),
                  lambda b: elementwise_workload(b * 64 * 56 * 56, "int8", batch=b)):
        u = [gpu_model.map_workload(build(b), device).utilization for b in (1, 8, 64)]
        assert u[0] <= u[1] and u[0] <= u[2], u


def test_integer_multiples_of_blocks_never_lower_utilization():
    """With a fixed tile, k times the blocks never lowers the time-averaged SM share."""
    for blocks in range(1, 400):
        for k in (2, 3, 8):
            assert balance(k * blocks, 132) >= balance(blocks, 132)


def test_wave_tail_can_lower_utilization_between_neighbouring_batches():
    """The sawtooth is physics, not a bug: A100, 512-channel 7x7 3x3 conv. Batch 2: M = 98
    -> 4 x 16 = 64 tiles of 32x32, one partial wave (64/108 = 0.593). Batch 4: M = 196 ->
    7 x 16 = 112 tiles, two waves on 108 SMs, the second with 4 tiles (112/216 = 0.519)."""
    u2 = gpu_model.map_workload(conv_workload(2, "bf16", 512, 512, 7), A100)
    u4 = gpu_model.map_workload(conv_workload(4, "bf16", 512, 512, 7), A100)
    assert (u2.details["blocks"], u4.details["blocks"]) == (64, 112)
    assert u2.utilization == pytest.approx(64 / 108)
    assert u4.utilization == pytest.approx(112 / 216)
    assert u4.details["tail_sms_busy"] == 4


def test_calibration_overrides_the_achievable_fraction():
    m = gpu_model.map_workload(gemm_workload(4096, 4096, 4096), H100, {"matmul": 0.5})
    assert m.details["achievable_fraction_source"] == "calibration"
    assert m.efficiency == pytest.approx(1024 / 1056 * 64 / 66 * 0.5)


# (batch, m, n, k, FLOP/s) rows of OpenXLA's published H100 (sm_90) BF16 GEMM table,
# xla/service/gpu/model/matmul_interpolator_data.h (kDefaultMatmulPTable).
XLA_SM90_BF16 = [
    (1, 1024, 2048, 256, 139519467775467), (1, 4096, 512, 512, 238821580071174),
    (2, 1024, 2048, 1024, 493447529411764), (4, 1024, 2048, 2048, 712739345502821),
    (1, 2048, 2048, 2048, 631984593290170), (1, 4096, 4096, 256, 392162828341855),
    (2, 4096, 4096, 2048, 763011394582711), (4, 4096, 4096, 512, 619859436746254),
    (1, 512, 256, 256, 11459846994535), (4, 256, 256, 256, 22550021505376),
]


@pytest.mark.parametrize("b, m, n, k, flops", XLA_SM90_BF16)
def test_latency_tracks_published_h100_gemm_measurements(b, m, n, k, flops):
    """Within 20 % of the measured time per call on shapes from 4 to 275 GFLOP (only the
    4096^3 point was used to calibrate GEMM_ACHIEVABLE_FRACTION)."""
    w = gemm_workload(m, n, k, "bf16", batch=b)
    measured = w.matrix_flops / flops
    _, est = run(w, H100)
    assert est.latency_s == pytest.approx(measured, rel=0.2)


def test_gemm_without_shapes_is_reconstructed():
    w = gemm_workload(4096, 4096, 4096)
    bare = type(w)(**{**w.__dict__, "gemms": ()})
    m = gpu_model.map_workload(bare, H100)
    assert m.details["blocks"] == 1024 and m.efficiency == pytest.approx(0.8149, rel=1e-3)
    assert gpu_model.tensor_core_aligned((Gemm(8, 8, 8),), "bf16")
