"""map-cpu physics (targets.cpu_model): cores from a grain of work, SIMD/AMX/VNNI by
precision, cache blocking, per-class efficiency from measurements or calibration."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from targets import cpu_copies, cpu_model, roofline
from targets.catalog import load_device
from targets.mapping_common import PrecisionNotSupportedError
from test_roofline import conv_workload, elementwise_workload, gemm_workload, run

I7 = load_device("i7-12700k")
XEON = load_device("xeon-8480plus")


def test_large_sgemm_reproduces_the_measured_openblas_rate():
    """4096^3 FP32 on the i7-12700K: 4096^3 / 262144 MACs per thread -> all 12 cores;
    efficiency 833/1446.4 = 0.5759; 137.4 GFLOP / 833 GFLOPS = 165.0 ms, so the estimate
    achieves the measured 833 GFLOPS (overhead 3.3 + 2 us is negligible)."""
    w = gemm_workload(4096, 4096, 4096, "fp32")
    m, est = run(w, I7)
    assert (m.units_used, m.units_total, m.utilization) == (12, 12, 1.0)
    assert m.efficiency == pytest.approx(833 / 1446.4)
    assert est.achieved_flops_per_s == pytest.approx(833e9, rel=1e-3)
    assert m.overhead_s == pytest.approx(3.3e-6 + 2e-6)
    assert m.memory_level == "dram"           # 201 MB, 16.8 MB per core: beyond the 25 MB L3


def test_a_dense_conv_runs_at_the_gemm_fraction_and_depthwise_at_the_slow_one():
    """The published SC18 result (JIT direct convolutions at GEMM-like efficiency) wins over
    the notes' single 280 GFLOPS layer, which now only stands for depthwise convolutions."""
    # channels-last activations, as a compiled graph passes them: no eager reorder passes
    m, est = run(dataclasses.replace(conv_workload(1, "fp32"), plain_layout=False), I7)
    assert m.details["class_efficiency"] == pytest.approx(833 / 1446.4)
    assert est.achieved_flops_per_s == pytest.approx(833e9, rel=0.02)
    dw = dataclasses.replace(conv_workload(1, "fp32"), op_class="depthwise_conv")
    assert cpu_model.map_workload(dw, I7).details["class_efficiency"] == pytest.approx(280 / 1446.4)


def test_outputs_above_the_mmap_threshold_pay_for_fresh_pages():
    """glibc mmaps blocks above 32 MiB afresh on every allocation: a 64 MiB output at a
    measured 2 GB/s first-touch rate costs 64 MiB / 2e9 = 33.6 ms more; 32 MiB, or an
    in-place op, nothing."""
    rate = 2e9
    dev = dataclasses.replace(I7, overheads=dataclasses.replace(
        I7.overheads, first_touch_bytes_per_s=dataclasses.replace(
            I7.overheads.launch_s, value=rate)))
    big = dataclasses.replace(elementwise_workload(2**24, "fp32"), bytes_out=64 * 2**20)
    edge = dataclasses.replace(big, bytes_out=32 * 2**20)
    base = cpu_model.map_workload(big, I7).overhead_s
    assert cpu_model.map_workload(big, dev).overhead_s - base == pytest.approx(64 * 2**20 / rate)
    assert cpu_model.map_workload(big, dev).details["first_touch_s"] == pytest.approx(64 * 2**20 / rate)
    assert cpu_model.map_workload(edge, dev).overhead_s == pytest.approx(base)
    in_place = dataclasses.replace(big, in_place=True)   # relu_: writes over its input
    assert cpu_model.map_workload(in_place, dev).details["first_touch_s"] == 0.0
    assert cpu_model.map_workload(big, I7).details["first_touch_s"] == 0.0   # no figure: not modelled


