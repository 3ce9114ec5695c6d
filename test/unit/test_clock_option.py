"""The map passes' clock-ghz option and derived_figures.with_clock: what a clock changes
(every unit's peaks, on-chip bandwidths) and what it must not (DRAM, energy per op)."""

from __future__ import annotations

import pytest

from compiler.pipeline import PipelineError, build
from conftest import pipeline
from passes.cost import module_value
from targets.catalog import Sourced, load_device
from targets.derived_figures import with_clock


def test_a_clock_scales_peaks_and_on_chip_bandwidth_but_not_dram():
    """Xeon 8480+ quotes its peaks at 2.0 GHz: at 3.0 GHz AMX's BF16 peak is
    56 x 1024 x 3e9 = 1.72e14 FLOP/s (x1.5), L1 and L2 move 1.5x the bytes, DRAM the same,
    and each scaled figure records the formula it came from."""
    xeon = load_device("xeon-8480plus", None)
    clock = Sourced(3.0e9, ("pass_option",), "assumption", note="test")
    fast = with_clock(xeon, clock, "test clock")
    amx = fast.unit("amx")
    assert float(amx.peak["bf16"].value) == pytest.approx(56 * 1024 * 3.0e9)
    assert amx.peak["bf16"].formula.endswith("* 3e+09 / 2e+09")
    assert amx.peak["bf16"].kind == "assumption"       # an assumed input stays one
    for old, new in zip(xeon.memory[:-1], fast.memory[:-1]):
        assert float(new.bandwidth_bytes_per_s.value) == pytest.approx(
            1.5 * float(old.bandwidth_bytes_per_s.value))
    assert fast.memory[-1] == xeon.memory[-1]
    assert float(fast.cpu.all_core_clock_hz.value) == 3.0e9
    assert float(fast.compute.boost_clock_hz.value) == 3.0e9
    assert amx.energy_pj_per_op == xeon.unit("amx").energy_pj_per_op


def test_a_faster_clock_never_slows_a_model_and_halves_compute_bound_kernels(zoo_import):
    """resnet18 on the Xeon at 2, 3 and 4 GHz: the latency never grows with the clock, and
    a compute-bound kernel's compute time is inverse to it."""
    module = zoo_import("resnet18").module
    runs = {ghz: pipeline(module, f"fuse,assign-precision{{default=bf16}},"
                                f"map-cpu{{device=xeon-8480plus clock-ghz={ghz}}},cost")
            for ghz in (2, 3, 4)}
    latency = {ghz: module_value(m, "perf.latency_s") for ghz, m in runs.items()}
    assert latency[4] <= latency[3] <= latency[2]
    assert latency[4] < latency[2]

    def compute(m):
        return {k.attributes["name"].data: k.attributes["compute_s"].value.data
                for k in m.body.walk() if "compute_s" in k.attributes}
    slow, fast = compute(runs[2]), compute(runs[4])
    assert slow and all(fast[name] == pytest.approx(slow[name] / 2) for name in slow)


def test_the_option_is_checked_kept_and_reported(zoo_import):
    """A whole number is a float option's value; a clock in MHz is refused with the range;
    the module keeps the clock, cost-report names it as the user's assumption, and the
    suggestions' re-mapping runs at it too."""
    from passes.report_data import collect
    from passes.suggestions import rerun

    with pytest.raises(PipelineError, match="between 0.05 and 10, got 3800"):
        build("map-cpu{clock-ghz=3800}")
    assert build("map-cpu{clock-ghz=4}")[0].clock_hz == 4e9
    module = pipeline(zoo_import("mlp").module, "map-cpu{device=xeon-8480plus clock-ghz=2.5},cost")
    assert module_value(module, "perf.clock_hz") == 2.5e9
    report = collect(module)
    assert report["caveats"] == [
        "the clock, 2.500 GHz, is an assumption: set by the map-cpu option clock-ghz=2.5, not measured"]
    assert rerun(module) == pytest.approx(report["latency_s"])


def test_the_users_clock_wins_over_a_calibrations(zoo_import):
    """A calibration measures the host at 3.79 GHz; clock-ghz=2 asks what the same machine
    does at 2 GHz: the measured efficiencies stay, every peak follows the asked clock."""
    from unittest import mock

    from conftest import ROOT
    from targets.host import HostInfo

    vm = HostInfo(model_name="AMD EPYC", arch="x86_64", flags=frozenset(
        {"avx2", "fma", "avx512f", "avx512_bf16", "hypervisor"}), logical_cpus=2,
        physical_cores=2, clock_hz=2.596e9, clock_source="cpuinfo")
    cal = ROOT / "targets" / "calibrations" / "ci-host-zen5-2core-1812.json"
    module = zoo_import("resnet18").module
    with mock.patch("targets.host.probe", lambda: vm):
        measured = pipeline(module, f"map-cpu{{device=host calibration={cal}}},cost")
        asked = pipeline(module, f"map-cpu{{device=host calibration={cal} clock-ghz=2}},cost")
    assert module_value(asked, "perf.latency_s") > module_value(measured, "perf.latency_s")
    from passes.map_target import mapped_device
    assert float(mapped_device(asked).compute.boost_clock_hz.value) == 2e9
    assert float(mapped_device(measured).compute.boost_clock_hz.value) == pytest.approx(3.79e9, rel=0.01)
