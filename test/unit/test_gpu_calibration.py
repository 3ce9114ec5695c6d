"""A GPU calibration: a measurements file (what compiler/calibrate/gpu.py writes on a CUDA
machine, made up here with round figures) fitted through the GPU model, then applied by
map-gpu. The figures are hand-checkable: a 2048^3 bf16 GEMM timed at 600 TFLOP/s, a 1 GiB
device copy at 4.0 TB/s, an eager op costing the host 14 us of which a view's 3 us."""

from __future__ import annotations

import copy
import json

import pytest

from targets.calibration import CalibrationError, load
from targets.catalog import load_device
from targets.workload import Gemm, Workload

GEMM_N = 2048
GEMM_FLOPS = 2 * GEMM_N ** 3
MEASURED_TFLOPS = 600e12


def spread(s: float) -> dict:
    return {"min": s * 0.98, "median": s, "max": s * 1.03, "calls_per_burst": 10}


def measurements(gemm_s: float = GEMM_FLOPS / MEASURED_TFLOPS, name: str = "NVIDIA H200") -> dict:
    return {
        "schema": "perf-opt-gpu-measurements", "schema_version": 1,
        "date": "2026-12-02T00:00:00+00:00",
        "gpu": {"name": name, "capability": "9.0", "memory_bytes": 150 << 30,
                "multiprocessors": 132, "driver": "test", "cuda": "12.8", "cudnn": 90100},
        "software": {"torch": "test", "cuda": "12.8", "cudnn": 90100},
        "repeats": 5,
        "host": {"eager_op_s": spread(14e-6), "view_op_s": spread(3e-6), "sync_s": spread(6e-6)},
        "copy": {"bytes": 1 << 30, "bytes_per_s": {"min": 3.9e12, "median": 4.0e12, "max": 4.1e12}},
        "benchmarks": [
            {"name": f"linear {GEMM_N}x{GEMM_N}->{GEMM_N}", "op_class": "matmul",
             "precision": "bf16", "params": {}, "time_s": spread(gemm_s)},
            # a tiny GEMM timed at the host's pace (14 us per eager op): it says nothing
            # about the tensor cores
            {"name": "linear 16x32->32", "op_class": "matmul", "precision": "fp32",
             "params": {}, "time_s": spread(14.5e-6)},
            {"name": "relu 1024", "op_class": "elementwise", "precision": "fp32",
             "params": {}, "error": "no kernel image is available"},
        ],
    }


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from compiler.calibrate.gpu_fit import gpu_calibration

    doc = gpu_calibration(measurements(), "m.json")
    path = tmp_path_factory.mktemp("gpucal") / "h200.json"
    path.write_text(json.dumps(doc))
    return doc, str(path)


def gemm_workload(doc: dict) -> Workload:
    """The benchmark's Workload as the importer built it (nn.Linear: GEMM plus bias add)."""
    from targets.calibration_fit import workload_from_dict

    (bench,) = [b for b in doc["benchmarks"] if b["precision"] == "bf16"]
    return workload_from_dict(bench["workload"])


def times(workload: Workload, device, fractions=None):
    """(matrix, compute) seconds of `workload` on `device` by map-gpu's model."""
    from targets import gpu_model, roofline

    est = roofline.estimate(workload, gpu_model.map_workload(workload, device, fractions), device)
    return est.matrix_time_s, est.compute_time_s


def test_the_document_says_what_was_measured_and_on_which_gpu(fitted):
    doc, _ = fitted
    assert (doc["target"], doc["device"], doc["machine"]["name"]) == ("gpu", "h200-sxm", "NVIDIA H200")
    assert doc["bandwidth"] == {"hbm": {"bytes_per_s": {"min": 3.9e12, "median": 4.0e12, "max": 4.1e12},
                                        "method": "device copy"}}
    assert doc["launch_overhead_s"]["median"] == pytest.approx(11e-6)   # 14 us eager op - 3 us view
    assert doc["dispatch_overhead_s"]["median"] == pytest.approx(3e-6)
    assert doc["conditions"]["skipped"] == ["relu 1024 fp32: no kernel image is available"]
    fits = {b["name"]: b["fit"] for b in doc["benchmarks"]}
    assert fits["linear 16x32->32 fp32"]["bound"] == "overhead"
    assert fits["linear 16x32->32 fp32"]["efficiency"] is None
    gemm = fits[f"linear {GEMM_N}x{GEMM_N}->{GEMM_N} bf16"]
    assert gemm["bound"] == "compute" and gemm["peak_flops_per_s"] == pytest.approx(989.4e12)


def test_map_gpu_reproduces_the_measured_gemm_and_applies_the_measured_rates(fitted):
    _, path = fitted
    cal = load(path)
    device = cal.apply(load_device("h200-sxm"))
    hbm = device.memory_level("hbm")
    assert hbm.achievable_bandwidth_bytes_per_s == pytest.approx(4.0e12)
    assert float(device.overheads.launch_s.value) == pytest.approx(11e-6)
    assert float(device.overheads.framework_dispatch_s.value) == pytest.approx(3e-6)
    # the calibrated fraction gives back the measured time (timed without its launch: the
    # host issued the next call while this one ran)
    w = gemm_workload(cal.raw)
    assert w.gemms == (Gemm(GEMM_N, GEMM_N, GEMM_N),) and w.vector_flops == GEMM_N * GEMM_N
    assert times(w, device, cal.fractions_for(w))[1] == pytest.approx(GEMM_FLOPS / MEASURED_TFLOPS,
                                                                      rel=1e-9)