def test_streaming_relu_is_bandwidth_bound_like_the_measurement():
    """The predecessor measured ReLU at 12 GFLOPS (0.83 % of peak) at 72.1 GB/s. 64 M FP32
    elements: 512 MiB over 76.8 GB/s DRAM = 7.0 ms -> 9.6 GFLOPS = 0.66 % of peak, within
    the measurement's ballpark without charging the DRAM limit twice."""
    m, est = run(elementwise_workload(2**26, "fp32"), I7)
    assert m.memory_level == "dram" and est.bottleneck == "memory"
    fraction = est.achieved_flops_per_s / 1446.4e9
    assert fraction == pytest.approx(cpu_model.CPU_RELU_MEASURED_FRACTION, rel=0.25)
    assert m.efficiency == pytest.approx(cpu_model.CPU_VECTOR_EFFICIENCY)


@pytest.mark.parametrize("elements, cores", [(1000, 1), (32768, 1), (32769, 2),
                                             (5 * 32768, 5), (100 * 32768, 12)])
def test_elementwise_cores_follow_the_pytorch_grain(elements, cores):
    m = cpu_model.map_workload(elementwise_workload(elements, "fp32"), I7)
    assert m.units_used == cores and m.details["grain"] == 32768
    expected = 3.3e-6 + (2e-6 if cores > 1 else 0.0)   # fork/join only when parallel
    assert m.overhead_s == pytest.approx(expected)


@pytest.mark.parametrize("size, cores", [(64, 1), (128, 8), (256, 12)])
def test_gemm_cores_follow_the_openblas_threshold(size, cores):
    """64^3 = 262144 MACs: one thread; 128^3 = 2.1 M: 8 threads; 256^3: all 12 cores."""
    m = cpu_model.map_workload(gemm_workload(size, size, size, "fp32"), I7)
    assert m.units_used == cores
    assert m.efficiency == pytest.approx(833 / 1446.4 * cores / 12)


def test_amx_for_bf16_and_int8_on_sapphire_rapids():
    for prec in ("bf16", "int8"):
        m = cpu_model.map_workload(gemm_workload(1024, 1024, 1024, prec), XEON)
        assert m.exec_unit == "amx" and m.details["amx"] and m.details["matrix_extension"] == "amx"
        assert m.details["amx_padding_efficiency"] == 1.0
    fp32 = cpu_model.map_workload(gemm_workload(1024, 1024, 1024, "fp32"), XEON)
    assert fp32.exec_unit == "simd" and not fp32.details["amx"]
    assert fp32.details["simd_lanes"] == 16 and fp32.details["fma_units_per_core"] == 2


def test_amx_tiles_pad_m_and_n_to_16_rows():
    """17 x 16 x 32 BF16: M pads to 32 rows of AMX tiles -> 17/32 of the work is useful."""
    m = cpu_model.map_workload(gemm_workload(17, 16, 32, "bf16"), XEON)
    assert m.details["amx_padding_efficiency"] == pytest.approx(17 / 32)


def test_vnni_and_avx512_bf16_flags():
    int8 = cpu_model.map_workload(gemm_workload(512, 512, 512, "int8"), I7)
    assert int8.exec_unit == "simd" and int8.details["vnni"] and not int8.details["amx"]
    zen4 = load_device("ryzen7-7700x")
    bf16 = cpu_model.map_workload(gemm_workload(512, 512, 512, "bf16"), zen4)
    assert bf16.details["avx512_bf16"] and bf16.precision == "bf16"


def test_cache_level_holds_the_per_core_working_set():
    small = cpu_model.map_workload(gemm_workload(64, 64, 64, "fp32"), I7)
    assert small.details["working_set_per_core_bytes"] == 3 * 64 * 64 * 4
    assert small.memory_level == "l1d"                     # 48 KiB on one core
    mid = cpu_model.map_workload(conv_workload(1, "fp32"), I7)
    assert mid.memory_level == "l2"                        # 1.75 MB / 12 = 146 KB per core


def test_calibration_overrides_the_default_class_efficiency():
    w = gemm_workload(4096, 4096, 4096, "fp32")
    m = cpu_model.map_workload(w, I7, {"matmul": 0.7, "conv": 0.3})
    assert m.efficiency == pytest.approx(0.7)
    assert m.details["class_efficiency_source"] == "calibration"
    with pytest.raises(ValueError, match="not a fraction"):
        cpu_model.map_workload(w, I7, {"matmul": 1.5})


