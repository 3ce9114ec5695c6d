"""The whole pipeline on real models: invariants every estimate must satisfy, on one
device of each class."""

from __future__ import annotations

import pytest

from compiler.context import make_context
from compiler.pipeline import build
from conftest import pipeline
from passes.cost import module_value
from targets.catalog import load_device

DEVICES = {"gpu": "h100-sxm5", "tpu": "tpu-v4", "kpu": "kpu-t256", "cpu": "xeon-8480plus"}
PRECISION = {"gpu": "bf16", "tpu": "bf16", "kpu": "int8", "cpu": "bf16"}


def run(module, target: str, fused: bool = True, precision: str | None = None):
    clone = module.clone()
    ctx = make_context()
    stages = (["fuse"] if fused else []) + [
        "annotate-deps", f"assign-precision{{default={precision or PRECISION[target]}}}",
        f"map-{target}{{device={DEVICES[target]}}}", "cost"]
    for p in build(",".join(stages)):
        p.apply(ctx, clone)
    return clone


def value(module, key):
    return module_value(module, key)


@pytest.mark.parametrize("target", list(DEVICES))
def test_physical_invariants(zoo_import, target):
    module = run(zoo_import("resnet18").module, target)
    device = load_device(DEVICES[target])
    latency = value(module, "perf.latency_s")
    # never above the kernels one after the other (plus, once, starting a compiled program)
    program = value(module, "perf.program_overhead_s") or 0.0
    assert 0 < latency <= value(module, "perf.serial_latency_s") * (1 + 1e-9) + program
    # Energy is at least static power over the latency.
    assert value(module, "perf.energy_j") >= float(device.energy.idle_w.value) * latency
    # Peak memory holds at least the weights (11.69M parameters in resnet18).
    assert value(module, "perf.peak_memory_bytes") >= value(module, "perf.weights_bytes") > 11_000_000
    # The split of time by bottleneck accounts for every kernel.
    split = sum(value(module, f"perf.time_{k}_s") for k in ("compute", "memory", "overhead"))
    assert split == pytest.approx(value(module, "perf.serial_latency_s"))


@pytest.mark.parametrize("target", list(DEVICES))
def test_batch_64_throughput_not_below_batch_1(zoo_import, target):
    from conftest import imported

    one = run(zoo_import("resnet18").module, target)
    many = run(imported("resnet18", 64).module, target)
    assert 64 / value(many, "perf.latency_s") >= 1 / value(one, "perf.latency_s")


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "vit_b_16"])
def test_fusion_is_not_slower_than_eager(zoo_import, name):
    module = zoo_import(name).module
    fused, eager = run(module, "gpu", True), run(module, "gpu", False)
    assert value(fused, "perf.runtime") == "compiled" and value(eager, "perf.runtime") == "eager"
    assert value(fused, "perf.latency_s") <= value(eager, "perf.latency_s")
    assert value(fused, "perf.bytes_moved") <= value(eager, "perf.bytes_moved")


def test_int8_not_slower_than_fp32_on_h100(zoo_import):
    module = zoo_import("resnet50").module
    int8, fp32 = run(module, "gpu", precision="int8"), run(module, "gpu", precision="fp32")
    assert value(int8, "perf.latency_s") <= value(fp32, "perf.latency_s")


def test_report_json_has_the_documented_keys(zoo_import):
    from passes.report_data import collect

    report = collect(run(zoo_import("mobilenet_v2").module, "gpu"))
    for key in ("model", "device", "batch", "precision", "latency_s", "throughput_per_s", "energy_j",
                "energy_breakdown_j", "peak_memory_bytes", "memory_breakdown_bytes", "flops",
                "bytes_moved", "utilization", "efficiency", "subgraphs"):
        assert key in report
    assert set(report["energy_breakdown_j"]) == {"compute", "memory", "static"}
    assert set(report["memory_breakdown_bytes"]) == {"weights", "activations", "workspace"}
    for entry in report["subgraphs"]:
        for key in ("name", "ops", "flops", "bytes", "latency_s", "energy_j", "bottleneck", "stage",
                    "utilization", "efficiency"):
            assert key in entry
    assert sum(e["flops"] for e in report["subgraphs"]) == report["flops"]
    # docs/report-schema.md names every key a kernel entry has, and nothing else
    import re

    from conftest import ROOT
    doc = (ROOT / "docs" / "report-schema.md").read_text()
    paragraph = doc[doc.index("Each `subgraphs` item:"):doc.index("CSV (`format=csv`)")]
    documented = set(re.findall(r"`([a-z_]+)`", paragraph)) - {"subgraphs", "compute", "memory", "overhead"}
    assert documented == set(report["subgraphs"][0]), documented ^ set(report["subgraphs"][0])


