"""Calibration files (targets/calibration.py) and perf-calibrate (compiler/calibrate/):
the schema of what a (tiny) real run writes, how map-cpu uses a calibration (lower
efficiency -> slower, more bandwidth -> faster memory-bound kernels), the fit that inverts
the CPU model, and clean errors for bad files. Never checks how fast this machine is."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from compiler.calibrate.machine import bf16_supported
from targets import cpu_model, roofline
from targets.calibration import (
    SCHEMA, SCHEMA_VERSION, CalibrationError, from_dict, interpolate, load,
)
from targets.calibration_fit import fit_one, workload_to_dict
from targets.catalog import load_device
from targets.op_kinds import op_kind
from targets.host import probe
from targets.workload import OP_CLASSES, Gemm, Workload
from test_roofline import conv_workload, elementwise_workload, gemm_workload

HOST = load_device("host")
SHIPPED = sorted((ROOT / "targets" / "calibrations").glob("*.json"))


def spread(x: float) -> dict:
    return {"min": x * 0.9, "median": x, "max": x * 1.1}


def band(center: float, efficiency: float) -> dict:
    return {"flops_min": center / 2, "flops_max": center * 2, "flops_center": center,
            "efficiency": efficiency, "achieved_flops_per_s": spread(1e9),
            "fraction_of_peak": spread(efficiency), "benchmarks": ["synthetic"]}


def document(efficiencies: dict[str, list[tuple[float, float]]] | None = None,
             bandwidth: dict[str, float] | None = None, dispatch: float | None = None,
             clock: float | None = None) -> dict:
    """A minimal valid calibration document (synthetic numbers)."""
    efficiencies = efficiencies or {}
    doc = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "name": "synthetic",
        "target": "cpu", "date": "2026-01-01T00:00:00+00:00",
        "machine": {"cpu_model": "test CPU", "physical_cores": 2, "threads_used": 2},
        "software": {"torch": "0", "python": "3.11", "perf_opt": "0.1.0"},
        "op_classes": {cls: {"fp32": {"bands": [band(c, e) for c, e in bands]}}
                       for cls, bands in efficiencies.items()},
        "bandwidth": {lvl: {"bytes_per_s": spread(bw), "method": "synthetic"}
                      for lvl, bw in (bandwidth or {}).items()},
    }
    if dispatch is not None:
        doc["dispatch_overhead_s"] = spread(dispatch)
    if clock is not None:
        doc["clock"] = {"measured_hz": spread(clock), "method": "synthetic"}
    return doc


def write(tmp_path: Path, doc, name: str = "cal.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(path)


def latency(workload, device, fractions=None) -> float:
    mapping = cpu_model.map_workload(workload, device, fractions)
    return roofline.estimate(workload, mapping, device).latency_s


# --------------------------------------------------------------------------- a real (tiny) run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """perf-calibrate's code path with tiny sizes (the suite's 'tiny' preset trimmed)."""
    from compiler.calibrate import calibrate
    from compiler.calibrate.suite import attention, batchnorm, binary, conv, dwconv, linear, unary

    # the GEMM and convolution take well over a library call's fixed cost (up to ~50 us in
    # BF16), which the run measures and the fit subtracts
    benches = [linear(64, 256, 256), conv(32, 32, 28, 3), dwconv(32, 28), unary("relu", 1 << 16),
               binary("add", 1 << 16), batchnorm(4, 8), attention(1, 2, 16, 8)]
    doc = calibrate("tiny", repeats=2, benches=benches, progress=False, quiet_wait_s=0,
                    measure_clock=False)
    path = tmp_path_factory.mktemp("cal") / "tiny.json"
    path.write_text(json.dumps(doc))
    return doc, str(path)


def test_tiny_run_writes_the_documented_schema(tiny_run):
    doc, path = tiny_run
    assert doc["schema"] == SCHEMA and doc["schema_version"] == SCHEMA_VERSION
    m = doc["machine"]
    for key in ("cpu_model", "physical_cores", "logical_cpus", "threads_used", "flags", "caches"):
        assert key in m
    assert {"avx2", "avx512f", "avx512_bf16", "amx"} <= set(m["flags"])
    assert {"torch", "python", "perf_opt"} <= set(doc["software"])
    assert doc["date"] and doc["mode"] == "custom"
    assert set(doc["op_classes"]) <= set(OP_CLASSES)
    # bands exist for exactly the (class, precision) pairs with a fitted benchmark: a
    # benchmark faster than the model's dispatch overhead has no fit and adds no band
    # (CI once saw a 16K-element fp32 relu do that while its bf16 twin fitted)
    fitted = {(b["op_class"], b["precision"]) for b in doc["benchmarks"]
              if b["fit"]["efficiency"] is not None}
    banded = {(cls, prec) for cls, per_prec in doc["op_classes"].items() for prec in per_prec}
    assert fitted and banded == fitted
    # bf16 is measured exactly where the CPU computes it natively (AVX512-BF16 or AMX)
    precisions = {"fp32", "bf16"} if bf16_supported(probe()) else {"fp32"}
    assert {b["precision"] for b in doc["benchmarks"]} == precisions
    assert {prec for _, prec in banded} == precisions   # the GEMMs and convolutions always fit
    for per_prec in doc["op_classes"].values():
        for b in (b for bands in per_prec.values() for b in bands["bands"]):
            assert b["flops_min"] <= b["flops_center"] <= b["flops_max"]
            assert 0 < b["efficiency"] <= 1
            for key in ("achieved_flops_per_s", "fraction_of_peak"):
                s = b[key]
                assert s["min"] <= s["median"] <= s["max"]
    # bandwidth for every memory level of the host device, with a spread
    assert set(doc["bandwidth"]) == {lvl.name for lvl in HOST.memory}
    for entry in doc["bandwidth"].values():
        s = entry["bytes_per_s"]
        assert 0 < s["min"] <= s["median"] <= s["max"] and entry["method"]
    assert 0 < doc["dispatch_overhead_s"]["median"] < 1e-3
    # a minimal call of each always-oneDNN class, in every measured precision
    assert {(cls, p) for cls, per in doc["library_call_s"].items() for p in per} == {
        (cls, p) for cls in ("conv", "depthwise_conv", "matmul") for p in precisions
        if (cls, p) != ("matmul", "fp32")}
    # calling a torch.compile'd graph: measured wherever Inductor has a C++ compiler
    if shutil.which("g++") or shutil.which("c++"):
        assert 0 < doc["compiled_call_s"]["median"] < 1e-3
        assert doc["overhead_timing"]["compiled_call"]["compiled"]["median_s"] > \
            doc["overhead_timing"]["compiled_call"]["eager"]["median_s"]
    # Dynamo's guard check of the MLP (6 parameters), per parameter, whatever compiles it
    guards = doc["guard_check_per_parameter_s"]
    assert 0 < guards["min"] <= guards["median"] <= guards["max"] < 1e-4
    assert [(m["model"], m["parameters"]) for m in
            doc["overhead_timing"]["guard_check"]["models"]] == [("mlp", 6)]
    # NCHW <-> channels-last copies, both ways, in every measured precision
    reorder = doc["layout_reorder"]
    assert 0 < reorder["bytes_per_s"]["min"] <= reorder["bytes_per_s"]["median"] <= reorder["bytes_per_s"]["max"]
    assert {(c["precision"], c["direction"]) for c in reorder["cases"]} == {
        (p, d) for p in precisions for d in ("to_channels_last", "to_nchw")}
    # every benchmark records its timing spread, CPU utilization and fit
    for b in doc["benchmarks"]:
        assert b["op_class"] in OP_CLASSES and b["class_matches"]
        t = b["time_s"]
        assert 0 < t["min"] <= t["median"] <= t["max"]
        assert b["timing"]["cpu_utilization"] >= 0 and "foreign_load" in b["timing"]
        assert b["fit"]["bound"] in ("compute", "memory", "overhead")
    assert doc["peak_flops"]["fp32"]["calibrated"] > 0
    # and it reads back through the validating loader
    cal = load(path)
    assert cal.dispatch_overhead_s == pytest.approx(doc["dispatch_overhead_s"]["median"])
    assert "calibration" in cal.provenance()


def test_tiny_run_calibration_drives_map_cpu(tiny_run):
    """The file works as a map-cpu option end to end (no claim about its numbers)."""
    _, path = tiny_run
    from compiler.context import make_context
    from compiler.pipeline import build
    from passes.cost import module_value
    from conftest import imported

    module = imported("mlp", 1).module.clone()
    ctx = make_context()
    for p in build(f"annotate-deps,assign-precision{{default=fp32}},map-cpu{{device=host calibration={path}}},cost"):
        p.apply(ctx, module)
    assert module.attributes["perf.calibration"].data == path
    assert module_value(module, "perf.latency_s") > 0
    kernels = [op for op in module.walk() if op.name == "perf.cpu_kernel"]
    sources = {k.attributes["name"].data: k.attributes["class_efficiency_source"].data
               for k in kernels}
    # the linears are matmuls, which the run measured and fitted
    assert sources["linear"] == "calibration", sources


def test_map_cpu_names_the_benchmark_that_set_a_kernels_efficiency():
    """resnet18's 64 -> 64 3x3 layers at 56x56 have the shape of the Xeon calibration's
    'conv 3x3/1 64->64 @56' benchmark: map-cpu marks them with it and uses its fitted
    efficiency; the 1x1 stride-2 downsampling layer (no such benchmark) gets none."""
    from compiler.context import make_context
    from compiler.pipeline import build
    from conftest import imported
    from passes.report_data import collect

    path = str(ROOT / "targets" / "calibrations" / "ci-host-xeon-2core.json")
    module = imported("resnet18", 1).module.clone()
    for p in build(f"annotate-deps,assign-precision{{default=fp32}},map-cpu{{device=host calibration={path}}}"):
        p.apply(make_context(), module)
    kernels = {k.attributes["name"].data: k for k in module.walk() if k.name == "perf.cpu_kernel"}
    layer1 = kernels["conv2d_1"]
    assert layer1.attributes["calibration_kernel"].data == "conv 3x3/1 64->64 @56"
    fitted = next(b["fit"]["efficiency"] for b in json.loads(Path(path).read_text())["benchmarks"]
                  if b["name"] == "conv 3x3/1 64->64 @56" and b["precision"] == "fp32")
    assert layer1.attributes["class_efficiency"].value.data == pytest.approx(fitted)
    assert "calibration_kernel" not in kernels["conv2d_7"].attributes
    for p in build("cost"):
        p.apply(make_context(), module)
    rows = {r["name"]: r for r in collect(module)["subgraphs"]}
    assert rows["conv2d_1"]["calibration_kernel"] == "conv 3x3/1 64->64 @56"
    assert rows["conv2d_7"]["calibration_kernel"] is None


@pytest.mark.skipif(not SHIPPED, reason="no shipped calibration yet")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_calibrations_load(path):
    cal = load(path)
    assert cal.bands and cal.bandwidth and cal.dispatch_overhead_s is not None
    from_dict(json.loads(path.read_text()), str(path))


@pytest.mark.skipif(not SHIPPED, reason="no shipped calibration yet")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_calibrations_are_fitted_with_the_current_cpu_model(path, tmp_path):
    """`perf-calibrate --refit` fits for the machine the file recorded (not this one), so
    refitting a shipped file reproduces its peaks on any host; and the shipped fits must be
    those of the current CPU model (when this fails after a model change, refit them:
    perf-calibrate --refit FILE -o FILE)."""
    out = tmp_path / "refit.json"
    done = subprocess.run([sys.executable, "-m", "tools.perf_calibrate", "--refit", str(path),
                           "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shipped, refit = json.loads(path.read_text()), json.loads(out.read_text())
    for old, new in zip(shipped["benchmarks"], refit["benchmarks"]):
        assert new["fit"]["peak_flops_per_s"] == pytest.approx(old["fit"]["peak_flops_per_s"])
        assert new["fit"]["efficiency"] == pytest.approx(old["fit"]["efficiency"]), \
            f"{path.name}: {old['workload']['name']} fitted with another CPU model; refit the file"


def test_refit_of_a_file_without_a_machine_identity_is_a_clean_error(tmp_path):
    doc = json.loads(SHIPPED[0].read_text())
    del doc["machine"]["flags"]
    path = write(tmp_path, doc)
    done = subprocess.run([sys.executable, "-m", "tools.perf_calibrate", "--refit", path,
                           "-o", str(tmp_path / "out.json")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "lacks 'flags'" in done.stderr and "cannot be refit" in done.stderr


def test_a_recorded_machine_rebuilds_the_same_host_device():
    """bench/rescore_host_validation.py re-estimates stored runs for the machine they name."""
    from compiler.calibrate.machine import host_info, identity
    from targets.host import host_document

    info = probe()
    again = host_info(json.loads(json.dumps(identity(info, threads=info.physical_cores))))
    now, then = host_document(info), host_document(again)
    for key in ("execution_units", "memory", "emulation", "compute"):
        assert then[key] == now[key], key


def test_a_calibration_of_another_cpu_is_flagged(tmp_path):
    from compiler.calibrate.machine import identity

    info = probe()
    doc = json.loads(SHIPPED[0].read_text())
    doc["machine"] = identity(info, threads=info.physical_cores)
    same = tmp_path / "here.json"
    same.write_text(json.dumps(doc))
    assert load(same).mismatch(info) is None
    doc["machine"]["cpu_model"], doc["machine"]["physical_cores"] = "Other CPU", 64
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    why = load(other).mismatch(info)
    assert why and "'Other CPU' (64 cores)" in why and "cpu_model, physical_cores" in why


# --------------------------------------------------------------------------- how mappers use it


def test_lower_calibrated_efficiency_is_slower_and_higher_is_faster():
    w = gemm_workload(1024, 1024, 1024, "fp32")
    default = latency(w, HOST)
    low = from_dict(document({"matmul": [(w.flops, 0.05)]})).fractions_for(w)
    high = from_dict(document({"matmul": [(w.flops, 1.0)]})).fractions_for(w)
    assert low == {"matmul": pytest.approx(0.05)}
    assert latency(w, HOST, low) > default > latency(w, HOST, high)


def benchmark_of(w, efficiency: float | None, name: str = "conv 3x3/1 64->64 @56") -> dict:
    """A calibration benchmark entry for workload `w` whose fit found `efficiency`."""
    return {"name": name, "op_class": w.op_class, "precision": w.precision,
            "workload": workload_to_dict(w), "fit": {"efficiency": efficiency}}


def test_a_benchmark_of_the_same_shape_wins_over_the_bands():
    """Two convolutions of equal FLOPs and band: the one whose exact shape was benchmarked
    gets that benchmark's fitted efficiency, the other the band's; an overhead-bound
    benchmark (efficiency null) or another layout leaves the shape to the bands."""
    measured = conv_workload(1, "fp32", cin=64, cout=256, hw=56, kernel=1)
    other = conv_workload(1, "fp32", cin=256, cout=64, hw=56, kernel=1)
    assert measured.flops == other.flops
    doc = document({"conv": [(measured.flops, 0.5)]})
    doc["benchmarks"] = [benchmark_of(measured, 0.04, "conv 1x1/1 64->256 @56")]
    cal = from_dict(doc)
    assert cal.fractions_for(measured) == {"conv": pytest.approx(0.04)}
    assert cal.fractions_for(other) == {"conv": pytest.approx(0.5)}
    assert cal.kernel_for(measured) == (pytest.approx(0.04), "conv 1x1/1 64->256 @56")
    # eager code's own unit must match it whole; another layout or fused ops leave an
    # eager unit to the bands
    fused = dataclasses.replace(measured, bytes_weights=measured.bytes_weights + 2048, ops=3)
    assert cal.kernel_for(fused) is None
    assert cal.fractions_for(fused) == {"conv": pytest.approx(0.5)}
    assert latency(measured, HOST, cal.fractions_for(measured)) > \
        latency(other, HOST, cal.fractions_for(other))
    doc["benchmarks"] = [benchmark_of(measured, None)]
    assert from_dict(doc).fractions_for(measured) == {"conv": pytest.approx(0.5)}


def attention_workload(precision: str = "bf16", native: str = "") -> Workload:
    """The zoo encoder's attention at batch 8: 32 heads of 128 x 128 x 64, twice."""
    return Workload(name="scaled_dot_product_attention", op_class="attention", precision=precision,
                    matrix_flops=2 * 2 * 32 * 128 * 128 * 64, vector_flops=6 * 32 * 128 * 128,
                    bytes_in=3 * 32 * 128 * 64 * 2, bytes_out=32 * 128 * 64 * 2,
                    output_elements=32 * 128 * 64, batch=8,
                    gemms=(Gemm(128, 128, 64, 32), Gemm(128, 64, 128, 32)),
                    native_attention=native)