def test_refused_precision_lists_the_supported_ones():
    """No catalog CPU refuses a precision (all upcast), so make the i7 refuse FP8."""
    refusing = dataclasses.replace(I7, emulation=MappingProxyType(
        {**I7.emulation, "fp8": dataclasses.replace(I7.emulation["fp8"], mode="refuse",
                                                    reason="no FP8 in this test")}))
    with pytest.raises(PrecisionNotSupportedError, match="supported precisions: fp64, fp32"):
        cpu_model.map_workload(gemm_workload(64, 64, 64, "fp8"), refusing)


def test_host_is_the_default_device():
    host = load_device(cpu_model.DEFAULT_DEVICE)
    m = cpu_model.map_workload(conv_workload(1, "fp32"), host)
    assert m.device == "host" and 1 <= m.units_used <= m.units_total


@pytest.mark.parametrize("name", ["i7-12700k", "xeon-8480plus", "orin-cpu", "host"])
def test_more_batch_never_lowers_utilization(name):
    device = load_device(name)
    for build in (lambda b: conv_workload(b, "fp32"),
                  lambda b: gemm_workload(b, 768, 768, "fp32"),
                  lambda b: elementwise_workload(b * 1000, "fp32", batch=b)):
        u = [cpu_model.map_workload(build(b), device).utilization for b in (1, 2, 4, 8, 64)]
        assert u == sorted(u), u


def _host(vendor: str, flags: set[str], family: int = 0, clock_hz: float = 3e9):
    """A 2-core `host` device probed from a made-up machine."""
    from targets.catalog import select_power_mode
    from targets.host import HostInfo, build_host_device

    return select_power_mode(build_host_device(HostInfo(
        model_name=f"{vendor} test CPU", arch="x86_64", flags=frozenset(flags), logical_cpus=2,
        physical_cores=2, clock_hz=clock_hz, clock_source="cpuinfo", vendor=vendor,
        cpu_family=family)), None)


AVX512 = {"avx", "avx2", "fma", "avx512f", "avx512_bf16"}


def test_an_fp32_gemm_on_amd_runs_onemkls_256_bit_kernels():
    """oneMKL's sgemm runs 256-bit Zen kernels on an AMD CPU with AVX-512 (perf on the Zen 5
    test VM): half the 512-bit rate, for matmuls and the GEMMs of CPU attention in FP32;
    BF16 GEMMs (oneDNN), convolutions (oneDNN), Intel CPUs and 256-bit AMD CPUs keep it all."""
    amd, intel = _host("AMD", AVX512), _host("Intel", AVX512)
    for op_class in ("matmul", "attention"):
        w = gemm_workload(2048, 2048, 2048, "fp32", op_class=op_class)
        (m_amd, e_amd), (m_intel, e_intel) = run(w, amd), run(w, intel)
        assert m_amd.details["blas_code_path_fraction"] == 0.5
        assert m_intel.details["blas_code_path_fraction"] == 1.0
        assert m_amd.efficiency == pytest.approx(m_intel.efficiency / 2)
        assert e_amd.compute_time_s == pytest.approx(2 * e_intel.compute_time_s)
    bf16 = gemm_workload(2048, 2048, 2048, "bf16")
    assert run(bf16, amd)[0].efficiency == pytest.approx(run(bf16, intel)[0].efficiency)
    conv = conv_workload(8, "fp32")
    assert run(conv, amd)[0].efficiency == pytest.approx(run(conv, intel)[0].efficiency)
    avx2 = _host("AMD", {"avx", "avx2", "fma"})
    assert run(gemm_workload(2048, 2048, 2048, "fp32"), avx2)[0].details[
        "blas_code_path_fraction"] == 1.0


