"""perf-validate (compiler/validate.py, compiler/validate_perop.py): the structure of what
it reports for real runs of the MLP and ResNet-18 at batch 1 with few repeats (rows,
fields, MAPE), the per-op alignment, and the CLI. Never checks how fast this machine is."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from compiler.validate import Config, Row, mape, pipeline_text, validate
from compiler.validate_table import table
from compiler.validate_perop import align, op_kind
from targets.calibration import CalibrationError

# a shipped calibration of this project's test machine (one with a measured clock)
SHIPPED = sorted((ROOT / "targets" / "calibrations").glob("ci-host-zen5-2core-*.json"))[-1]
ROW_FIELDS = {"model", "batch", "precision", "runtime", "measured_s", "measured_min_s",
              "measured_max_s", "repeats", "cpu_utilization", "foreign_load", "busy",
              "predicted_s", "error", "abs_error", "kernels", "note"}


@pytest.fixture(scope="module")
def result():
    return validate(models=("mlp", "resnet18"), batches=(1,), repeats=2, min_time_s=0.005,
                    quiet_wait_s=0)


def test_rows_fields_and_mape(result):
    assert [(r["model"], r["batch"], r["precision"], r["runtime"]) for r in result["rows"]] == [
        ("mlp", 1, "fp32", "eager"), ("resnet18", 1, "fp32", "eager")]
    for r in result["rows"]:
        assert ROW_FIELDS <= set(r)
        assert r["measured_min_s"] <= r["measured_s"] <= r["measured_max_s"]
        assert r["predicted_s"] > 0 and r["repeats"] == 2
        assert r["error"] == pytest.approx((r["predicted_s"] - r["measured_s"]) / r["measured_s"])
        assert r["cpu_utilization"] >= 0 and r["kernels"] > 0
        assert r["reference_copy_bytes_per_s"] > 0      # a DRAM copy timed before the row
    assert result["mape"] == pytest.approx(sum(r["abs_error"] for r in result["rows"]) / 2)
    assert result["failed"] == 0 and result["configurations"] == 2
    assert {"machine", "software", "conditions", "pipelines", "date"} <= set(result)
    assert "fuse" not in result["pipelines"]["eager"]
    # the clock the cores ran at, before and after the rows (None without a C compiler)
    clocks = result["conditions"]["clock_hz_measured"]
    assert len(clocks) == 2 and all(c is None or 0.2e9 < c < 8e9 for c in clocks)
    assert result["estimate_clock"] == {"hz": result["machine"]["clock_hz_reported"],
                                        "source": "reported by the OS"}
    json.dumps(result)  # JSON-ready


def test_table_lists_every_row_and_the_mape(result):
    text = table(result)
    assert "measured ms" in text and "predicted ms" in text
    assert text.count("mlp") == 1 and text.count("resnet18") == 1
    assert "MAPE" in text and "calibration: none" in text


def test_table_says_when_the_machine_runs_at_another_speed_than_at_calibration(result):
    from compiler.validate_table import speed_drift

    faster = dict(result, conditions=dict(result["conditions"], reference_gemm_best_s=0.769e-3,
                                          calibration_reference_gemm_s=0.929e-3))
    line = speed_drift(faster["conditions"])
    assert line.startswith("machine speed: the reference GEMM ran 1.21x faster")
    assert "0.769 vs 0.929 ms" in line and line.endswith("about that much slow")
    assert line in table(faster)
    slower = {"reference_gemm_best_s": 1.2e-3, "calibration_reference_gemm_s": 1.0e-3}
    assert "1.20x slower" in speed_drift(slower) and speed_drift(slower).endswith("much fast")
    assert speed_drift({"reference_gemm_best_s": 1.0e-3, "calibration_reference_gemm_s": 1.04e-3}) is None
    assert speed_drift({"reference_gemm_best_s": 1.0e-3}) is None      # no calibration
    # DRAM copies slowed while the GEMM did not (2-core EPYC VM, 2026-12-02)
    memory = {"reference_gemm_best_s": 1.0e-3, "calibration_reference_gemm_s": 1.0e-3,
              "reference_copy_bytes_per_s": [15.1e9, 13.4e9], "calibration_copy_bytes_per_s": 18.4e9}
    assert speed_drift(memory) == (
        "memory speed: DRAM copies ran at 15.1 and 13.4 GB/s (before and after the rows), 18.4 "
        "when the calibration was measured; memory-bound estimates are off by about as much")
    both = dict(memory, reference_gemm_best_s=1.2e-3)
    assert speed_drift(both).splitlines()[0].startswith("machine speed: the reference GEMM ran 1.20x")
    steady = dict(memory, reference_copy_bytes_per_s=[18.0e9, 18.8e9])
    assert speed_drift(steady) is None
    assert "machine speed" not in table(result)


def test_rows_at_another_memory_speed_are_shown_and_left_out_of_a_second_mape():
    from compiler.validate_table import memory_speed, steady_memory_mape

    def row(rate, error):
        return {"model": "m", "batch": 1, "precision": "fp32", "runtime": "eager",
                "measured_s": 1e-3, "predicted_s": 1e-3 * (1 + error), "error": error,
                "reference_copy_bytes_per_s": rate}

    rows = [row(20e9, 0.10), row(19e9, -0.20), row(15e9, -0.30)]
    result = {"rows": rows, "mape": 0.2, "configurations": 3, "failed": 0, "calibration": "c.json",
              "conditions": {"calibration_copy_bytes_per_s": 20e9,
                             "reference_copy_bytes_per_s": [10e9, 10e9]}}
    assert [memory_speed(result, r) for r in rows] == pytest.approx([1.0, 0.95, 0.75])
    line = steady_memory_mape(result)
    # (10% + 20%) / 2 over the two rows within 10% of the calibration's 20 GB/s
    assert line.startswith("MAPE 15.0% over the 2 configurations measured at the reference's")
    assert line.endswith("mem 0.75-1.00 over all") and line in table(result)
    assert " 0.75 " in table(result).splitlines()[4]
    # without a calibration the run's first copy is the reference
    alone = dict(result, conditions={"reference_copy_bytes_per_s": [15e9, 20e9]})
    assert memory_speed(alone, rows[2]) == pytest.approx(1.0)
    assert steady_memory_mape(dict(result, rows=rows[:2])) is None     # every row steady
    assert steady_memory_mape(dict(result, rows=rows[2:])).startswith("no row ran at")
    old = dict(result, rows=[dict(r, reference_copy_bytes_per_s=None) for r in rows])
    assert steady_memory_mape(old) is None and memory_speed(old, old["rows"][0]) is None


def test_rows_whose_rounds_disagree_are_named_and_left_out_of_a_second_mape():
    from compiler.validate_table import round_spread

    def row(rounds, error):
        return {"model": "m", "batch": 1, "precision": "fp32", "runtime": "eager",
                "measured_s": min(rounds), "predicted_s": min(rounds) * (1 + error),
                "error": error, "round_medians_s": rounds}

    rows = [row([1.0e-3, 1.1e-3], 0.10), row([2.0e-3, 2.2e-3], -0.30), row([5.0e-3, 2.5e-3], 0.40)]
    result = {"rows": rows, "mape": 0.8 / 3, "configurations": 3, "failed": 0,
              "calibration": None, "conditions": {}}
    line = round_spread(result)
    # 5.0 / 2.5 ms moved 2x; (10% + 30%) / 2 over the two within 15%
    assert line == ("rounds: 1 of 3 configurations moved more than 15% between rounds (up to "
                    "2.00x); each keeps its fastest; MAPE 20.0% over the 2 that held")
    assert line in table(result)
    assert round_spread(dict(result, rows=rows[:2])).startswith("rounds: 0 of 2")
    single = [dict(r, round_medians_s=None) for r in rows]
    assert round_spread(dict(result, rows=single)) is None


def test_pipeline_follows_runtime_precision_and_calibration():
    assert pipeline_text("bf16", "eager", None) == (
        "annotate-deps,assign-precision{default=bf16},map-cpu{device=host},cost")
    compiled = pipeline_text("fp32", "compiled", "c.json")
    assert compiled.startswith("fuse,") and "map-cpu{device=host calibration=c.json}" in compiled
    # Inductor's freezing packs the weights once: the fused pipeline with prepacked weights
    frozen = pipeline_text("fp32", "frozen", "c.json")
    assert frozen.startswith("fuse,") and "map-cpu{device=host calibration=c.json weights=prepacked}" in frozen


def test_mape_skips_failed_rows():
    rows = [Row(Config("a", 1, "fp32"), {"median_s": 1.0}, 1.1, datasheet_s=1.5),
            Row(Config("b", 1, "fp32"), {"median_s": 1.0}),
            Row(Config("c", 1, "fp32"), {"median_s": 2.0}, 1.4, datasheet_s=3.0)]
    assert [r.error for r in rows] == [pytest.approx(0.1), None, pytest.approx(-0.3)]
    assert mape(rows) == pytest.approx(0.2)
    assert mape(rows, datasheet=True) == pytest.approx(0.5)
    assert mape(rows[1:2]) is None
    # a faster round replaces the median, and the errors follow it
    rows[0].measured = {"median_s": 0.5}
    assert rows[0].error == pytest.approx(1.2) and rows[0].datasheet_error == pytest.approx(2.0)


def test_a_calibrated_run_gives_the_datasheet_estimate_beside_each_row(result):
    calibrated = dict(result, calibration="c.json", datasheet_mape=0.455, rows=[
        dict(row, datasheet_predicted_s=row["measured_s"] * 1.5, datasheet_error=0.5)
        for row in result["rows"]])
    text = table(calibrated)
    assert "datasheet ms" in text.splitlines()[0]
    assert f"{calibrated['rows'][0]['measured_s'] * 1.5e3:10.3f}   +50.0%" in text
    reported = result["machine"]["clock_hz_reported"] / 1e9
    assert f"; 45.5% with the datasheet figures alone (no calibration, {reported:.2f} GHz)" in text
    assert "(no calibration, 3.57 GHz)" in table(dict(calibrated, clock_ghz=3.57))
    assert "datasheet ms" not in table(result)        # an uncalibrated run has one estimate
    assert result["datasheet_mape"] is None and result["rows"][0]["datasheet_predicted_s"] is None


def test_per_op_alignment_by_kind_and_order():
    assert [op_kind(n) for n in ("relu__3", "aten::relu_", "conv2d_12", "aten::conv2d",
                                 "max_pool2d_with_indices", "aten::max_pool2d", "add_7")] == [
        "relu", "relu", "conv2d", "conv2d", "max_pool2d", "max_pool2d", "add"]
    kernels = [{"name": n, "location": n} for n in ("conv2d", "relu_", "linear")]
    ops = [{"name": n, "kind": op_kind(n), "measured_s": 1e-6}
           for n in ("aten::conv2d", "aten::relu_", "aten::flatten", "aten::linear")]
    pairs, unmatched = align(kernels, ops)
    assert [p["op"]["name"] for p in pairs] == ["aten::conv2d", "aten::relu_", "aten::linear"]
    assert [o["name"] for o in unmatched] == ["aten::flatten"]


def test_per_op_on_the_mlp():
    from compiler.validate_perop import per_op, per_op_table

    res = per_op("mlp", 1, "fp32", runs=2, quiet_wait_s=0)
    assert res["kernels"] == 5 and res["matched"] == 5
    assert {"linear", "relu"} == set(res["by_kind"])
    for r in res["rows"]:
        assert r["predicted_s"] > 0 and r["measured_s"] > 0
    f = res["profiled_forward"]
    assert f["in_ops_s"] > 0 and f["between_ops_s"] >= 0 and f["wall_s"] > 0
    text = per_op_table(res)
    assert "worst offenders" in text and "linear" in text and "between them" in text
    assert "allocator=pinned" not in res["pipeline"]


def test_per_op_with_a_pinned_allocator_predicts_without_first_touch(monkeypatch):
    """--pin-allocator measures with glibc pinned (no fresh pages), so the estimate it is
    compared with must be map-cpu{allocator=pinned}'s, not the default's faults."""
    from compiler.calibrate import memory
    from compiler.validate import predict
    from compiler.validate_perop import per_op

    pinned = []
    monkeypatch.setattr(memory, "pin_allocator", lambda: pinned.append(True))  # keep this process's glibc
    res = per_op("efficientnet_b0", 1, "fp32", runs=1, quiet_wait_s=0, pin_allocator=True)
    assert pinned and res["allocator"] == "pinned" and "allocator=pinned" in res["pipeline"]
    sys.path.insert(0, str(ROOT / "bench"))
    from rescore_host_validation import imported

    module = imported("efficientnet_b0", 1)
    with_pins = predict(module, "fp32", "eager", None, pinned=True)["latency_s"]
    assert res["predicted_total_s"] == pytest.approx(with_pins)
    # EfficientNet-B0's activations fault fresh pages under the default allocator
    assert with_pins < predict(module, "fp32", "eager", None)["latency_s"]


def test_forward_split_counts_the_time_between_top_level_ops():
    from types import SimpleNamespace

    from compiler.validate_perop import forward_split

    def op(start_us, end_us):
        return SimpleNamespace(time_range=SimpleNamespace(start=start_us, end=end_us))

    # ops 0-10, 25-40, 40-45 us: 30 us inside them, 15 us between; the forward took 60 us
    wall, in_ops, between = forward_split([op(0, 10), op(25, 40), op(40, 45)], 60e-6)
    assert (wall, in_ops, between) == pytest.approx((60e-6, 30e-6, 15e-6))
    assert forward_split([], 1e-3) == (1e-3, 0.0, 0.0)


def test_cli_writes_json_and_rejects_bad_input(tmp_path, capsys):
    from tools.perf_validate import main

    out = tmp_path / "v.json"
    # in this process: the isolated worker is the `result` fixture's (saves a torch start)
    assert main(["--models", "mlp", "--batches", "1", "--repeats", "2", "--no-progress",
                 "--quiet-wait", "0", "--in-process", "--rounds", "2", "--json", str(out)]) == 0
    assert "MAPE" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert len(data["rows"]) == 1 and data["mape"] is not None
    # two rounds: the row keeps the faster one's median
    assert data["conditions"]["rounds"] == 2
    rounds = data["rows"][0]["round_medians_s"]
    assert len(rounds) == 2 and data["rows"][0]["measured_s"] == min(rounds)
    with pytest.raises(SystemExit) as exit_:
        main(["--models", "mlp", "--rounds", "0"])
    assert exit_.value.code == 1 and "--rounds must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["--models", "nope"])
    assert exit_.value.code == 1 and "unknown model 'nope'" in capsys.readouterr().err
    cal = tmp_path / "bad.json"
    cal.write_text("{}")
    assert main(["--models", "mlp", "--calibration", str(cal)]) == 1
    err = capsys.readouterr().err
    assert f"{cal}: error: schema" in err and "Traceback" not in err
    # the console entry point itself: a user's mistake exits 1 without a traceback
    bad = subprocess.run([sys.executable, "-m", "tools.perf_validate", "--models", "nope"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "unknown model 'nope'" in bad.stderr


def test_the_clock_line_names_the_measured_reported_and_estimated_clocks(result):
    from compiler.validate import estimate_clock
    from compiler.validate_table import clock_line

    doc = dict(result, machine=dict(result["machine"], clock_hz_reported=2.596e9),
               conditions=dict(result["conditions"], clock_hz_measured=[4.20e9, 4.15e9]),
               estimate_clock={"hz": 4.20e9, "source": "--clock-ghz"})
    line = ("clock: the cores ran at 4.20 and 4.15 GHz (before and after the rows); the OS "
            "reports 2.60; estimates at 4.20 (--clock-ghz)")
    assert clock_line(doc) == line and line in table(doc)
    no_clock = dict(doc, conditions=dict(doc["conditions"], clock_hz_measured=[None, None]))
    assert clock_line(no_clock) is None and "clock:" not in table(no_clock)
    # the option wins over a calibration's clock, which wins over the OS's (map_target's order)
    from targets.calibration import load

    measured = load(SHIPPED).clock_hz
    assert estimate_clock(2.6e9, measured, None) == {"hz": measured, "source": "the calibration's"}
    assert estimate_clock(2.6e9, measured, 3.0)["hz"] == pytest.approx(3.0e9)
    assert estimate_clock(2.6e9, None, None)["source"] == "reported by the OS"
    assert estimate_clock(2.6e9, None, None, gpu="h200-sxm")["hz"] is None


def test_clock_ghz_measured_estimates_at_the_clock_timed_before_the_rows(tmp_path, capsys):
    import shutil

    from tools.perf_validate import main

    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("no C compiler to build the clock loop")
    out = tmp_path / "v.json"
    assert main(["--models", "mlp", "--batches", "1", "--repeats", "2", "--no-progress",
                 "--quiet-wait", "0", "--in-process", "--clock-ghz", "measured",
                 "--calibration", str(SHIPPED), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    before = data["conditions"]["clock_hz_measured"][0]
    assert data["clock_ghz"] == pytest.approx(before / 1e9)
    assert data["estimate_clock"] == {"hz": pytest.approx(before), "source": "--clock-ghz"}
    assert f"clock-ghz={before / 1e9:.6g}" in data["pipelines"]["eager"]
    assert "(--clock-ghz)" in capsys.readouterr().out
    # the row was estimated at that clock
    sys.path.insert(0, str(ROOT / "bench"))
    from compiler.validate import predict
    from rescore_host_validation import imported, measured_clock_ghz

    (row,) = data["rows"]
    at = predict(imported("mlp", 1), "fp32", "eager", str(SHIPPED), clock_ghz=data["clock_ghz"])
    assert row["predicted_s"] == pytest.approx(at["latency_s"])
    # beside it, the datasheet estimate at the same clock
    alone = predict(imported("mlp", 1), "fp32", "eager", None, clock_ghz=data["clock_ghz"])
    assert row["datasheet_predicted_s"] == pytest.approx(alone["latency_s"])
    assert data["datasheet_mape"] == pytest.approx(abs(row["datasheet_error"]))
    # a re-score with `measured` takes the run's own reading over its calibration's

    assert measured_clock_ghz(data) == (pytest.approx(before / 1e9), "measured before the rows")
    old = dict(data, conditions={})     # stored before perf-validate timed the clock
    from targets.calibration import load

    assert measured_clock_ghz(old) == (load(SHIPPED).clock_hz / 1e9, "the calibration's measured clock")
    assert measured_clock_ghz(dict(old, calibration=None))[0] is None


@pytest.mark.parametrize("argv, message", [
    (["--clock-ghz", "2x"], "expected a clock in GHz (a positive number) or 'measured', got '2x'"),
    (["--clock-ghz", "-1"], "got '-1'"),
    (["--clock-ghz", "3000"], "--clock-ghz must be a clock in GHz between 0.05 and 10, got 3000"),
    (["--clock-ghz", "3", "--per-op", "mlp"], "it does not take --per-op"),
    (["--clock-ghz", "measured", "--device", "cuda"], "give a CUDA GPU's clock in GHz"),
])
def test_cli_rejects_a_bad_clock(argv, message, capsys):
    from tools.perf_validate import main

    with pytest.raises(SystemExit) as exit_:
        main(["--models", "mlp"] + argv)
    assert exit_.value.code == 1 and message in capsys.readouterr().err


def test_gpu_rows_are_predicted_by_the_gpus_catalog_device():
    from compiler.validate_gpu import GpuError, catalog_device

    assert pipeline_text("bf16", "eager", None, gpu="h200-sxm") == (
        "annotate-deps,assign-precision{default=bf16},map-gpu{device=h200-sxm},cost")
    assert pipeline_text("tf32", "compiled", None, gpu="a100-sxm4-80gb").startswith(
        "fuse,annotate-deps,assign-precision{default=tf32},map-gpu{device=a100-sxm4-80gb}")
    assert pipeline_text("fp16", "eager", "g.json", gpu="h200-sxm").endswith(
        "map-gpu{device=h200-sxm calibration=g.json},cost")
    assert catalog_device("NVIDIA H200") == "h200-sxm"
    assert catalog_device("NVIDIA H100 80GB HBM3") == "h100-sxm5"
    assert catalog_device("NVIDIA H200", override="h100-sxm5") == "h100-sxm5"
    with pytest.raises(GpuError, match="no catalog device is known for the GPU 'NVIDIA B200'.*"
                                       "--gpu-device .*h200-sxm"):
        catalog_device("NVIDIA B200")
    with pytest.raises(GpuError, match="unknown device 'h300'; valid devices: .*h200-sxm"):
        catalog_device("NVIDIA H200", override="h300")
    # only GPUs of the catalog can predict a GPU row (map-gpu refuses the others)
    with pytest.raises(GpuError) as err:
        catalog_device("NVIDIA H200", override="tpu-v4")
    assert "tpu-v4" not in str(err.value).split("valid devices:")[1]
    assert "jetson-agx-orin-64gb" in str(err.value)


def test_gpu_precisions_set_pytorchs_tf32_switches_and_restore_them():
    import torch

    from compiler.validate_gpu import math_mode, storage_precision

    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    with math_mode("tf32"):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    # fp32 turns off cuDNN's TF32 too, which PyTorch leaves on by default
    with math_mode("fp32"):
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before
    assert storage_precision("tf32") == "fp32" and storage_precision("bf16") == "bf16"


def test_cli_gpu_options_fail_cleanly_without_a_gpu(capsys):
    import torch

    from tools.perf_validate import main

    with pytest.raises(SystemExit) as exit_:
        main(["--precisions", "tf32", "--models", "mlp"])
    assert exit_.value.code == 1
    assert "precision tf32 needs --device cuda" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["--freeze", "--device", "cuda", "--models", "mlp"])
    assert exit_.value.code == 1
    assert "--freeze models a CPU's prepacked weights" in capsys.readouterr().err
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(["--device", "cuda", "--models", "mlp", "--batches", "1", "--no-progress"]) == 1
    assert "perf-validate: error: --device cuda: torch sees no CUDA device" in capsys.readouterr().err


def test_a_measure_only_gpu_file_gets_map_gpu_estimates_from_the_rescore(result, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from rescore_host_validation import rescore

    row = dict(result["rows"][0], precision="bf16", predicted_s=None, error=None, abs_error=None)
    doc = dict(result, rows=[row], measure_only=True, mape=None,
               gpu={"name": "NVIDIA H200", "catalog_device": "h200-sxm"})
    assert "measured only" in table(doc)
    now = rescore(doc, None)
    (got,) = now["rows"]
    assert now["measure_only"] is False and now["mape"] == pytest.approx(got["abs_error"])
    # the estimate is map-gpu's for the H200 (the MLP's 3 kernels: launch-bound there),
    # not map-cpu's for this machine
    from compiler.validate import predict
    from rescore_host_validation import imported

    h200 = predict(imported("mlp", 1), "bf16", "eager", None, gpu="h200-sxm")
    assert got["predicted_s"] == pytest.approx(h200["latency_s"])
    assert got["predicted_s"] != pytest.approx(
        predict(imported("mlp", 1), "bf16", "eager", None)["latency_s"])
    # with the H200's calibration (host 14 us per eager op: test_gpu_calibration), slower
    # than the catalog's 8.4 us for these launch-bound kernels
    from compiler.calibrate.gpu_fit import gpu_calibration
    from test_gpu_calibration import measurements

    cal = tmp_path / "h200.json"
    cal.write_text(json.dumps(gpu_calibration(measurements(), "m.json")))
    (calibrated,) = rescore(doc, str(cal))["rows"]
    assert calibrated["predicted_s"] > got["predicted_s"]
    assert calibrated["predicted_s"] == pytest.approx(
        predict(imported("mlp", 1), "bf16", "eager", str(cal), gpu="h200-sxm")["latency_s"])


def test_the_gpu_path_runs_end_to_end_with_cuda_faked_on_the_cpu(monkeypatch, tmp_path):
    """What perf-validate --device cuda --measure-only does but the CUDA calls: the rows run
    on the CPU in place of the GPU, synchronizing through a counting stand-in, for the catalog
    device of the GPU's name (the estimate: test_a_measure_only_gpu_file_gets_map_gpu_...;
    torch.export asks CUDA for devices once is_available says yes, so no import here)."""
    import torch

    from compiler import validate_gpu

    syncs = []
    monkeypatch.setattr(validate_gpu, "TORCH_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "NVIDIA H200")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: syncs.append(1))
    monkeypatch.setattr(validate_gpu, "identity", lambda catalog: {"catalog_device": catalog})
    out = validate(models=("mlp",), batches=(1,), precisions=("tf32",), repeats=2,
                   min_time_s=0.002, quiet_wait_s=0, device="cuda", measure_only=True)
    (row,) = out["rows"]
    assert out["gpu"] == {"catalog_device": "h200-sxm"} and not out["isolated"]
    assert out["pipelines"]["eager"].endswith("map-gpu{device=h200-sxm},cost")
    assert row["precision"] == "tf32" and row["measured_s"] > 0 and row["predicted_s"] is None
    assert len(syncs) >= row["repeats"]        # every timed call ended with a synchronize
    assert row["reference_copy_bytes_per_s"] is None   # no host DRAM probe for GPU rows
    # a calibration of another GPU fails before anything is measured
    other = tmp_path / "h100.json"
    other.write_text(json.dumps({"schema": "perf-opt-calibration", "schema_version": 1,
                                 "target": "gpu", "device": "h100-sxm5", "machine": {},
                                 "software": {}, "op_classes": {}}))
    with pytest.raises(CalibrationError, match="measured h100-sxm5 and applies to it only"):
        validate(models=("mlp",), batches=(1,), device="cuda", calibration=str(other))