def test_a_native_attention_reads_its_own_benchmark_and_a_compiled_one_the_flash_kernels():
    """nn.MultiheadAttention's eval-mode attention runs as bmm, softmax, bmm; the flash
    kernel F.scaled_dot_product_attention picks is another algorithm (0.35 against 0.95 ms
    in BF16 at this shape on the Zen 5 test VM). Each reads the benchmark of its own; a bare
    module's attention compiled is flash again, an encoder layer's keeps the native path;
    a file that timed only the flash kernel serves both (files before 2026-12-04)."""
    flash, native = attention_workload(), attention_workload(native="eager")
    doc = document({"attention": [(flash.flops, 0.3)]})
    doc["benchmarks"] = [benchmark_of(flash, 0.12, "sdpa b8 h4 L128 d64"),
                         benchmark_of(native, 0.45, "native_attention b8 h4 L128 d64")]
    cal = from_dict(doc)
    assert cal.kernel_for(flash) == (pytest.approx(0.12), "sdpa b8 h4 L128 d64")
    assert cal.kernel_for(native) == (pytest.approx(0.45), "native_attention b8 h4 L128 d64")
    bare_compiled = dataclasses.replace(native, plain_layout=False, ops=2)
    layer_compiled = dataclasses.replace(bare_compiled, native_attention="always")
    assert cal.kernel_for(bare_compiled)[1] == "sdpa b8 h4 L128 d64"
    assert cal.kernel_for(layer_compiled)[1] == "native_attention b8 h4 L128 d64"
    assert latency(native, HOST, cal.fractions_for(native)) < latency(flash, HOST, cal.fractions_for(flash))
    doc["benchmarks"] = doc["benchmarks"][:1]
    assert from_dict(doc).kernel_for(native)[1] == "sdpa b8 h4 L128 d64"