def test_the_report_names_an_assumed_clock_until_a_calibration_measures_it(zoo_import):
    """On a VM the host's clock is the nominal rate /proc/cpuinfo reports: the report says so
    under `caveats` (text and JSON); a calibration's measured clock replaces it. A KPU's
    clock, implied by its TOPS, is an assumption too; a datasheet GPU's is not."""
    from unittest import mock

    from conftest import ROOT
    from passes.report_data import collect
    from passes.report_render import text
    from targets.host import HostInfo

    vm = HostInfo(model_name="AMD EPYC", arch="x86_64", flags=frozenset(
        {"avx2", "fma", "avx512f", "hypervisor"}), logical_cpus=2, physical_cores=2,
        clock_hz=2.596e9, clock_source="cpuinfo")
    module = zoo_import("mlp").module
    calibration = ROOT / "targets" / "calibrations" / "ci-host-zen5-2core-1812.json"
    with mock.patch("targets.host.probe", lambda: vm):
        report = collect(pipeline(module, "map-cpu{device=host},cost"))
        assert len(report["caveats"]) == 1
        assert report["caveats"][0].startswith("the clock, 2.596 GHz, is an assumption")
        assert "perf-calibrate measures it" in text(report, 10)
        calibrated = collect(pipeline(module, f"map-cpu{{device=host calibration={calibration}}},cost"))
        assert calibrated["caveats"] == []
    assert collect(run(module, "kpu"))["caveats"][0].startswith("the clock")
    assert collect(run(module, "gpu"))["caveats"] == []


@pytest.mark.parametrize("fused", [False, True])
def test_mapping_keeps_every_units_traffic(zoo_import, fused):
    """A unit reads its inputs at the precision its producer stores them, whether or not
    that producer has already been outlined into a kernel: map-cpu outlines units one by one,
    and a bf16 linear after a mapped bf16 layer once read its input at fp32 size."""
    from passes import units as U

    module = zoo_import("transformer_encoder").module.clone()
    ctx = make_context()
    stages = (["fuse"] if fused else []) + ["assign-precision{default=bf16}"]
    for p in build(",".join(stages)):
        p.apply(ctx, module)
    before = {U.unit_name(u): U.traffic(u) for u in U.units(module)}
    build("map-cpu{device=xeon-8480plus}")[0].apply(ctx, module)
    after = {U.unit_name(k): U.traffic(k) for k in U.units(module)}
    assert after == before
    # linear_1 (the feed-forward's second projection in eager order) reads the 128 x 256
    # activation the layer before it stores in bf16: 2 bytes an element.
    if not fused:
        assert before["linear_1"].bytes_in == 128 * 256 * 2



@pytest.mark.parametrize("fused", [False, True])
def test_suggestions_rerun_the_model_as_the_headline_pipeline_leaves_it(zoo_import, fused):
    """`perf-opt m.mlir --pass-pipeline=[fuse,]map-gpu,cost,cost-report`: the suggestions
    re-map a copy of the costed model (kernels inlined back to graph ops, whose operands
    are rewired; no assign-precision ran, so kernels carry no precision), fused or in bf16.
    The fusion figure is the fused pipeline's own latency; the costed model is unchanged."""
    from passes.report_data import collect
    from passes.suggestions import suggest

    model = zoo_import("resnet18").module
    costed = pipeline(model, ("fuse," if fused else "") + "map-gpu{device=h100-sxm5},cost")
    before = str(costed)
    report = collect(costed)
    found = {s["kind"]: s for s in suggest(costed, report)}
    assert ("fusion" in found) is not fused
    if not fused:
        refused = value(pipeline(model, "fuse,map-gpu{device=h100-sxm5},cost"), "perf.latency_s")
        assert found["fusion"]["after"] == pytest.approx(refused, rel=1e-9)
    assert report["latency_s"] > found["precision"]["after"]
    assert str(costed) == before


def test_eager_gpu_issue_overlaps_the_kernels():
    """Hand case: the host spends 5 us issuing each kernel; kernel 1 runs 10 us, kernels 2
    and 3 run 1 us. Kernel 1 runs 5-15 us; kernel 2 was issued at 10, starts at 15, ends at
    16; kernel 3 (issued at 15) runs 16-17. Latency 17 us, host 15 us."""
    from types import SimpleNamespace

    from passes.cost import issue_pipelined_latency

    def kernel(device_us):
        return SimpleNamespace(estimate=SimpleNamespace(latency_s=(device_us + 2) * 1e-6,
                                                        overhead_s=2e-6))
    latency, host = issue_pipelined_latency([kernel(10), kernel(1), kernel(1)], [5e-6] * 3)
    assert (latency, host) == (pytest.approx(17e-6), pytest.approx(15e-6))