def test_the_cpu_vendor_comes_from_cpuinfo_or_a_recorded_model_name():
    import json

    from compiler.calibrate.machine import host_info
    from targets.host import cpu_vendor
    from conftest import ROOT

    assert cpu_vendor("AuthenticAMD") == "AMD"
    assert cpu_vendor("GenuineIntel", "AMD EPYC") == "Intel"   # vendor_id wins
    assert cpu_vendor("", "Intel(R) Xeon(R) Platinum 8480+") == "Intel"
    assert cpu_vendor("", "Neoverse-N1") == ""
    # calibrations written before the vendor was recorded
    cal = ROOT / "targets" / "calibrations"
    for name, vendor in (("ci-host-2core.json", "AMD"), ("ci-host-xeon-2core.json", "Intel")):
        machine = json.loads((cal / name).read_text())["machine"]
        assert "vendor" not in machine and host_info(machine).vendor == vendor


def test_zen4_runs_avx512_on_a_256_bit_datapath():
    """AMD family 25 with AVX-512 (Zen 4) executes 512-bit ops as two 256-bit halves (AMD's
    Zen 4 optimization guide): its FP32 peak is 2 pipes x 8 lanes x 2, as the catalog's
    Ryzen 7 7700X has it, and oneMKL's 256-bit kernels lose nothing there; family 26 (Zen 5)
    keeps the full 512 bits."""
    zen4, zen5 = (_host("AMD", AVX512, family, clock_hz=4.5e9) for family in (25, 26))
    assert zen4.peak_flops("fp32", "simd") == pytest.approx(2 * 2 * 8 * 2 * 4.5e9)
    assert zen5.peak_flops("fp32", "simd") == pytest.approx(2 * 2 * 16 * 2 * 4.5e9)
    assert "zen4_opt" in zen4.cpu.simd_width_bits.source
    gemm = gemm_workload(2048, 2048, 2048, "fp32")
    assert run(gemm, zen4)[0].details["blas_code_path_fraction"] == 1.0
    assert run(gemm, zen5)[0].details["blas_code_path_fraction"] == 0.5


def _one_core(device):
    return dataclasses.replace(device, compute=dataclasses.replace(
        device.compute, units=dataclasses.replace(device.compute.units, value=1)))


@pytest.mark.parametrize("shape, kernel, stride, groups, precision, device, onednn", [
    # measured on the 2-core Zen 5 VM (torch.profiler: thnn_conv2d vs mkldnn_convolution)
    ((1, 16, 35, 35), 1, 1, 1, "fp32", I7, False),      # 19600 input elements: native
    ((1, 16, 36, 36), 1, 1, 1, "fp32", I7, True),       # 20736 > 20480: oneDNN
    ((2, 16, 1, 1), 1, 1, 1, "fp32", I7, True),         # batched, and threaded
    ((2, 16, 1, 1), 1, 1, 1, "fp32", "one core", False),  # a 1x1 on one thread: native
    ((2, 16, 2, 2), 1, 2, 1, "fp32", "one core", True),   # perf-calibrate's probe: strided
    ((1, 16, 4, 4), 3, 1, 16, "fp32", I7, True),        # grouped
    ((1, 16, 4, 4), 5, 1, 1, "fp32", I7, True),         # a kernel wider than 3
    ((1, 16, 4, 4), 3, 1, 1, "fp32", I7, False),
    ((1, 16, 1, 1), 1, 1, 1, "bf16", XEON, True),       # BF16 on AVX-512: always oneDNN
    ((1, 16, 1, 1), 1, 1, 1, "bf16", I7, False),        # no AVX-512: PyTorch's own kernels
])
def test_pytorch_picks_the_convolution_library_as_its_heuristic_says(
        shape, kernel, stride, groups, precision, device, onednn):
    from targets.workload import ConvGeometry
    device = _one_core(I7) if device == "one core" else device
    conv = ConvGeometry(shape, (kernel, kernel), (stride, stride), groups=groups)
    assert cpu_copies.runs_on_onednn(conv, precision, device) is onednn