def test_a_compiled_unit_takes_the_benchmark_of_its_matrix_products():
    """A compiled graph's channels-last unit (its convolution fused with a batch norm and
    an activation: more bytes, more ops) is matched to the eager benchmark of the same
    matrix products; another shape of equal FLOPs still reads the bands."""
    measured = conv_workload(1, "fp32", cin=64, cout=256, hw=56, kernel=1)
    other = conv_workload(1, "fp32", cin=256, cout=64, hw=56, kernel=1)
    doc = document({"conv": [(measured.flops, 0.5)]})
    doc["benchmarks"] = [benchmark_of(measured, 0.04, "conv 1x1/1 64->256 @56")]
    cal = from_dict(doc)
    compiled = dataclasses.replace(measured, plain_layout=False, ops=3,
                                   bytes_weights=measured.bytes_weights + 2048)
    assert cal.kernel_for(compiled) == (pytest.approx(0.04), "conv 1x1/1 64->256 @56")
    assert cal.fractions_for(compiled)["conv"] == pytest.approx(0.04)
    assert cal.fractions_for(dataclasses.replace(other, plain_layout=False)) == \
        {"conv": pytest.approx(0.5)}
    assert from_dict(document({"conv": [(measured.flops, 0.5)]})).kernel_for(compiled) is None


