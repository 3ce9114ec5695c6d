"""Device catalog: every file loads, every number is sourced, and the physics the passes rely
on (peaks, memory ordering, power modes, precision handling) holds."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from targets import catalog
from targets.catalog import (
    FIGURE_KINDS, PRECISIONS, CatalogError, UnknownDeviceError, UnknownPowerModeError,
    UnsupportedPrecisionError, describe, list_devices, load_device, load_device_file,
)
from targets.host import CacheInfo, HostInfo, host_document

REQUIRED = {
    "h100-sxm5", "h100-pcie", "a100-sxm4-80gb", "jetson-agx-orin-64gb", "tpu-v4", "tpu-v5e",
    "coral-edge-tpu", "tpu-edge-pro", "kpu-t2", "kpu-t100", "kpu-t256", "i7-12700k",
    "ryzen7-7700x", "xeon-8480plus", "orin-cpu", "host",
}
A100_FILE = catalog.DEVICES_DIR / "a100-sxm4-80gb.toml"


def all_configurations():
    """Every device in every power mode it has."""
    for name in list_devices():
        device = load_device(name)
        for mode in device.power_modes or [None]:
            yield name, mode


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_required_device_loads_and_describes(name):
    device = load_device(name)
    assert device.name == name
    assert device.device_class in catalog.DEVICE_CLASSES
    assert describe(device)


def test_list_devices_is_sorted_and_complete():
    names = list_devices()
    assert names == sorted(names)
    assert REQUIRED <= set(names)


def test_list_devices_does_not_parse_files(monkeypatch, tmp_path):
    (tmp_path / "broken.toml").write_text("this is = = not toml")
    monkeypatch.setattr(catalog, "DEVICES_DIR", tmp_path)
    assert catalog.list_devices() == ["broken", "host"]


@pytest.mark.parametrize("name,mode", list(all_configurations()))
def test_every_number_has_a_source(name, mode):
    device = load_device(name, mode)
    figures = list(device.figures())
    assert figures
    for path, fig in figures:
        assert fig.source, path
        assert all(key in device.sources for key in fig.source), path
        assert len(fig.citations) == len(fig.source) and all(fig.citations), path
        assert fig.kind in FIGURE_KINDS, path
        if fig.kind == "derived":
            assert fig.formula, path
        if fig.kind == "assumption":
            assert fig.note, path
        assert math.isfinite(float(fig.value)), path


def _a100_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = A100_FILE.read_text()
    assert old in text
    path = tmp_path / "a100-sxm4-80gb.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_bare_number_is_rejected(tmp_path):
    path = _a100_variant(tmp_path, 'units = { value = 108, source = "a100_wp" }', "units = 108")
    with pytest.raises(CatalogError, match="compute.units: number 108 has no source"):
        load_device_file(path)


def test_figure_without_source_is_rejected(tmp_path):
    path = _a100_variant(tmp_path, 'units = { value = 108, source = "a100_wp" }',
                         "units = { value = 108 }")
    with pytest.raises(CatalogError, match="has no source"):
        load_device_file(path)


def test_unknown_source_key_is_rejected(tmp_path):
    path = _a100_variant(tmp_path, 'units = { value = 108, source = "a100_wp" }',
                         'units = { value = 108, source = "nowhere" }')
    with pytest.raises(CatalogError, match="nowhere"):
        load_device_file(path)


def test_formula_that_disagrees_with_value_is_rejected(tmp_path):
    path = _a100_variant(tmp_path, 'formula = "108 * 1024 * 2 * 1.41e9" }',
                         'formula = "108 * 512 * 2 * 1.41e9" }')
    with pytest.raises(CatalogError, match="formula"):
        load_device_file(path)


def test_unhandled_precision_is_rejected(tmp_path):
    path = _a100_variant(tmp_path, "fp8 = { mode", "# fp8 = { mode")
    with pytest.raises(CatalogError, match="say how fp8 is handled"):
        load_device_file(path)


def test_h200_is_the_h100_sxm5_with_its_own_hbm():
    h100, h200 = load_device("h100-sxm5"), load_device("h200-sxm")
    for prec in ("fp32", "tf32", "bf16", "fp8"):
        assert h200.peak_flops(prec) == h100.peak_flops(prec)
    assert [m.name for m in h200.memory] == [m.name for m in h100.memory]
    assert h200.memory_level("l2") == h100.memory_level("l2")
    hbm = h200.memory_level("hbm")
    assert float(hbm.bandwidth_bytes_per_s.value) == 4.8e12 and hbm.bandwidth_bytes_per_s.source == ("h200_ds",)
    assert float(hbm.capacity_bytes.value) == 141e9
    # the level is replaced whole: H100's measured HBM3 bandwidth does not carry over
    assert hbm.measured_bandwidth_bytes_per_s is None
    assert hbm.achievable_bandwidth_bytes_per_s == 4.8e12
    assert float(h200.energy.tdp_w.value) == 700 and "h100_ds" in h200.sources


def test_a_base_device_merges_tables_and_replaces_levels_by_name(tmp_path):
    from targets.device_file import over_base

    base = {"name": "a", "sources": {"x": "X"}, "compute": {"units": {"value": 2, "source": "x"}},
            "memory": [{"name": "l1", "v": 1}, {"name": "dram", "v": 2}]}
    variant = {"name": "b", "sources": {"y": "Y"}, "compute": {"units": {"value": 3, "source": "y"}},
               "memory": [{"name": "dram", "v": 5}, {"name": "disk", "v": 9}]}
    assert over_base(base, variant) == {
        "name": "b", "sources": {"x": "X", "y": "Y"}, "compute": {"units": {"value": 3, "source": "y"}},
        "memory": [{"name": "l1", "v": 1}, {"name": "dram", "v": 5}, {"name": "disk", "v": 9}]}
    (tmp_path / "p.toml").write_text('schema = 1\nbase = "q"\nname = "p"\n')
    (tmp_path / "q.toml").write_text('schema = 1\nbase = "p"\nname = "q"\n')
    with pytest.raises(CatalogError, match="base devices form a cycle: p -> q -> p"):
        load_device_file(tmp_path / "p.toml")
    (tmp_path / "r.toml").write_text('schema = 1\nbase = "missing"\nname = "r"\n')
    with pytest.raises(CatalogError, match="base: no device file missing.toml next to it"):
        load_device_file(tmp_path / "r.toml")


def test_formula_evaluator_only_does_arithmetic():
    assert catalog.evaluate_formula("108 * 1024 * 2 * 1.41e9") == pytest.approx(3.1187e14, 1e-4)
    assert catalog.evaluate_formula("(4 * 9) ** 0.5") == 6
    with pytest.raises(CatalogError):
        catalog.evaluate_formula("__import__('os').getcwd()")


def test_a100_dense_bf16_peak():
    expected = 108 * 1024 * 2 * 1.41e9
    assert load_device("a100-sxm4-80gb").peak_flops("bf16") == pytest.approx(expected, rel=0.005)


def test_h100_sxm5_tensor_bf16_beats_a100():
    h100 = load_device("h100-sxm5").peak_flops("bf16", unit="tensor_core")
    a100 = load_device("a100-sxm4-80gb").peak_flops("bf16", unit="tensor_core")
    assert h100 > a100
    assert h100 == pytest.approx(989.4e12, rel=0.005)  # dense, not the sparse 1979


def test_jetson_gpu_int8_is_tens_of_tops_not_5():
    # The old notes claimed 5.3 TOPS INT8; NVIDIA's data sheet gives 170 sparse / ~85 dense.
    assert load_device("jetson-agx-orin-64gb", "maxn").peak_flops("int8") == pytest.approx(85e12)


@pytest.mark.parametrize("name,mode", list(all_configurations()))
def test_memory_levels_are_ordered_nearest_first(name, mode):
    levels = load_device(name, mode).memory
    for near, far in zip(levels, levels[1:]):
        assert float(far.bandwidth_bytes_per_s.value) <= float(near.bandwidth_bytes_per_s.value)
        assert float(far.capacity_bytes.value) >= float(near.capacity_bytes.value)
    assert levels[-1].kind in ("hbm", "dram")


@pytest.mark.parametrize("name,precision", [("jetson-agx-orin-64gb", "int8"),
                                            ("jetson-agx-orin-64gb", "fp16"),
                                            ("orin-cpu", "fp32")])
def test_jetson_power_modes_are_monotonic(name, precision):
    peaks = [load_device(name, m).peak_flops(precision) for m in ("15w", "30w", "50w", "maxn")]
    assert peaks[0] < peaks[1] < peaks[2] <= peaks[3]
    tdps = [float(load_device(name, m).energy.tdp_w.value) for m in ("15w", "30w", "50w", "maxn")]
    assert tdps == sorted(tdps)


def test_power_mode_figures_explain_their_scaling():
    fig = load_device("jetson-agx-orin-64gb", "15w").peak_figure("int8")
    assert fig.kind == "derived" and "15w" in fig.note and "nvpmodel" in fig.source


def test_unknown_device_error_lists_valid_names():
    with pytest.raises(UnknownDeviceError) as err:
        load_device("b200-sxm")
    assert isinstance(err.value, ValueError)
    for name in ("h100-sxm5", "kpu-t100", "host"):
        assert name in str(err.value)


def test_unknown_power_mode_error_lists_valid_modes():
    with pytest.raises(UnknownPowerModeError) as err:
        load_device("jetson-agx-orin-64gb", "10w")
    for mode in ("15w", "30w", "50w", "maxn"):
        assert mode in str(err.value)
    with pytest.raises(UnknownPowerModeError, match="none"):
        load_device("a100-sxm4-80gb", "15w")


def test_default_power_mode_is_applied():
    assert load_device("jetson-agx-orin-64gb").power_mode == "maxn"
    assert load_device("a100-sxm4-80gb").power_mode is None


def test_emulation_and_refusal():
    a100 = load_device("a100-sxm4-80gb")
    fp8 = a100.execution_for("fp8")
    assert fp8.emulated and fp8.computed_as == "fp16" and fp8.unit == "tensor_core"
    assert a100.supports("fp8") and not a100.is_native("fp8")
    coral = load_device("coral-edge-tpu")
    assert coral.precision_status("fp32") == "refused" and not coral.supports("fp32")
    with pytest.raises(UnsupportedPrecisionError, match="refuses fp32"):
        coral.execution_for("fp32")
    with pytest.raises(UnsupportedPrecisionError):
        coral.peak_flops("fp32")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_native_precision_has_energy(name):
    device = load_device(name)
    for unit in device.execution_units:
        assert set(unit.energy_pj_per_op) == set(unit.peak), unit.name
        assert all(float(e.value) > 0 for e in unit.energy_pj_per_op.values())


def test_measured_bandwidth_wins_for_achievable_but_spec_stays_peak():
    hbm = load_device("h100-sxm5").outermost_memory
    assert float(hbm.bandwidth_bytes_per_s.value) == 3.35e12
    assert hbm.achievable_bandwidth_bytes_per_s < 3.35e12
    assert hbm.measured_bandwidth_bytes_per_s.kind == "measured"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_describe_states_every_precision(name):
    text = describe(load_device(name))
    for precision in PRECISIONS:
        assert re.search(rf"^  {precision}\s+(native|emulated|refused)", text, re.M), precision
    assert "sources:" in text


def test_host_builds_from_this_machine():
    host = load_device("host")
    affinity = len(os.sched_getaffinity(0))
    assert float(host.cpu.threads.value) in (affinity, os.cpu_count())
    cores = float(host.compute.units.value)
    assert 1 <= cores <= float(host.cpu.threads.value)
    assert host.peak_flops("fp32") > 0
    assert host.peak_figure("fp32").formula
    assert "CONSERVATIVE DEFAULT" in host.outermost_memory.bandwidth_bytes_per_s.note


def test_host_document_for_an_amx_server_is_valid():
    info = HostInfo(
        model_name="synthetic Sapphire Rapids", arch="x86_64",
        flags=frozenset({"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
                         "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"}),
        logical_cpus=8, physical_cores=4, clock_hz=2.0e9, clock_source="cpufreq",
        caches=(CacheInfo(1, 48 * 1024, 2, 4), CacheInfo(2, 2 * 2**20, 2, 4),
                CacheInfo(3, 105 * 2**20, 8, 1)),
        mem_total_bytes=64 * 2**30, package_power_w=350.0)
    device = catalog.finish_device(catalog.build_device(host_document(info)))
    assert device.unit_for("bf16").name == "amx"
    assert device.peak_flops("int8") == pytest.approx(4 * 2048 * 2.0e9)
    assert device.peak_flops("fp32", unit="simd") == pytest.approx(4 * 2 * 16 * 2 * 2.0e9)
    assert [m.name for m in device.memory] == ["l1", "l2", "l3", "dram"]
    assert float(device.energy.tdp_w.value) == 350.0


@pytest.mark.parametrize("source, flags, kind", [
    ("cpufreq", set(), "spec"),                   # cpuinfo_max_freq: the datasheet's boost
    ("cpuinfo", set(), "measured"),               # bare metal: the current 'cpu MHz'
    ("cpuinfo", {"hypervisor"}, "assumption"),    # a VM: the nominal rate, boost hidden
])
def test_a_vms_nominal_clock_is_an_assumption_that_says_why(source, flags, kind):
    info = HostInfo(model_name="AMD EPYC", arch="x86_64",
                    flags=frozenset({"avx2", "fma", "avx512f"} | flags), logical_cpus=2,
                    physical_cores=2, clock_hz=2.596e9, clock_source=source)
    device = catalog.finish_device(catalog.build_device(host_document(info)))
    clock = device.compute.boost_clock_hz
    assert clock.kind == kind and float(clock.value) == 2.596e9
    assert ("perf-calibrate measures it" in (clock.note or "")) is (kind == "assumption")
    assert device.peak_flops("fp32") == pytest.approx(2 * 2 * 16 * 2 * 2.596e9)


def test_targets_import_neither_torch_nor_ir():
    code = ("import sys, targets.catalog as c; c.load_device('host'); "
            "c.load_device('h100-sxm5'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'xdsl', 'dialects', 'passes', 'compiler')]; print(bad)")
    env = dict(os.environ, PYTHONPATH=str(Path(catalog.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "[]"