def test_a_native_convolution_pays_no_onednn_call_or_copies_but_unfolds_its_input():
    """16 -> 16 3x3 at 16x16, FP32, batch 1 (4096 input elements): PyTorch's native path.
    It pays no oneDNN call and makes no blocked copies; it unfolds the input into
    16*9 x 16*16 columns (147,456 bytes). The same convolution at batch 2 goes to oneDNN and
    pays the call (the i7 given a 47 us call cost) and the copies."""
    calls = MappingProxyType({"conv:fp32": dataclasses.replace(
        I7.overheads.framework_dispatch_s, value=47e-6)})
    i7 = dataclasses.replace(I7, overheads=dataclasses.replace(I7.overheads, library_call_s=calls))
    native = cpu_model.map_workload(conv_workload(1, "fp32", cin=16, cout=16, hw=16), i7)
    assert native.details["conv_library"] == "native"
    assert native.details["library_call_s"] == 0.0
    assert native.details["weight_reorder_bytes"] == native.details["activation_reorder_bytes"] == 0
    assert native.details["unfold_bytes"] == 16 * 9 * 16 * 16 * 4
    assert native.details["unfold_s"] > 0
    batched = cpu_model.map_workload(conv_workload(2, "fp32", cin=16, cout=16, hw=16), i7)
    assert batched.details["conv_library"] == "onednn"
    assert batched.details["library_call_s"] == 47e-6
    assert batched.details["unfold_bytes"] == 0
    assert batched.details["weight_reorder_bytes"] == 16 * 16 * 9 * 4
    # a 1x1 convolution at stride 1 reads its input as is
    pointwise = cpu_model.map_workload(conv_workload(1, "fp32", cin=16, cout=16, hw=16, kernel=1), i7)
    assert pointwise.details["conv_library"] == "native" and pointwise.details["unfold_bytes"] == 0
    # a compiled graph calls the same aten.convolution: native too, no weight copy
    compiled = cpu_model.map_workload(dataclasses.replace(
        conv_workload(1, "fp32", cin=16, cout=16, hw=16), plain_layout=False), i7)
    assert compiled.details["conv_library"] == "native"
    assert compiled.details["weight_reorder_bytes"] == 0 and compiled.details["library_call_s"] == 0.0


def test_a_unit_pays_the_library_call_once_per_call_it_makes():
    """A compiled graph calls each convolution and each matrix product of a fused unit as its
    own extern kernel: EfficientNet's squeeze-and-excitation unit (1x1 32 -> 8, then 8 -> 32,
    on the pooled 1x1 map) makes two oneDNN calls, so pays the BF16 call (47 us here) twice.
    A matmul unit pays only for products above oneDNN's 16^3 floor; attention's products run
    inside one scaled_dot_product_attention call."""
    from targets.workload import ConvGeometry, Gemm
    calls = MappingProxyType({key: dataclasses.replace(XEON.overheads.framework_dispatch_s,
                                                       value=47e-6)
                              for key in ("conv:bf16", "matmul:bf16", "attention:bf16")})
    xeon = dataclasses.replace(XEON, overheads=dataclasses.replace(XEON.overheads,
                                                                   library_call_s=calls))
    one = dataclasses.replace(conv_workload(1, "bf16", cin=32, cout=8, hw=1, kernel=1),
                              plain_layout=False)
    two = dataclasses.replace(one, gemms=(Gemm(1, 8, 32), Gemm(1, 32, 8)),
                              conv=ConvGeometry((1, 8, 1, 1), (1, 1)))
    assert cpu_model.library_calls(one) == 1 and cpu_model.library_calls(two) == 2
    single = cpu_model.map_workload(one, xeon)
    assert single.details["conv_library"] == "onednn"
    assert single.details["library_call_s"] == pytest.approx(47e-6)
    assert cpu_model.map_workload(two, xeon).details["library_call_s"] == pytest.approx(94e-6)
    mixed = dataclasses.replace(gemm_workload(64, 64, 64), gemms=(Gemm(64, 64, 64), Gemm(8, 8, 8)))
    assert cpu_model.library_calls(mixed) == 1
    assert cpu_model.library_calls(dataclasses.replace(mixed, gemms=())) == 1  # one rebuilt
    attention = dataclasses.replace(mixed, op_class="attention")
    assert cpu_model.library_calls(attention) == 1