@pytest.mark.parametrize("entry, message", [
    ({"workload": {"op_class": "conv"}, "fit": {"efficiency": 0.5}}, "missing precision, gemms"),
    ("conv", "expected an object"),
])
def test_a_malformed_benchmark_is_a_clean_error(entry, message):
    doc = document()
    doc["benchmarks"] = [entry]
    with pytest.raises(CalibrationError, match=r"benchmarks\[0\].*" + message):
        from_dict(doc)
    w = conv_workload(1, "fp32")
    doc["benchmarks"] = [benchmark_of(w, 1.5)]
    with pytest.raises(CalibrationError, match=r"benchmarks\[0\]\.fit\.efficiency.*not a fraction"):
        from_dict(doc)


def test_fractions_follow_the_workloads_size_band():
    bands = [(1e6, 0.2), (1e8, 0.6)]
    cal = from_dict(document({"conv": bands}))
    small, mid, large = (conv_workload(1, "fp32", cin=c, cout=c, hw=h) for c, h in
                         ((4, 8), (64, 14), (256, 56)))
    assert cal.fractions_for(small)["conv"] == pytest.approx(0.2)      # below the first band
    assert cal.fractions_for(large)["conv"] == pytest.approx(0.6)      # above the last band
    assert 0.2 < cal.fractions_for(mid)["conv"] < 0.6                  # interpolated
    b = cal.bands["conv"]["fp32"]
    assert interpolate(b, 1e7) == pytest.approx(0.4)                   # log-linear midpoint
    # a precision that was not calibrated leaves the model's defaults in place
    assert cal.fractions_for(conv_workload(1, "bf16")) == {}


def test_an_op_kind_with_its_own_bands_wins_over_its_class():
    """Max-pool and softmax are both reductions but run 15x apart on a CPU."""
    doc = document({"reduction": [(1e6, 0.04)]})
    doc["op_classes"]["reduction"]["fp32"]["ops"] = {
        "max_pool2d": {"bands": [band(1e6, 0.003)]}, "softmax": {"bands": [band(1e6, 0.04)]}}
    cal = from_dict(doc)
    pool = dataclasses.replace(elementwise_workload(1 << 20, "fp32", op_class="reduction"),
                               name="max_pool2d_with_indices_1")
    mean = dataclasses.replace(pool, name="mean_2")
    assert cal.fractions_for(pool) == {"reduction": pytest.approx(0.003)}
    assert cal.fractions_for(mean) == {"reduction": pytest.approx(0.04)}   # class bands
    # A compiled graph's max-pool is Inductor's channels-last loop, not ATen's NCHW kernel
    # the benchmarks timed: neither its kind's bands nor its class's apply; a mean's do.
    assert cal.fractions_for(dataclasses.replace(pool, plain_layout=False)) == {}
    assert cal.fractions_for(dataclasses.replace(mean, plain_layout=False)) == \
        {"reduction": pytest.approx(0.04)}


def test_a_fused_units_measured_tail_kinds_come_along_at_their_own_flops():
    """A convolution + batch norm + SiLU unit: the calibration measured SiLU (two bands) but
    not batch norm, so only SiLU comes along as "kind:silu", read at the SiLU's own FLOPs;
    the unit's class keeps its own entry."""
    doc = document({"conv": [(1e8, 0.5)]})
    doc["op_classes"]["elementwise"] = {"fp32": {"bands": [band(1e6, 0.07)], "ops": {
        "silu": {"bands": [band(1e5, 0.02), band(1e7, 0.06)]}}}}
    cal = from_dict(doc)
    unit = dataclasses.replace(conv_workload(1, "fp32"), tail=(("batch_norm", 10**6), ("silu", 10**7)))
    got = cal.fractions_for(unit)
    assert got == {"conv": pytest.approx(0.5), "kind:silu": pytest.approx(0.06)}
    low = dataclasses.replace(unit, tail=(("silu", 10**5),))
    assert cal.fractions_for(low)["kind:silu"] == pytest.approx(0.02)


def test_op_kinds_from_fx_and_aten_names():
    assert [op_kind(n) for n in ("relu__3", "aten::relu_", "max_pool2d_with_indices",
                                 "_softmax_2", "aten::_softmax", "hardtanh_",
                                 "_native_batch_norm_legit_no_training_7", "conv2d_12")] == [
        "relu", "relu", "max_pool2d", "softmax", "softmax", "relu6", "batch_norm", "conv2d"]
    # a graph dialect op names its kind after the dialect's prefix
    assert [op_kind(n) for n in ("graph.silu", "graph.batch_norm", "graph.max_pool2d")] == [
        "silu", "batch_norm", "max_pool2d"]


