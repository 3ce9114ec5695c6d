"""perf-validate --per-op MODEL --compile (compiler/validate_compiled_parts.py): how a
profiled compiled forward splits into parts, how library calls pair with units, that the
estimate's parts add up to its latency, and the MLP end to end. Never checks how fast this
machine is."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from compiler.validate import costed
from compiler.validate_compiled_parts import (
    PARTS, compiled_parts, compiled_parts_table, estimated_parts, paired_by_key, split_profile,
)
from passes import units as U
from passes.map_target import from_attribute


def event(name: str, us: float, start: float = 0.0, children=(), shapes=()):
    return SimpleNamespace(name=name, cpu_time_total=us, time_range=SimpleNamespace(start=start),
                           cpu_children=list(children), input_shapes=list(shapes))


def test_a_profiled_forward_splits_into_library_calls_loops_and_the_wrapper():
    """Inside the compiled graph's call: ATen calls are library calls (keyed by their
    shapes), Inductor's loops are generated loops (one named after the convolution alone
    only copies weights), and what the wall time has beyond both is the wrapper's."""
    graph = event("## Call CompiledFxGraph abc ##", 900.0, children=[
        event("graph_0_cpp_fused_convolution_0", 50.0, start=1),
        event("aten::convolution", 400.0, start=2, shapes=[[1, 64, 56, 56], [64, 64, 3, 3], []]),
        event("graph_0_cpp_fused__native_batch_norm_legit_no_training_relu_1", 150.0, start=3),
        event("aten::addmm", 100.0, start=4, shapes=[[10], [1, 512], [512, 10]]),
    ])
    parts = split_profile([event("TorchDynamo Cache Lookup", 80.0), graph], wall_s=1000e-6)
    assert parts["library calls"] == pytest.approx(500e-6)
    assert parts["generated loops"] == pytest.approx(200e-6)
    assert parts["weight-copy loops"] == pytest.approx(50e-6)
    assert parts["wrapper and guards"] == pytest.approx(300e-6)
    assert parts["guard check"] == pytest.approx(80e-6)
    assert parts["calls"] == [("convolution 1x64x56x56 64x64x3x3", pytest.approx(400e-6)),
                              ("matmul", pytest.approx(100e-6))]
    # two forwards in one profile: every part per forward, each call averaged
    faster = event("## Call CompiledFxGraph abc ##", 700.0, start=10, children=[
        event("aten::convolution", 200.0, start=11, shapes=[[1, 64, 56, 56], [64, 64, 3, 3]]),
        event("aten::addmm", 100.0, start=12, shapes=[[10], [1, 512], [512, 10]])])
    two = split_profile([event("TorchDynamo Cache Lookup", 80.0), graph,
                         event("TorchDynamo Cache Lookup", 60.0), faster], wall_s=1800e-6)
    assert two["library calls"] == pytest.approx(400e-6)
    assert two["generated loops"] == pytest.approx(100e-6)
    assert two["wrapper and guards"] == pytest.approx(400e-6)
    assert two["guard check"] == pytest.approx(70e-6) and two["wall"] == pytest.approx(900e-6)
    assert two["calls"] == [("convolution 1x64x56x56 64x64x3x3", pytest.approx(300e-6)),
                            ("matmul", pytest.approx(100e-6))]


def test_a_shortcut_called_before_its_block_still_pairs_with_its_own_unit():
    units = ["convolution 1x64x56x56 128x64x3x3", "convolution 1x128x28x28 128x128x3x3",
             "convolution 1x64x56x56 128x64x1x1", "matmul"]
    calls = ["convolution 1x64x56x56 128x64x1x1", "convolution 1x64x56x56 128x64x3x3",
             "convolution 1x128x28x28 128x128x3x3", "matmul", "matmul"]
    assert paired_by_key(units, calls) == {0: 1, 1: 2, 2: 0, 3: 3}
    # identical layers pair in order; a unit without a call stays unpaired
    assert paired_by_key(["a", "a", "b"], ["a", "a"]) == {0: 0, 1: 1}


def test_the_estimates_parts_add_up_to_its_latency(zoo_import):
    """resnet18, compiled, on the probed host: every library unit (20 convolutions and the
    classifier) is a call keyed by its shapes, the weight copies are map-cpu's, inside the
    generated loops, and the parts plus the schedule's overlap are the latency."""
    module = costed(zoo_import("resnet18").module, "fp32", "compiled", None)
    parts = estimated_parts(module)
    assert parts["latency"] == pytest.approx(sum(parts[p] for p in PARTS) + parts["schedule"])
    assert parts["schedule"] <= 1e-12
    assert all(parts[p] > 0 for p in PARTS)
    keys = [key for _, key, _ in parts["calls"]]
    assert len(keys) == 21 and keys[-1] == "matmul"
    assert keys[0] == "convolution 1x3x224x224 64x3x7x7"
    copies = sum(float(from_attribute(k.attributes["weight_layout_copy_s"]))
                 for k in U.units(module) if "weight_layout_copy_s" in k.attributes)
    assert parts["weight copies"] == pytest.approx(copies) and copies > 0
    assert parts["generated loops"] > parts["weight copies"]


def test_a_squeeze_excitation_unit_pairs_with_both_of_its_convolutions(zoo_import):
    """EfficientNet-B0's first squeeze-and-excitation unit holds two 1x1 convolutions
    (32 -> 8 on the pooled map, then 8 -> 32): Inductor calls each, so the unit gives two
    keys, in graph order, that share its library time."""
    module = costed(zoo_import("efficientnet_b0").module, "bf16", "compiled", None)
    calls = [c for c in estimated_parts(module)["calls"] if c[0] == "squeeze_excitation_2"]
    assert [key for _, key, _ in calls] == ["convolution 1x32x1x1 8x32x1x1",
                                            "convolution 1x8x1x1 32x8x1x1"]
    assert calls[0][2] == calls[1][2] > 0