def _with_layout_reorder_rate(device, rate: float):
    return dataclasses.replace(device, overheads=dataclasses.replace(
        device.overheads, layout_reorder_bytes_per_s=dataclasses.replace(
            device.overheads.launch_s, value=rate)))


def test_a_compiled_graph_copies_convolution_weights_into_channels_last_order():
    """torch.compile on a CPU hands convolutions channels-last weights, copied from the OIHW
    parameters on every call (the code Inductor writes for resnet18). Hand-computed for
    64 -> 64 3x3 at 56x56 in FP32, 147,456 bytes of weights, at a measured 10 GB/s layout
    reorder rate: 14.75 us, on top of oneDNN's own blocked copy. A 1x1 or a depthwise kernel
    holds the same order in both layouts (no copy); eager code passes the parameters as is."""
    dev = _with_layout_reorder_rate(I7, 10e9)
    conv = conv_workload(1, "fp32")
    w = 64 * 64 * 9 * 4
    compiled = cpu_model.map_workload(dataclasses.replace(conv, plain_layout=False), dev)
    assert compiled.details["weight_layout_copy_bytes"] == w
    assert compiled.details["weight_layout_copy_s"] == pytest.approx(w / 10e9)
    assert compiled.details["weight_reorder_bytes"] == w
    eager = cpu_model.map_workload(conv, dev)
    assert eager.details["weight_layout_copy_bytes"] == 0
    one = conv_workload(1, "fp32", kernel=1)
    dw = dataclasses.replace(conv, op_class="depthwise_conv",
                             conv=dataclasses.replace(conv.conv, groups=64))
    for same_order in (one, dw):
        m = cpu_model.map_workload(dataclasses.replace(same_order, plain_layout=False), dev)
        assert m.details["weight_layout_copy_bytes"] == 0
    # the copy is time the compiled kernel spends besides its eager twin's work: slower
    # weights-copy rate, slower kernel
    slow = cpu_model.map_workload(dataclasses.replace(conv, plain_layout=False),
                                  _with_layout_reorder_rate(I7, 5e9))
    assert slow.overhead_s - compiled.overhead_s == pytest.approx(w / 5e9 - w / 10e9)


def test_a_compiled_convolutions_tail_is_a_pass_over_the_librarys_result():
    """Inductor on a CPU cannot fuse the batch norm and ReLU after a convolution into the
    oneDNN call: the library writes its result, one generated loop reads it back and writes
    the output. Hand-computed for 64 -> 64 3x3 at 112x112, batch 16, in FP32 on the
    i7-12700K: a result of 51.4 MB, beyond the 25 MB L3: the pass reads and writes it in
    DRAM (76.8 GB/s: 1.34 ms), beyond the tail's arithmetic (2 FLOPs an element) already in
    the vector time. A tail of 1000 FLOPs an element is compute-bound: nothing more. A
    convolution alone, or eager code (its own kernels per op), has no such pass."""
    elements = 16 * 64 * 112 * 112
    conv = dataclasses.replace(conv_workload(16, "fp32", hw=112), ops=3,
                               vector_flops=2 * elements, plain_layout=False)
    m = cpu_model.map_workload(conv, I7)
    assert m.details["epilogue_bytes"] == elements * 4
    dram = I7.memory_level("dram").achievable_bandwidth_bytes_per_s
    vector_peak = float(I7.unit(m.vector_unit).peak["fp32"].value)
    tail_s = 2 * elements / (vector_peak * m.vector_efficiency)
    assert m.details["epilogue_s"] == pytest.approx(2 * elements * 4 / dram - tail_s)
    assert m.details["epilogue_s"] > 1.3e-3
    heavy = cpu_model.map_workload(dataclasses.replace(conv, vector_flops=1000 * elements), I7)
    assert heavy.details["epilogue_s"] == 0.0
    for no_pass in (dataclasses.replace(conv, ops=1), dataclasses.replace(conv, plain_layout=True)):
        assert cpu_model.map_workload(no_pass, I7).details["epilogue_bytes"] == 0