def test_calibrated_bandwidth_moves_memory_bound_time_the_right_way():
    w = elementwise_workload(1 << 26, "fp32")           # 512 MiB: DRAM, memory-bound
    mapping = cpu_model.map_workload(w, HOST)
    assert mapping.memory_level == "dram"
    base = roofline.estimate(w, mapping, HOST).memory_time_s
    dram = HOST.memory_level("dram").achievable_bandwidth_bytes_per_s
    slow = from_dict(document(bandwidth={"dram": dram / 2})).apply(HOST)
    fast = from_dict(document(bandwidth={"dram": dram * 2})).apply(HOST)
    assert roofline.estimate(w, mapping, slow).memory_time_s == pytest.approx(2 * base)
    assert roofline.estimate(w, mapping, fast).memory_time_s == pytest.approx(base / 2)
    fig = fast.memory_level("dram").measured_bandwidth_bytes_per_s
    assert fig.kind == "measured" and fig.source == ("calibration",)
    assert "synthetic" in fig.citation and "calibration" in fast.sources


def test_a_measured_effective_cache_capacity_replaces_a_larger_reported_one():
    """A VM's last-level cache is a share of its host socket's: a working set between the
    measured and the reported capacity is served by the next level out."""
    shared = [lvl for lvl in HOST.memory[:-1] if lvl.scope != "per_unit"]
    if not shared:
        pytest.skip("this host reports no shared cache")
    llc = shared[-1]
    reported = int(float(llc.capacity_bytes.value))
    doc = document(bandwidth={llc.name: 5e10})
    doc["bandwidth"][llc.name]["effective_capacity_bytes"] = reported // 8
    device = from_dict(doc).apply(HOST)
    fig = device.memory_level(llc.name).capacity_bytes
    assert fig.value == reported // 8 and fig.kind == "measured"
    assert f"the OS reports {float(reported):.6g} B" in fig.note
    assert from_dict(doc).capacities == {llc.name: reported // 8}
    # a working set of half the reported capacity now comes from the next level out
    w = elementwise_workload(reported // 2 // 8, "fp32")     # reads + writes reported / 2
    names = [lvl.name for lvl in HOST.memory]
    assert names.index(cpu_model.map_workload(w, device).memory_level) > names.index(llc.name)
    # a larger "effective" capacity than the reported one changes nothing
    doc["bandwidth"][llc.name]["effective_capacity_bytes"] = reported * 2
    assert from_dict(doc).apply(HOST).memory_level(llc.name).capacity_bytes == llc.capacity_bytes


def test_the_cache_sweep_finds_the_knee_where_copies_fall_to_dram_speed():
    from compiler.calibrate.memory import effective_capacity, level_plan

    mib = 1 << 20
    # the Xeon VM's sweep (GB/s of read + written bytes), DRAM 23.8 GB/s
    xeon = [(4 * mib, 44.7e9), (8 * mib, 48.2e9), (16 * mib, 51.1e9), (32 * mib, 51.1e9),
            (64 * mib, 24.1e9), (120 * mib, 22.9e9)]
    assert effective_capacity(xeon, 23.8e9) == (
        64 * mib, {"min": 44.7e9, "median": pytest.approx(49.65e9), "max": 51.1e9})
    assert effective_capacity(xeon[:4], 23.8e9) is None        # never fell: the reported size stands
    assert effective_capacity([(4 * mib, 20e9)], 23.8e9) is None  # no faster than DRAM
    levels = [{"name": "l1d", "scope": "per_unit", "capacity_bytes": 48 * 1024},
              {"name": "l2", "scope": "per_unit", "capacity_bytes": 2 * mib},
              {"name": "l3", "scope": "total", "capacity_bytes": 480 * mib},
              {"name": "dram", "scope": "total", "capacity_bytes": 24 << 30}]
    l3 = level_plan(levels, 2, quick=False)[2]
    # up to the reported size (at most 256 MiB), with the planned 120 MiB copy instead of 128
    assert l3["sweep_src_bytes"] == [4 * mib, 8 * mib, 16 * mib, 32 * mib, 64 * mib, 120 * mib,
                                     256 * mib]
    # the EPYC VM: 32 MiB reported, planned copy 8 MiB; the sweep reaches the reported size
    epyc = [dict(levels[0], capacity_bytes=32 * 1024), dict(levels[1], capacity_bytes=mib),
            dict(levels[2], capacity_bytes=32 * mib), levels[3]]
    assert level_plan(epyc, 2, quick=False)[2]["sweep_src_bytes"] == [
        2 * mib, 4 * mib, 8 * mib, 16 * mib, 32 * mib]
    assert "sweep_src_bytes" not in level_plan(levels, 2, quick=True)[2]


def test_the_sweep_measures_each_copy_once_and_records_the_knee():
    """bandwidths() times every sweep size but the level's own copy, which it reuses, and a
    capacity it records is the source + destination of one of the copies."""
    from compiler.calibrate.memory import bandwidths
    from compiler.calibrate.timing import Timer

    mib = 1 << 20
    plan = [{"name": "l3", "copy_src_bytes": 4 * mib, "read_bytes": mib, "method": "copy",
             "sweep_src_bytes": [mib, 2 * mib, 4 * mib]},
            {"name": "dram", "copy_src_bytes": 8 * mib, "read_bytes": mib, "method": "copy"}]
    timer = Timer(threads=1, repeats=1, min_time_s=0.002, warmup=0, max_foreign=1.0)
    out = bandwidths(timer, plan, dispatch_s=1e-7)
    sweep = out["l3"]["sweep"]
    assert [p["copy_src_bytes"] for p in sweep] == [mib, 2 * mib, 4 * mib]
    assert sweep[-1]["copy_bytes_per_s"] == out["l3"]["copy_bytes_per_s"]["median"]
    assert all(p["copy_bytes_per_s"] > 0 for p in sweep)
    assert "sweep" not in out["dram"]
    capacity = out["l3"].get("effective_capacity_bytes")
    assert capacity is None or capacity in {2 * p["copy_src_bytes"] for p in sweep[:-1]}


def test_first_touch_faults_private_pages_as_glibc_does(monkeypatch):
    """glibc maps large blocks MAP_PRIVATE; a shared anonymous mapping (Python's default)
    faults through shmem at about half the rate on the Zen 5 test VM, so the rate
    measured from it would make every fresh allocation look twice as slow."""
    import mmap

    from compiler.calibrate.memory import first_touch
    from compiler.calibrate.timing import Timer

    flags = []
    real = mmap.mmap

    def recording(fileno, length, *args, **kwargs):
        flags.append(kwargs.get("flags", mmap.MAP_SHARED))
        return real(fileno, length, *args, **kwargs)

    monkeypatch.setattr(mmap, "mmap", recording)
    timer = Timer(threads=1, repeats=1, min_time_s=0.001, warmup=0, max_foreign=1.0)
    out = first_touch(timer, size=1 << 20)
    assert flags and all(f & mmap.MAP_PRIVATE and not f & mmap.MAP_SHARED for f in flags)
    assert out["bytes_per_s"]["median"] > 0 and "private" in out["method"]
    # the unmapping is one part of that cost, so it runs at a higher rate than the whole
    assert out["release_bytes_per_s"]["median"] > out["bytes_per_s"]["median"]


def test_a_measured_release_rate_splits_first_touch_without_changing_it():
    """Hand-computed: 64 MiB faulted at 4 GB/s costs 16.8 ms; released at 16 GB/s, 4.2 ms
    of it is the release. A file written before release was measured still loads."""
    doc = document()
    doc["first_touch"] = {"bytes_per_s": spread(4e9), "release_bytes_per_s": spread(16e9),
                          "method": "synthetic"}
    dev = from_dict(doc).apply(HOST)
    assert float(dev.overheads.page_release_bytes_per_s.value) == 16e9
    assert dev.overheads.page_release_bytes_per_s.kind == "measured"
    big = dataclasses.replace(elementwise_workload(16 * 2**20, "fp32"), fresh_bytes=64 * 2**20)
    mapped = cpu_model.map_workload(big, dev).details
    assert mapped["first_touch_s"] == pytest.approx(64 * 2**20 / 4e9)
    assert mapped["page_release_s"] == pytest.approx(64 * 2**20 / 16e9)
    del doc["first_touch"]["release_bytes_per_s"]
    older = from_dict(doc).apply(HOST)
    assert older.overheads.page_release_bytes_per_s is None
    assert cpu_model.map_workload(big, older).details["page_release_s"] == 0.0


def test_dispatch_overhead_and_clock_are_applied():
    clock = float(HOST.compute.boost_clock_hz.value) * 1.25
    dev = from_dict(document(dispatch=7e-6, clock=clock)).apply(HOST)
    assert float(dev.overheads.framework_dispatch_s.value) == pytest.approx(7e-6)
    assert dev.overheads.framework_dispatch_s.kind == "measured"
    assert dev.peak_flops("fp32") == pytest.approx(HOST.peak_flops("fp32") * 1.25)
    w = elementwise_workload(16, "fp32")
    assert cpu_model.map_workload(w, dev).overhead_s == pytest.approx(7e-6)
    # catalog CPUs keep their datasheet clock: the measurement is of this machine
    i7 = load_device("i7-12700k")
    assert from_dict(document(clock=clock)).apply(i7).peak_flops("fp32") == i7.peak_flops("fp32")
    with pytest.raises(CalibrationError, match="cannot apply to"):
        from_dict(document()).apply(load_device("h100-sxm5"))


def test_a_measured_clock_close_to_the_reported_one_keeps_the_peaks_but_is_known():
    reported = float(HOST.compute.boost_clock_hz.value)
    dev = from_dict(document(clock=reported * 1.01)).apply(HOST)
    assert dev.peak_flops("fp32") == HOST.peak_flops("fp32")
    assert dev.compute.boost_clock_hz.kind == "measured"
    assert float(dev.compute.boost_clock_hz.value) == pytest.approx(reported * 1.01)


def test_measured_layout_reorder_rate_times_an_eager_convolutions_activation_reorders():
    """Hand-computed: a 64 -> 64 3x3 layer at 56x56 in FP32 reorders its 0.8 MB source and
    0.8 MB result; at a measured 10 GB/s that is 2 x 802,816 B / 1e10 = 160.6 us, which
    replaces the cache-copy estimate and adds to the overhead one for one."""
    doc = document()
    doc["layout_reorder"] = {"bytes_per_s": spread(10e9), "method": "synthetic"}
    dev = from_dict(doc).apply(HOST)
    assert float(dev.overheads.layout_reorder_bytes_per_s.value) == 10e9
    conv = conv_workload(1, "fp32")
    t = 64 * 56 * 56 * 4
    measured, copies = cpu_model.map_workload(conv, dev), cpu_model.map_workload(conv, HOST)
    assert measured.details["activation_reorder_s"] == pytest.approx(2 * t / 10e9)
    assert measured.overhead_s - copies.overhead_s == pytest.approx(
        2 * t / 10e9 - copies.details["activation_reorder_s"])
    compiled = dataclasses.replace(conv, plain_layout=False)
    assert cpu_model.map_workload(compiled, dev).details["activation_reorder_s"] == 0.0


def test_a_measured_library_call_cost_is_charged_per_call_of_its_class_and_precision():
    """A calibration measured 50 us per BF16 convolution call beyond dispatch: map-cpu adds
    exactly that to every BF16 convolution's overhead, and nothing to FP32 ones or to other
    classes; the fit then attributes only the rest of a measured time to the kernel."""
    doc = document()
    doc["library_call_s"] = {"conv": {"bf16": spread(50e-6)}}
    # the probed host's own defaults (targets/host.py) left out: only the file's figures
    bare = dataclasses.replace(HOST, overheads=dataclasses.replace(HOST.overheads,
                                                                   library_call_s={}))
    dev = from_dict(doc).apply(bare)
    assert float(dev.overheads.library_call_s["conv:bf16"].value) == 50e-6
    conv = dataclasses.replace(conv_workload(1, "bf16"), plain_layout=False)
    with_call, without = cpu_model.map_workload(conv, dev), cpu_model.map_workload(conv, bare)
    assert with_call.details["library_call_s"] == 50e-6
    assert with_call.overhead_s - without.overhead_s == pytest.approx(50e-6)
    fp32 = dataclasses.replace(conv, precision="fp32")
    assert cpu_model.map_workload(fp32, dev).details["library_call_s"] == 0.0
    gemm = gemm_workload(64, 64, 64, "bf16")
    assert cpu_model.map_workload(gemm, dev).details["library_call_s"] == 0.0
    # a matmul pays its class's cost only above 16^3 multiply-adds, where PyTorch calls oneDNN
    doc["library_call_s"]["matmul"] = {"bf16": spread(28e-6)}
    dev = from_dict(doc).apply(bare)
    assert cpu_model.map_workload(gemm, dev).details["library_call_s"] == 28e-6
    tiny = gemm_workload(1, 64, 64, "bf16")     # 4096 multiply-adds: PyTorch's own loop
    assert cpu_model.map_workload(tiny, dev).details["library_call_s"] == 0.0


def test_an_fp32_convolution_call_timed_on_pytorchs_native_path_is_not_applied():
    """Files before the strided batch-2 probe timed a batch-1 1x1 convolution, which PyTorch
    runs natively in FP32 (2-5 us): that is not what a oneDNN call costs, so it is left out
    (the device's own figure stays); BF16 went to oneDNN either way and is kept."""
    from targets.calibration import ONEDNN_PROBE_MARK

    doc = document()
    doc["library_call_s"] = {"conv": {"fp32": spread(2.4e-6), "bf16": spread(42e-6)}}
    doc["library_call_method"] = "median time of a minimal call of the class"
    old = from_dict(doc)
    assert dict(old.library_call_s) == {"conv:bf16": 42e-6}
    assert float(old.apply(HOST).overheads.library_call_s["conv:fp32"].value) == \
        float(HOST.overheads.library_call_s["conv:fp32"].value) == 47.2e-6
    doc["library_call_method"] += f"; {ONEDNN_PROBE_MARK}"
    assert dict(from_dict(doc).library_call_s) == {"conv:fp32": 2.4e-6, "conv:bf16": 42e-6}


@pytest.mark.parametrize("workload", [
    gemm_workload(512, 512, 512, "fp32"), conv_workload(1, "fp32"),
    elementwise_workload(1 << 20, "fp32", op_class="normalization")])
def test_fit_inverts_the_cpu_model(workload):
    """A time the model itself predicts at efficiency e is fitted back to e (e low enough
    that the compute term, not memory, sets the time)."""
    e = 0.02
    t = latency(workload, HOST, {workload.op_class: e, "elementwise": 0.5})
    f = fit_one(workload, t, HOST, {"elementwise": 0.5})
    if f.bound == "memory":
        pytest.skip("memory-bound in the model: the efficiency is not identifiable")
    assert f.efficiency == pytest.approx(e, rel=1e-6)


def test_overhead_bound_benchmarks_are_not_fitted():
    w = elementwise_workload(16, "fp32")
    f = fit_one(w, 1e-7, HOST)
    assert f.efficiency is None and f.bound == "overhead"


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema="other"), "schema: expected \"perf-opt-calibration\""),
    (lambda d: d.update(schema_version=99), "schema_version: unsupported version 99"),
    (lambda d: d.pop("machine"), "machine: missing"),
    (lambda d: d["op_classes"].update(convolution={}), "op_classes.convolution: unknown op class; valid: matmul"),
    (lambda d: d["op_classes"]["matmul"]["fp32"]["bands"][0].update(efficiency=1.5),
     "op_classes.matmul.fp32.bands[0].efficiency: 1.5 is not a fraction in (0, 1]"),
    (lambda d: d["op_classes"]["matmul"]["fp32"]["bands"][0].pop("flops_center"),
     "bands[0]: missing 'flops_center'"),
    (lambda d: d["op_classes"]["matmul"].update(fp33={"bands": []}), "unknown precision"),
    (lambda d: d["bandwidth"]["dram"]["bytes_per_s"].update(min=1e12), "min <= median <= max"),
    (lambda d: d.update(dispatch_overhead_s={"min": 1, "median": "x", "max": 2}),
     "dispatch_overhead_s.median: expected a number"),
    (lambda d: d["bandwidth"]["dram"].update(effective_capacity_bytes=-1),
     "bandwidth.dram.effective_capacity_bytes: must be a positive integer, got -1"),
    (lambda d: d.update(layout_reorder={"method": "x"}), "layout_reorder: missing 'bytes_per_s'"),
    (lambda d: d.update(library_call_s={"convolution": {}}),
     "library_call_s.convolution: unknown op class; valid: matmul"),
    (lambda d: d.update(library_call_s={"conv": {"bf17": {"min": 0, "median": 0, "max": 0}}}),
     "library_call_s.conv.bf17: unknown precision"),
    (lambda d: d.update(layout_reorder={"bytes_per_s": {"min": 1, "median": 0, "max": 2}}),
     "layout_reorder.bytes_per_s"),
])
def test_bad_calibration_files_are_clean_errors(tmp_path, mutate, message):
    doc = document({"matmul": [(1e6, 0.5)]}, bandwidth={"dram": 2e10})
    mutate(doc)
    path = write(tmp_path, doc)
    with pytest.raises(CalibrationError) as err:
        load(path)
    assert str(err.value).startswith(f"{path}: error: ") and message in str(err.value)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(CalibrationError, match=r"nope\.json: error: cannot read"):
        load(tmp_path / "nope.json")
    path = write(tmp_path, '{"schema": "perf-opt-calibration",\n  oops}')
    with pytest.raises(CalibrationError, match=r"cal\.json:2:3: error: not valid JSON"):
        load(path)