@pytest.mark.parametrize("batch", [1, 64])
def test_eager_gpu_latency_lies_between_the_longer_chain_and_their_sum(zoo_import, batch):
    from passes.report_data import collect

    report = collect(run(zoo_import("resnet18", batch).module, "gpu", fused=False))
    device = sum(e["latency_s"] - e["overhead_s"] for e in report["subgraphs"])
    host = report["host_issue_s"]
    assert max(host, device) <= report["latency_s"] * (1 + 1e-12)
    assert report["latency_s"] <= host + device
    # batch 1 waits on the host, batch 64 hides it behind the GPU's work
    assert (host > device) is (batch == 1)



@pytest.mark.parametrize("stages, names, remedy", [
    ("map-gpu{device=h100-sxm5}", "us of launches", "CUDA graphs"),
    ("map-cpu{device=xeon-8480plus}", "us of dispatch, layout reorders and first touch", "torch.compile"),
])
def test_the_overhead_suggestion_names_what_the_targets_overhead_is(zoo_import, stages, names, remedy):
    """Eager MobileNetV2 at batch 1 is overhead-bound on both; a CPU's overhead is dispatch,
    layout reorders and fresh pages, which CUDA graphs have nothing to do with."""
    from passes.report_data import collect
    from passes.suggestions import suggest

    costed = pipeline(zoo_import("mobilenet_v2").module, f"{stages},cost")
    found = {s["kind"]: s for s in suggest(costed, collect(costed))}
    text = found["overhead"]["text"]
    assert names in text and remedy in text
    assert ("CUDA" in text) is (remedy == "CUDA graphs")

def test_a_compiled_cpu_graph_is_told_what_freezing_would_save(zoo_import):
    """A compiled resnet18 on a CPU with per-call weights gets a 'weights' suggestion whose
    latency is the same pipeline's with map-cpu{weights=prepacked}, lower; a prepacked
    mapping gets none, and neither does eager code."""
    from passes.report_data import collect
    from passes.suggestions import suggest

    module = zoo_import("resnet18").module
    head = "fuse,annotate-deps,assign-precision{default=fp32},"
    per_call = pipeline(module, head + "map-cpu{device=xeon-8480plus},cost")
    frozen = pipeline(module, head + "map-cpu{device=xeon-8480plus weights=prepacked},cost")
    found = {s["kind"]: s for s in suggest(per_call, collect(per_call))}
    assert found["weights"]["after"] == pytest.approx(value(frozen, "perf.latency_s"))
    assert found["weights"]["after"] < found["weights"]["before"] == value(per_call, "perf.latency_s")
    assert "freezing" in found["weights"]["text"]
    assert "weights" not in {s["kind"] for s in suggest(frozen, collect(frozen))}
    eager = pipeline(module, "annotate-deps,assign-precision{default=fp32},map-cpu{device=xeon-8480plus},cost")
    assert "weights" not in {s["kind"] for s in suggest(eager, collect(eager))}
    # what per-call overhead is made of, and what amortizes it, follows the same mapping
    from passes.suggestions import overhead_wording

    assert "freezing" in overhead_wording(per_call)[2] and "weight copies" in overhead_wording(per_call)[1]
    assert "freezing" not in overhead_wording(frozen)[2] and "weight" not in overhead_wording(frozen)[1]
    assert "torch.compile" in overhead_wording(eager)[2]


@pytest.mark.parametrize("device, precision, program_s, per_kernel_s", [
    ("coral-edge-tpu", "int8", 50e-6 + 50e-6, 0.0),  # a USB round trip to start, one to collect
    ("tpu-v4", "bf16", 10e-6 + 10e-6, 0.0),          # one XLA program step, one wait for it
    ("tpu-edge-pro", "int8", None, 10e-6),           # a descriptor launch per compiled layer
])
def test_a_compiled_program_starts_once_per_inference(zoo_import, device, precision, program_s,
                                                       per_kernel_s):
    """Where the device runs the model as one program (program_launch_s), the latency is the
    kernels plus program_launch_s + sync_s once; each kernel pays only its own launch_s."""
    from passes import units as U
    from passes.report_data import collect
    from passes.report_render import text

    costed = pipeline(zoo_import("mobilenet_v2").module,
                      f"fuse,annotate-deps,assign-precision{{default={precision} policy=uniform}},"
                      f"map-tpu{{device={device}}},cost")
    assert all(k.attributes["overhead_s"].value.data == pytest.approx(per_kernel_s)
               for k in U.units(costed))
    serial = value(costed, "perf.serial_latency_s")
    program = value(costed, "perf.program_overhead_s")
    report = collect(costed)
    if program_s is None:
        assert program is None and report["program_overhead_s"] is None
        assert "program start" not in text(report, top=3)
    else:
        assert program == pytest.approx(program_s) == report["program_overhead_s"]
        # compiled stages may overlap: the kernels take at most their sum, at least none
        assert program_s < report["latency_s"] <= serial + program_s + 1e-12
        assert "program start" in text(report, top=3)