def test_a_loop_writing_a_buffer_of_its_own_counts_its_fresh_pages(zoo_import):
    """EfficientNet-B0 batch 8 BF16 compiled: Inductor writes each batch norm + SiLU tail to
    a buffer of its own (cpu_copies.tail_out_of_place), so the pages that buffer faults in
    are the generated loop's time, not the convolution call's: exactly those seconds move
    from one part to the other, and the parts still add up to the latency."""
    from xdsl.dialects.builtin import FloatAttr, f64

    module = costed(zoo_import("efficientnet_b0", 8).module, "bf16", "compiled", None)

    def total(key):
        return sum(float(from_attribute(k.attributes[key])) for k in U.units(module)
                   if key in k.attributes)
    moved = total("loop_first_touch_s")
    assert 0 < moved < total("first_touch_s")
    parts = estimated_parts(module)
    assert parts["latency"] == pytest.approx(sum(parts[p] for p in PARTS) + parts["schedule"])
    for k in U.units(module):
        if "loop_first_touch_s" in k.attributes:
            k.attributes["loop_first_touch_s"] = FloatAttr(0.0, f64)
    unmoved = estimated_parts(module)
    assert parts["generated loops"] - unmoved["generated loops"] == pytest.approx(moved)
    assert unmoved["library calls"] - parts["library calls"] == pytest.approx(moved)


def test_released_pages_are_the_wrappers_time_and_leave_the_parts_that_faulted_them(zoo_import):
    """The pages a buffer faulted in go back to the OS where the wrapper frees it (`del
    buf`: munmap, or glibc trimming its heap): with half of each unit's first-touch time
    spent releasing, that half moves from the library calls and loops into the wrapper,
    the loops' share in proportion to the pages they faulted, and the parts still add up."""
    from xdsl.dialects.builtin import FloatAttr, f64

    module = costed(zoo_import("efficientnet_b0", 8).module, "bf16", "compiled", None)
    before = estimated_parts(module)
    assert before["page release"] == 0.0    # the probed host has no release rate: no split
    touched = [k for k in U.units(module) if float(from_attribute(k.attributes.get(
        "first_touch_s", FloatAttr(0.0, f64)))) > 0]
    assert touched
    half = loop_half = 0.0
    for k in touched:
        release = float(from_attribute(k.attributes["first_touch_s"])) / 2
        k.attributes["page_release_s"] = FloatAttr(release, f64)
        half += release
        loop_half += float(from_attribute(k.attributes["loop_first_touch_s"])) / 2
    after = estimated_parts(module)
    assert after["page release"] == pytest.approx(half)
    assert after["wrapper and guards"] - before["wrapper and guards"] == pytest.approx(half)
    assert before["generated loops"] - after["generated loops"] >= loop_half > 0
    assert (before["library calls"] + before["generated loops"]
            - after["library calls"] - after["generated loops"]) == pytest.approx(half)
    assert after["latency"] == pytest.approx(sum(after[p] for p in PARTS) + after["schedule"])


def test_the_mlp_compiled_end_to_end():
    res = compiled_parts("mlp", 1, "fp32", runs=2, quiet_wait_s=0)
    rows = res["library_calls"]
    assert [r["call"] for r in rows] == ["matmul"] * 3
    assert all(r["measured_s"] > 0 and r["predicted_s"] > 0 for r in rows)
    meas = res["measured"]
    assert meas["library calls"] > 0 and meas["wrapper and guards"] >= 0
    assert meas["guard check"] > 0 and meas["unprofiled"] > 0
    text = compiled_parts_table(res)
    for part in PARTS:
        assert part in text
    assert "guard check" in text and "library calls, 3 of 3 units paired" in text


def test_the_table_says_when_a_call_runs_a_whole_fast_path_layer():
    """The zoo's transformer encoder, compiled in eval mode, calls PyTorch's fused encoder
    layer once per layer (4 calls for its 20 matmul and attention units): the table says so
    instead of leaving the reader with nothing paired."""
    parts = dict.fromkeys(PARTS, 1e-3) | {"schedule": 0.0, "latency": 3e-3,
                                           "weight copies": 0.0, "fresh pages": 0.0}
    measured = dict.fromkeys(PARTS, 1e-3) | {"unprofiled": 3e-3, "wall": 3e-3, "guard check": 2e-4,
                                             "weight-copy loops": 0.0}
    result = {"model": "transformer_encoder", "batch": 1, "precision": "fp32", "calibration": None,
              "estimated": parts, "measured": measured,
              "library_calls": [{"unit": "linear", "call": "matmul", "predicted_s": 1e-4,
                                 "measured_s": None, "error": None}] * 20,
              "unmatched_calls": [{"name": "transformer_encoder_layer_fwd", "measured_s": 1.6e-3}] * 4}
    text = compiled_parts_table(result)
    assert "library calls, 0 of 20 units paired" in text
    assert ("4 calls of transformer_encoder_layer_fwd each run a whole "
            "nn.TransformerEncoderLayer") in text
    mlp = dict(result, unmatched_calls=[{"name": "matmul", "measured_s": 1e-4}])
    assert "fast path" not in compiled_parts_table(mlp)


def test_the_cli_refuses_options_a_compiled_profile_does_not_take(capsys):
    from tools.perf_validate import main

    with pytest.raises(SystemExit) as exit_:
        main(["--per-op", "mlp", "--compile", "--freeze"])
    assert exit_.value.code == 1 and "does not take --freeze" in capsys.readouterr().err