def test_map_cpu_reports_a_bad_file_without_a_traceback(tmp_path):
    from compiler.pipeline import PipelineError, build

    path = write(tmp_path, document({"matmul": [(1e6, 2.0)]}))
    with pytest.raises(PipelineError, match=r"pass 'map-cpu': .*cal\.json: error: .*efficiency"):
        build(f"map-cpu{{device=host calibration={path}}}")
    proc = subprocess.run(
        [sys.executable, "-m", "tools.perf_opt", str(ROOT / "examples" / "resnet18.mlir"),
         "-p", f"map-cpu{{device=host calibration={path}}},cost"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "error" in proc.stderr and "efficiency" in proc.stderr and "Traceback" not in proc.stderr


def test_a_calibrated_pipeline_is_slower_with_lower_efficiencies(tmp_path):
    """map-cpu{calibration=...} on the resnet18 example: all-low efficiencies slow it down,
    all-high speed it up, relative to the defaults."""
    from compiler.context import make_context
    from compiler.pipeline import build
    from compiler.source import parse_chunk, split_chunks
    from passes.cost import module_value

    text = (ROOT / "examples" / "resnet18.mlir").read_text()
    ctx = make_context()
    base = parse_chunk(ctx, split_chunks(str(ROOT / "examples" / "resnet18.mlir"), text, False)[0])

    def run(cal: str | None) -> float:
        module = base.clone()
        opt = f" calibration={cal}" if cal else ""
        for p in build(f"assign-precision{{default=fp32}},map-cpu{{device=host{opt}}},cost"):
            p.apply(ctx, module)
        return module_value(module, "perf.latency_s")

    classes = [c for c in OP_CLASSES if c != "data_movement"]
    low = write(tmp_path, document({c: [(1e6, 0.01)] for c in classes}), "low.json")
    high = write(tmp_path, document({c: [(1e6, 1.0)] for c in classes}), "high.json")
    assert run(low) > run(None) > run(high)


def resnet18_costed(tmp_path):
    """run(calibration document, fused) -> the shipped resnet18 example after
    [fuse,]assign-precision,map-cpu{device=host calibration=that document},cost."""
    from compiler.context import make_context
    from compiler.pipeline import build
    from compiler.source import parse_chunk, split_chunks

    source = (ROOT / "examples" / "resnet18.mlir").read_text()
    ctx = make_context()
    base = parse_chunk(ctx, split_chunks(str(ROOT / "examples" / "resnet18.mlir"), source, False)[0])

    def run(cal: dict, fused: bool):
        module = base.clone()
        path = write(tmp_path, cal, f"{id(cal)}.json")
        spec = (("fuse," if fused else "") + "assign-precision{default=fp32},"
                f"map-cpu{{device=host calibration={path}}},cost")
        for p in build(spec):
            p.apply(ctx, module)
        return module

    return run


def test_a_compiled_graph_call_is_paid_once_per_inference_of_a_compiled_model(tmp_path):
    """A calibration measured 9 us for calling a torch.compile'd graph: the fused (compiled)
    pipeline's latency grows by exactly that, once, and the report says so; eager code
    does not pay it."""
    from passes.cost import module_value
    from passes.report_data import collect
    from passes.report_render import text as render

    run = resnet18_costed(tmp_path)
    # a file without the figure leaves the device's (the probed host has a measured default)
    unmeasured = document(dispatch=2e-6)
    assert from_dict(unmeasured).compiled_call_s is None
    assert from_dict(unmeasured).apply(HOST).overheads.compiled_call_s == HOST.overheads.compiled_call_s
    timed = dict(unmeasured, compiled_call_s=spread(9e-6))
    plain = dict(unmeasured, compiled_call_s=spread(0.0))
    assert from_dict(timed).compiled_call_s == 9e-6
    dev = from_dict(timed).apply(HOST)
    assert float(dev.overheads.compiled_call_s.value) == 9e-6
    assert dev.overheads.compiled_call_s.kind == "measured"

    compiled, without = run(timed, True), run(plain, True)
    assert module_value(compiled, "perf.latency_s") - module_value(without, "perf.latency_s") == \
        pytest.approx(9e-6)
    report = collect(compiled)
    assert report["compiled_call_s"] == pytest.approx(9e-6)
    assert "graph call" in render(report, top=3)
    eager = run(timed, False)
    assert module_value(eager, "perf.compiled_call_s") is None
    assert module_value(eager, "perf.latency_s") == pytest.approx(
        module_value(run(plain, False), "perf.latency_s"))


def test_the_guard_check_is_paid_per_parameter_by_a_compiled_model(tmp_path):
    """A calibration measured Dynamo's guards at 5 us per parameter: the compiled pipeline
    of resnet18 (62 parameters; its 60 batch-norm buffers are not guarded one by one)
    grows by 62 x 5 us against a file that measured 0, the report says so, and eager code
    pays nothing; a file without the figure keeps the host's measured default."""
    from passes.cost import module_value
    from passes.report_data import collect
    from passes.report_render import text as render
    from passes.units import parameters

    run = resnet18_costed(tmp_path)
    assert parameters(run(document(), False)) == 62
    unmeasured = document(dispatch=2e-6)
    assert from_dict(unmeasured).apply(HOST).overheads.guard_check_per_parameter_s == \
        HOST.overheads.guard_check_per_parameter_s
    timed = dict(unmeasured, guard_check_per_parameter_s=spread(5e-6))
    plain = dict(unmeasured, guard_check_per_parameter_s=spread(0.0))
    assert from_dict(timed).apply(HOST).overheads.guard_check_per_parameter_s.kind == "measured"

    compiled = run(timed, True)
    assert module_value(compiled, "perf.latency_s") - module_value(run(plain, True), "perf.latency_s") \
        == pytest.approx(62 * 5e-6)
    report = collect(compiled)
    assert report["guard_check_s"] == pytest.approx(62 * 5e-6) and report["parameters"] == 62
    assert "Dynamo's guards on the model's 62 parameters" in render(report, top=3)
    eager = run(timed, False)
    assert module_value(eager, "perf.guard_check_s") is None
    assert module_value(eager, "perf.latency_s") == pytest.approx(
        module_value(run(plain, False), "perf.latency_s"))


def test_suite_names_are_unique():
    from compiler.calibrate.suite import suite

    for preset in ("full", "quick", "tiny"):
        names = [b.name for b in suite(preset)]
        assert len(names) == len(set(names)), preset


@pytest.mark.skipif(not SHIPPED, reason="no shipped calibration")
def test_cost_uses_the_calibrated_device_that_map_cpu_used():
    """The measured clock rescales the host's peaks; cost must time kernels against the
    same (calibrated) peak that map-cpu mapped them with."""
    from compiler.context import make_context
    from compiler.pipeline import build
    from compiler.source import parse_chunk, split_chunks

    path = str(SHIPPED[0])
    calibrated = load(path).apply(HOST)
    text = (ROOT / "examples" / "resnet18.mlir").read_text()
    ctx = make_context()
    module = parse_chunk(ctx, split_chunks("resnet18.mlir", text, False)[0])
    for p in build(f"assign-precision{{default=fp32}},map-cpu{{device=host calibration={path}}},cost"):
        p.apply(ctx, module)
    conv = next(op for op in module.walk() if op.name == "perf.cpu_kernel"
                and op.attributes["name"].data == "conv2d_2")
    peak = conv.attributes["peak_flops_per_s"].value.data
    assert peak == pytest.approx(float(calibrated.unit("simd").peak["fp32"].value))
    assert calibrated.unit("simd").peak["fp32"].value != HOST.unit("simd").peak["fp32"].value
