"""map-tpu physics (targets.tpu_model): weight-stationary passes, padding, fill/drain,
MXU splits, weights that do not fit on chip, and element-wise work on the VPU."""

from __future__ import annotations

import dataclasses

import pytest
from dataclasses import replace

from targets import tpu_model
from targets.catalog import load_device
from targets.mapping_common import PrecisionNotSupportedError
from targets.workload import Gemm, Workload
from test_roofline import conv_workload, elementwise_workload, gemm_workload, run

V4 = load_device("tpu-v4")
CORAL = load_device("coral-edge-tpu")
EDGE_PRO = load_device("tpu-edge-pro")


def test_resnet_conv_on_tpu_v4_by_hand():
    """1x64x56x56 3x3 64->64 conv = GEMM M=3136, N=64, K=576 on 8 MXUs of 128x128.
    Passes: ceil(576/128) x ceil(64/128) = 5 x 1 = 5; padding (576 x 64)/(640 x 128) = 0.45.
    Splitting M in 3 gives 15 (tile, chunk) items, 2 rounds of 1046 + 256 cycles = 2604
    cycles (1 split: 3392, 8 splits: 3240). Efficiency = 3136 x 64 x 576 / (2604 x 8 x
    16384) = 0.3387; all 8 MXUs have work."""
    m = tpu_model.map_workload(conv_workload(1, "bf16"), V4)
    d = m.details
    assert (d["passes"], d["row_splits"], d["array_cycles"]) == (5, 3, 2604)
    assert d["padding_efficiency"] == pytest.approx(0.45)
    assert d["fill_drain_cycles_per_pass"] == 256
    assert m.efficiency == pytest.approx(3136 * 64 * 576 / (2604 * 8 * 16384))
    assert (m.units_used, m.units_total, m.utilization) == (8, 8, 1.0)
    assert m.exec_unit == "mxu" and m.vector_unit == "vpu"
    assert d["weights_on_chip"] and d["weight_bytes_streamed"] == 0


def test_coral_conv_fills_its_tiles():
    """Coral's 16 tiles of 64 output lanes x 4 input values: K = 576 = 144 x 4, N = 64: no
    padding, 144 passes of 3136 + 4 + 64 cycles, dealt to the 16 tiles in 9 rounds;
    efficiency 3136 x 64 x 576 / (9 x 3204 x 16 x 256) = 0.9788."""
    m = tpu_model.map_workload(conv_workload(1, "int8"), CORAL)
    assert m.details["passes"] == 144
    assert m.efficiency == pytest.approx(3136 * 64 * 576 / (9 * 3204 * 16 * 256))
    assert m.memory_level == "sram"


def test_coral_depthwise_fills_one_lane_per_channel():
    """A depthwise 3x3 layer is one GEMM per channel with N = 1: each pass fills one of a
    tile's 64 output lanes (and 9 of 12 input slots: ceil(9 / 4) = 3 passes), so it runs
    at under 1/64 of the peak, still 64x better than on one 64x64 array's column."""
    c, hw = 32, 112
    w = Workload(name="dw", op_class="depthwise_conv", precision="int8",
                 matrix_flops=2 * c * hw * hw * 9, bytes_in=c * hw * hw, bytes_weights=c * 9,
                 bytes_out=c * hw * hw, output_elements=c * hw * hw, batch=1, channels=c,
                 spatial=hw * hw, gemms=(Gemm(hw * hw, 1, 9, c),))
    m = tpu_model.map_workload(w, CORAL)
    assert m.details["passes"] == 3 * c
    assert 1 / 64 * 0.5 < m.efficiency < 1 / 64


@pytest.mark.parametrize("rows, efficiency", [(1, 1 / 384), (128, 128 / 384), (1024, 1024 / 1280)])
def test_fill_and_drain_relative_to_streamed_rows(rows, efficiency):
    """One 128x128 weight tile on TPU Edge Pro's single array: a pass costs
    max(M, 128) + 128 + 128 cycles (the weight shift hides only behind >= 128 rows)."""
    m = tpu_model.map_workload(gemm_workload(rows, 128, 128, "int8"), EDGE_PRO)
    assert m.details["passes"] == 1
    assert m.efficiency == pytest.approx(efficiency)