def test_a_slower_measured_gemm_makes_the_estimate_slower(tmp_path):
    """Direction: measured at 300 instead of 600 TFLOP/s, the same GEMM costs twice as long;
    both are slower than the datasheet model (81.5% of the 989 TFLOP/s dense peak)."""
    from compiler.calibrate.gpu_fit import gpu_calibration

    matrix = []
    for tflops in (600e12, 300e12):
        path = tmp_path / f"{tflops:.0f}.json"
        path.write_text(json.dumps(gpu_calibration(measurements(GEMM_FLOPS / tflops), "m.json")))
        cal = load(path)
        w = gemm_workload(cal.raw)
        matrix.append(times(w, cal.apply(load_device("h200-sxm")), cal.fractions_for(w))[0])
    datasheet = times(w, load_device("h200-sxm"))[0]
    assert datasheet < matrix[0] < matrix[1]
    # the bias add's vector time is the same in both, so the GEMM's own time more than doubles
    assert matrix[1] > 2 * matrix[0]


def test_it_applies_to_the_gpu_it_measured_only(fitted):
    _, path = fitted
    cal = load(path)
    with pytest.raises(CalibrationError, match="measured h200-sxm and applies to it only, not to h100-sxm5"):
        cal.apply(load_device("h100-sxm5"))
    with pytest.raises(CalibrationError, match="a gpu calibration cannot apply to xeon-8480plus"):
        cal.apply(load_device("xeon-8480plus"))


def test_bad_measurement_files_are_clean_errors():
    from compiler.calibrate.gpu_fit import gpu_calibration

    with pytest.raises(CalibrationError, match="m.json: error: schema: expected"):
        gpu_calibration({"schema": "perf-opt-calibration"}, "m.json")
    broken = copy.deepcopy(measurements())
    del broken["copy"]
    with pytest.raises(CalibrationError, match="m.json: error: copy: missing"):
        gpu_calibration(broken, "m.json")
    with pytest.raises(CalibrationError, match="no catalog device is known for the GPU 'NVIDIA B200'.*"
                                               "--gpu-device.*h200-sxm"):
        gpu_calibration(measurements(name="NVIDIA B200"), "m.json")
    # the caller may name the catalog device
    assert gpu_calibration(measurements(name="NVIDIA B200"), "m.json", "h100-sxm5")["device"] == "h100-sxm5"


def test_perf_calibrate_fits_a_measurements_file_for_perf_opt(tmp_path, capsys):
    from tools.perf_calibrate import main as calibrate_main
    from tools.perf_opt import main as opt_main

    raw, out = tmp_path / "m.json", tmp_path / "cal.json"
    raw.write_text(json.dumps(measurements()))
    assert calibrate_main(["--gpu-measurements", str(raw), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["device"] == "h200-sxm"
    assert calibrate_main(["--gpu-measurements", str(tmp_path / "nope.json")]) == 1
    assert "perf-calibrate: error:" in capsys.readouterr().err
    ir = tmp_path / "mm.mlir"
    ir.write_text(MATMUL_IR)
    for device, rc in (("h200-sxm", 0), ("h100-sxm5", 1)):
        capsys.readouterr()
        got = opt_main([str(ir), f"--pass-pipeline=map-gpu{{device={device} calibration={out}}},cost"])
        assert got == rc
    assert "applies to it only, not to h100-sxm5" in capsys.readouterr().err


MATMUL_IR = """\
builtin.module attributes {graph.model = "mm", graph.batch = 1 : i64} {
  func.func @f(%a: tensor<2048x2048xbf16>, %b: tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16> {
    %0 = graph.matmul %a, %b : tensor<2048x2048xbf16> loc("mm")
    func.return %0 : tensor<2048x2048xbf16>
  }
}
"""


def test_the_measuring_half_runs_with_cuda_faked_on_the_cpu(monkeypatch, tmp_path):
    """compiler/calibrate/gpu.py as a GPU session runs it, the CUDA calls stood in for on the
    CPU (events read the wall clock, synchronize counts): the document has the schema the
    fit reads, every benchmark a time, and it fits into a calibration of the named GPU."""
    import time

    import torch

    from compiler import validate_gpu
    from compiler.calibrate import gpu
    from compiler.calibrate.gpu_fit import gpu_calibration

    class Event:
        def __init__(self, **kwargs):
            self.t = 0.0

        def record(self):
            self.t = time.perf_counter()

        def elapsed_time(self, other):  # milliseconds, as CUDA events report
            return (other.t - self.t) * 1e3

    syncs = []
    monkeypatch.setattr(validate_gpu, "TORCH_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "NVIDIA H200")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: syncs.append(1))
    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: None)
    monkeypatch.setattr(validate_gpu, "identity", lambda catalog: {"name": "NVIDIA H200",
                                                                   "catalog_device": catalog})
    saved = []
    raw = gpu.measure("tiny", repeats=2, precisions=("fp32", "bf16"),
                      checkpoint=lambda doc: saved.append(len(doc["benchmarks"])))
    assert raw["schema"] == "perf-opt-gpu-measurements" and raw["gpu"]["catalog_device"] == "h200-sxm"
    assert saved == [4, 8]                     # a checkpoint after each precision
    assert all(b["time_s"]["median"] > 0 for b in raw["benchmarks"])
    assert raw["host"]["eager_op_s"]["median"] > raw["host"]["view_op_s"]["median"] > 0
    assert raw["copy"]["bytes_per_s"]["median"] > 0 and syncs
    monkeypatch.undo()  # torch.export asks CUDA for its devices once is_available says yes
    doc = gpu_calibration(json.loads(json.dumps(raw)), "faked.json")
    assert doc["device"] == "h200-sxm" and len(doc["benchmarks"]) == 8
