"""map-kpu physics (targets.kpu_model): scratchpad-fitting tiles, tiling iterations,
double-buffered load/compute/store overlap, tile engines busy, the vector fallback."""

from __future__ import annotations

import dataclasses

import pytest

from targets import kpu_model
from targets.catalog import load_device
from targets.mapping_common import PrecisionNotSupportedError
from test_roofline import (
    conv_workload, elementwise_workload, gemm_workload, run, with_bandwidth,
)

T256 = load_device("kpu-t256")
T100 = load_device("kpu-t100")


def test_one_tile_gemm_by_hand():
    """8x8x8 INT8 on KPU-T256 (8x8 PEs, 64 INT8 MACs/cycle per engine = 33.8e12 / (2 x
    1.0315e9 x 256), 256 GB/s DRAM): one 8x8x8 tile on one engine.
    Scratchpad: 2 x ((64 + 64) x 1 B + 64 x 4 B) = 768 B.
    Load 128 B / 256 GB/s = 0.5 ns; compute (512/64 + 8 + 8 fill) cycles / 1.0315 GHz =
    23.267 ns; store 64 B = 0.25 ns. Time = max(0.5, 23.267, 0.25) + 0.5 (prologue) + 0.25
    (epilogue) = 24.017 ns. Efficiency = 512 MACs / (24.017 ns x 16.9e12 MAC/s) = 0.0012614,
    on 1 of 256 engines."""
    m = kpu_model.map_workload(gemm_workload(8, 8, 8, "int8"), T256)
    d = m.details
    assert (d["tile_m"], d["tile_n"], d["tile_k"], d["tiling_iterations"]) == (8, 8, 8, 1)
    assert d["scratchpad_bytes_used"] == 768
    assert d["compute_s_per_engine"] == pytest.approx(24 / 1.0315e9, rel=1e-4)
    assert d["load_s_per_engine"] == pytest.approx(0.5e-9)
    assert m.efficiency == pytest.approx(0.0012614, rel=1e-3)
    assert (m.units_used, m.units_total) == (1, 256)
    assert m.utilization == pytest.approx(1 / 256)
    assert m.memory_level == "dram" and m.exec_unit == "tile_array"


@pytest.mark.parametrize("device", [T256, T100, load_device("kpu-t2")])
def test_tiles_fit_the_double_buffered_scratchpad(device):
    for w in (conv_workload(1, "int8"), conv_workload(8, "int8", 512, 512, 7),
              gemm_workload(4096, 4096, 4096, "fp16")):
        d = kpu_model.map_workload(w, device).details
        b = 1 if w.precision == "int8" else 2
        need = 2 * ((d["tile_m"] * d["tile_k"] + d["tile_k"] * d["tile_n"]) * b
                    + d["tile_m"] * d["tile_n"] * kpu_model.KPU_ACCUMULATOR_BYTES)
        assert d["scratchpad_bytes_used"] == need <= d["scratchpad_capacity_bytes"]
        assert d["tile_m"] % d["pe_rows"] == 0 and d["tile_n"] % d["pe_cols"] == 0
        assert 0 < d["overlap_efficiency"] <= 1 and 0 < d["padding_efficiency"] <= 1


def test_iterations_are_output_tiles_times_k_chunks():
    m = kpu_model.map_workload(conv_workload(1, "int8"), T256)
    d = m.details
    k_chunks = -(-576 // d["tile_k"])
    assert d["tiling_iterations"] == d["output_tiles"] * k_chunks
    assert m.units_used == min(d["output_tiles"], 256)


def test_dram_bound_tiles_are_load_bound_and_more_bandwidth_helps():
    """KPU-T256 at batch 1 is load-bound (256 GB/s feeding 33.8 TOPS): each engine spends
    longer loading than computing. Eight times the bandwidth raises the efficiency."""
    w = conv_workload(1, "int8")
    slow = kpu_model.map_workload(w, T256)
    fast = kpu_model.map_workload(w, with_bandwidth(T256, 8.0))
    assert slow.details["load_s_per_engine"] > slow.details["compute_s_per_engine"]
    assert slow.details["overlap_efficiency"] < 1
    assert fast.efficiency > slow.efficiency


def test_tiles_load_from_shared_sram_when_the_working_set_fits():
    assert kpu_model.map_workload(conv_workload(1, "int8"), T100).details[
        "tile_source_level"] == "shared_sram"


def test_smaller_scratchpad_is_never_faster():
    small = dataclasses.replace(T256, kpu=dataclasses.replace(
        T256.kpu, scratchpad_per_tile_bytes=dataclasses.replace(
            T256.kpu.scratchpad_per_tile_bytes, value=16 * 1024)))
    for w in (conv_workload(1, "int8"), gemm_workload(1024, 1024, 1024, "int8")):
        assert run(w, small)[1].latency_s >= run(w, T256)[1].latency_s
        assert kpu_model.map_workload(w, small).details["scratchpad_bytes_used"] <= 16 * 1024


def test_weights_stay_resident_when_the_whole_k_fits():
    m = kpu_model.map_workload(conv_workload(64, "int8"), T256)
    d = m.details
    assert d["tile_k"] == 576 and d["weights_resident"]
    assert d["weight_tile_loads_per_engine"] <= 2


def test_fp32_runs_on_the_vector_unit_and_bf16_is_emulated_there():
    fp32 = kpu_model.map_workload(gemm_workload(512, 512, 512, "fp32"), T256)
    bf16 = kpu_model.map_workload(gemm_workload(512, 512, 512, "bf16"), T256)
    assert (fp32.exec_unit, fp32.precision, fp32.emulated) == ("vector", "fp32", False)
    assert (bf16.exec_unit, bf16.precision, bf16.emulated) == ("vector", "fp32", True)
    relu = kpu_model.map_workload(elementwise_workload(4096, "int8"), T256)
    assert relu.exec_unit == "vector" and relu.precision == "int32"


def test_refused_precision_lists_the_supported_ones():
    with pytest.raises(PrecisionNotSupportedError,
                       match="kpu-t256 cannot run fp64 .*supported precisions: fp32, .*int4$"):
        kpu_model.map_workload(conv_workload(1, "fp64"), T256)


@pytest.mark.parametrize("device", [T256, T100])
def test_more_batch_never_lowers_utilization(device):
    """Engines busy = min(output tiles, engines). The tiling minimizes time, so when DRAM
    binds it may leave engines idle on purpose; across 1, 8, 64 the share never drops."""
    for build in (lambda b: conv_workload(b, "int8"),
                  lambda b: conv_workload(b, "int8", cin=512, cout=512, hw=7),
                  lambda b: gemm_workload(197 * b, 3072, 768, "int8"),
                  lambda b: elementwise_workload(b * 200704, "int8", batch=b)):
        u = [kpu_model.map_workload(build(b), device).utilization for b in (1, 8, 64)]
        assert u == sorted(u), u