def test_larger_systolic_array_never_needs_more_passes():
    big = dataclasses.replace(V4, tpu=dataclasses.replace(
        V4.tpu, systolic_rows=dataclasses.replace(V4.tpu.systolic_rows, value=256),
        systolic_cols=dataclasses.replace(V4.tpu.systolic_cols, value=256)))
    for k, n in [(64, 64), (576, 64), (768, 3072), (4096, 4096), (100, 1000), (4608, 512)]:
        small_plan = tpu_model.plan_gemm(Gemm(3136, n, k), 128, 128, 8)
        big_plan = tpu_model.plan_gemm(Gemm(3136, n, k), 256, 256, 8)
        assert big_plan.passes <= small_plan.passes
        w = gemm_workload(3136, n, k)
        assert (tpu_model.map_workload(w, big).details["passes"]
                <= tpu_model.map_workload(w, V4).details["passes"])


def test_coral_streams_weights_that_exceed_its_8_mib_sram():
    """A 4096x4096 INT8 layer has 16 MiB of weights: they cannot stay in the 8 MiB SRAM and
    cross USB 3.0 (500 MB/s) on every inference: 16.8 MB / 500 MB/s = 33.6 ms. The
    activations (4 KiB in, 4 KiB out) stay in the SRAM."""
    w = gemm_workload(1, 4096, 4096, "int8")
    m, est = run(w, CORAL)
    assert not m.details["weights_on_chip"]
    assert m.details["weight_bytes_streamed"] == 16 * 2**20
    assert (m.stream_bytes, m.stream_level, m.memory_level) == (16 * 2**20, "host_memory", "sram")
    sram = CORAL.memory_level("sram").achievable_bandwidth_bytes_per_s
    expected = 16 * 2**20 / 500e6 + (w.bytes_moved - 16 * 2**20) / sram
    assert est.memory_time_s == pytest.approx(expected)
    assert est.bottleneck == "memory"


def test_coral_streams_every_layer_when_the_model_does_not_fit():
    """Parameters are cached only when the whole model's fit: a 1 MiB layer of a 25 MiB
    model streams too."""
    w = replace(gemm_workload(1, 1024, 1024, "int8"), model_weight_bytes=25 * 2**20)
    m = tpu_model.map_workload(w, CORAL)
    assert not m.details["weights_on_chip"] and m.stream_bytes == 2**20
    small = tpu_model.map_workload(gemm_workload(1, 1024, 1024, "int8"), CORAL)
    assert small.details["weights_on_chip"] and small.memory_level == "sram"


def test_elementwise_work_runs_on_the_vpu():
    m = tpu_model.map_workload(elementwise_workload(64 * 56 * 56, "bf16"), V4)
    assert m.exec_unit == m.vector_unit == "vpu"
    assert m.precision == "fp32"                       # the VPU has no BF16 ALU
    assert m.details["unit_kind"] == "vpu" and m.units_total == 2


def test_elementwise_work_without_a_vpu_uses_one_array_row():
    """Coral: one value per lane per cycle, a quarter of a 4-deep tile's MACs."""
    m = tpu_model.map_workload(elementwise_workload(4096, "int8"), CORAL)
    assert m.exec_unit == "systolic" and m.vector_efficiency == pytest.approx(1 / 4)


@pytest.mark.parametrize("device, precision, supported", [
    (CORAL, "fp32", "int8, int4"), (CORAL, "bf16", "int8, int4"),
    (V4, "fp64", "fp32, tf32, fp16, bf16, fp8, fp4, int32, int16, int8, int4"),
])
def test_refused_precision_lists_the_supported_ones(device, precision, supported):
    with pytest.raises(PrecisionNotSupportedError, match=f"supported precisions: {supported}$"):
        tpu_model.map_workload(conv_workload(1, precision), device)


@pytest.mark.parametrize("name", ["tpu-v4", "tpu-v5e", "coral-edge-tpu", "tpu-edge-pro"])
def test_more_batch_never_lowers_utilization(name):
    device = load_device(name)
    prec = "bf16" if device.supports("bf16") else "int8"
    for build in (lambda b: conv_workload(b, prec),
                  lambda b: conv_workload(b, prec, cin=512, cout=512, hw=7),
                  lambda b: gemm_workload(197 * b, 3072, 768, prec),
                  lambda b: gemm_workload(b, 4096, 4096, prec)):
        u = [tpu_model.map_workload(build(b), device).utilization for b in (1, 2, 4, 8, 16, 64)]
        assert u == sorted(u), u