def test_a_compiled_tail_runs_at_the_measured_rates_of_its_kinds():
    """A compiled graph's loop after a convolution runs each op about as fast as eager
    PyTorch's kernel of it (SiLU's exponential: 10-20 instructions an element where the
    FLOP count says 1): with a calibration that measured SiLU at 0.05 of the vector peak and
    ReLU at 0.01, a tail of SiLU alone runs at 0.05 instead of the default 0.5, one of ReLU
    at 0.01; eager code keeps the default (its SiLU is its own kernel), and so does a frozen
    graph's ReLU (a oneDNN post-op), while its SiLU keeps the measured rate."""
    elements = 64 * 112 * 112     # 24 grains of 32768: all 12 cores
    conv = dataclasses.replace(conv_workload(1, "fp32", hw=112), vector_flops=4 * elements, ops=2,
                               tail=(("silu", 4 * elements),), plain_layout=False)
    measured = {"kind:silu": 0.05, "kind:relu": 0.01}
    m = cpu_model.map_workload(conv, I7, measured)
    assert m.vector_efficiency == pytest.approx(0.05)
    assert cpu_model.map_workload(conv, I7).vector_efficiency == pytest.approx(0.5)
    relu = dataclasses.replace(conv, vector_flops=elements, tail=(("relu", elements),))
    assert cpu_model.map_workload(relu, I7, measured).vector_efficiency == pytest.approx(0.01)
    frozen_relu = dataclasses.replace(relu, prepacked=True)
    assert cpu_model.map_workload(frozen_relu, I7, measured).vector_efficiency == pytest.approx(0.5)
    frozen_silu = dataclasses.replace(conv, prepacked=True)
    assert cpu_model.map_workload(frozen_silu, I7, measured).vector_efficiency == pytest.approx(0.05)
    eager = dataclasses.replace(conv, plain_layout=True)
    assert cpu_model.map_workload(eager, I7, measured).vector_efficiency == pytest.approx(0.5)
    # half the FLOPs at 0.05, half at 0.5: 1 / (0.5/0.05 + 0.5/0.5) = 1/11
    half = dataclasses.replace(conv, vector_flops=8 * elements)
    assert cpu_model.map_workload(half, I7, measured).vector_efficiency == pytest.approx(1 / 11)
    assert roofline.estimate(conv, m, I7).latency_s > \
        roofline.estimate(conv, cpu_model.map_workload(conv, I7), I7).latency_s


def test_prepacked_weights_are_not_copied_and_a_frozen_tail_is_a_post_op():
    """map-cpu{weights=prepacked} (a frozen graph, IPEX, OpenVINO): a compiled convolution
    copies no weights (neither channels-last nor oneDNN's blocked copy) and its batch norm
    and activation run as oneDNN post-ops (no read-back of the result); eager code keeps its
    activation reorders but copies no weights either. Same work, less time."""
    conv = dataclasses.replace(conv_workload(16, "fp32", hw=112), ops=3,
                               vector_flops=2 * 16 * 64 * 112 * 112, plain_layout=False)
    per_call = cpu_model.map_workload(conv, I7)
    frozen = cpu_model.map_workload(dataclasses.replace(conv, prepacked=True), I7)
    assert per_call.details["weight_reorder_bytes"] == per_call.details["weight_layout_copy_bytes"] \
        == 64 * 64 * 9 * 4
    assert per_call.details["epilogue_s"] > 0
    for key in ("weight_reorder_bytes", "weight_layout_copy_bytes", "epilogue_bytes"):
        assert frozen.details[key] == 0
    assert frozen.overhead_s < per_call.overhead_s
    eager = dataclasses.replace(conv_workload(1, "fp32"), prepacked=True)
    m = cpu_model.map_workload(eager, I7)
    assert m.details["weight_reorder_bytes"] == 0 and m.details["activation_reorder_bytes"] > 0
