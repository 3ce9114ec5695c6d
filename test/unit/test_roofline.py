"""targets.roofline: time and energy of a mapped kernel, hand-checked, plus the invariants
every architecture model must keep (more bandwidth or more peak never makes a kernel
slower; energy never drops below idle power x latency).

The workload builders and device modifiers here are shared by the test_*_model.py files.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from targets import cpu_copies, cpu_model, gpu_model, kpu_model, roofline, tpu_model
from targets.catalog import Device, list_devices, load_device
from targets.precision import storage_bytes
from targets.workload import ConvGeometry, Gemm, Workload

MODELS = {"gpu": gpu_model, "tpu": tpu_model, "kpu": kpu_model, "cpu": cpu_model}


# --------------------------------------------------------------------------- builders


def gemm_workload(m: int, n: int, k: int, precision: str = "bf16", batch: int = 1,
                  op_class: str = "matmul") -> Workload:
    """`batch` independent M x K by K x N products (weights shared across the batch)."""
    return Workload(
        name=f"mm{m}x{n}x{k}", op_class=op_class, precision=precision,
        matrix_flops=2 * batch * m * n * k,
        bytes_in=storage_bytes(batch * m * k, precision),
        bytes_weights=storage_bytes(k * n, precision),
        bytes_out=storage_bytes(batch * m * n, precision),
        output_elements=batch * m * n, batch=batch, channels=n, gemms=(Gemm(m, n, k, batch),))


def conv_workload(batch: int, precision: str, cin: int = 64, cout: int = 64, hw: int = 56,
                  kernel: int = 3) -> Workload:
    """Stride-1 'same' convolution as an implicit GEMM: M = batch*H*W, N = Cout,
    K = Cin*kh*kw (the resnet-like default is 1x64x56x56, 3x3, 64 -> 64)."""
    m, k = batch * hw * hw, cin * kernel * kernel
    return Workload(
        name=f"conv{cin}x{hw}_b{batch}", op_class="conv", precision=precision,
        matrix_flops=2 * m * cout * k,
        bytes_in=storage_bytes(batch * cin * hw * hw, precision),
        bytes_weights=storage_bytes(cout * k, precision),
        bytes_out=storage_bytes(batch * cout * hw * hw, precision),
        output_elements=batch * cout * hw * hw, batch=batch, channels=cout, spatial=hw * hw,
        gemms=(Gemm(m, cout, k),), source_channels=cin,
        conv=ConvGeometry((batch, cin, hw, hw), (kernel, kernel), padding=(kernel // 2,) * 2))


def elementwise_workload(elements: int, precision: str, op_class: str = "elementwise",
                         batch: int = 1) -> Workload:
    """One op per element (a ReLU): reads and writes every element once."""
    return Workload(
        name=f"relu{elements}", op_class=op_class, precision=precision, vector_flops=elements,
        bytes_in=storage_bytes(elements, precision), bytes_out=storage_bytes(elements, precision),
        output_elements=elements, batch=batch)


def run(workload: Workload, device: Device, calibration=None):
    """(mapping, estimate) of `workload` on `device` through its architecture's model."""
    mapping = MODELS[device.device_class].map_workload(workload, device, calibration)
    return mapping, roofline.estimate(workload, mapping, device)


def scaled(fig, factor: float):
    return dataclasses.replace(fig, value=float(fig.value) * factor)


def with_bandwidth(device: Device, factor: float) -> Device:
    """Every memory level `factor` times faster (spec and measured)."""
    levels = tuple(dataclasses.replace(
        lvl, bandwidth_bytes_per_s=scaled(lvl.bandwidth_bytes_per_s, factor),
        measured_bandwidth_bytes_per_s=lvl.measured_bandwidth_bytes_per_s
        and scaled(lvl.measured_bandwidth_bytes_per_s, factor)) for lvl in device.memory)
    return dataclasses.replace(device, memory=levels)


def with_peaks(device: Device, factor: float) -> Device:
    """Every execution unit `factor` times faster at every precision."""
    units = tuple(dataclasses.replace(u, peak=MappingProxyType(
        {p: scaled(f, factor) for p, f in u.peak.items()})) for u in device.execution_units)
    return dataclasses.replace(device, execution_units=units)


def precision_for(device: Device) -> str:
    """A precision every device of the catalog runs: int8 on the integer-only and KPU
    devices, bf16 where supported, else fp32."""
    if device.device_class == "kpu" or not device.supports("fp32"):
        return "int8"
    return "bf16" if device.supports("bf16") else "fp32"


def sample_workloads(device: Device) -> list[Workload]:
    prec = precision_for(device)
    return [conv_workload(1, prec), conv_workload(16, prec), gemm_workload(1024, 1024, 1024, prec),
            gemm_workload(1, 4096, 4096, prec), elementwise_workload(64 * 56 * 56, prec)]


DEVICES = [name for name in list_devices() if name != "host"]


# --------------------------------------------------------------------------- hand checks


def test_a100_large_gemm_compute_time_by_hand():
    """A100 dense BF16 peak = 108 SMs x 1024 FMA/clk x 2 x 1.41 GHz = 311.9 TFLOPS (the
    catalog lists NVIDIA's rounded 312 TFLOPS). 4096^3 GEMM: 32 x 32 = 1024 tiles of 128x128
    on 108 SMs -> 10 waves, wave efficiency 1024/1080 = 0.94815; K = 4096 in 64-element steps
    = 64 steps, pipeline 64/66 = 0.96970; no padding; 128x128 tiles need 45 GB/s of the
    180 GB/s shared memory per SM (operand efficiency 1); achievable fraction 0.86667.
    Efficiency = 0.94815 x 0.96970 x 0.86667 = 0.79683.
    Compute time = 2 x 4096^3 / (312e12 x 0.79683) = 137.44e9 / 248.61e12 = 552.8 us."""
    device = load_device("a100-sxm4-80gb")
    assert 108 * 1024 * 2 * 1.41e9 == pytest.approx(312e12, rel=0.001)
    mapping, est = run(gemm_workload(4096, 4096, 4096, "bf16"), device)
    assert mapping.exec_unit == "tensor_core" and mapping.details["tile_m"] == 128
    assert mapping.details["waves"] == 10
    assert mapping.efficiency == pytest.approx(0.79683, rel=1e-4)
    assert est.matrix_peak_flops_per_s == 312e12
    assert est.compute_time_s == pytest.approx(552.8e-6, rel=1e-3)
    # 3 x 4096^2 x 2 B = 100.7 MB > 40 MiB L2 -> HBM at 2039 GB/s = 49.4 us: compute-bound
    assert mapping.memory_level == "hbm"
    assert est.memory_time_s == pytest.approx(3 * 4096**2 * 2 / 2039e9)
    assert est.bottleneck == "compute"
    assert est.latency_s == pytest.approx(552.8e-6 + 5e-6, rel=1e-3)


def test_memory_time_uses_the_measured_bandwidth():
    """H100 HBM: spec 3.35 TB/s, published measurement 2.8 TB/s; the measurement wins."""
    device = load_device("h100-sxm5")
    w = elementwise_workload(512 * 2**20, "bf16")     # 2 GiB in + out: beyond the L2
    mapping, est = run(w, device)
    assert mapping.memory_level == "hbm"
    assert est.bandwidth_bytes_per_s == 2.8e12
    assert est.memory_time_s == pytest.approx(w.bytes_moved / 2.8e12)
    assert est.bottleneck == "memory"


def test_overhead_bound_kernel_and_latency_formula():
    device = load_device("h100-sxm5")
    mapping, est = run(gemm_workload(64, 64, 64), device)
    assert est.latency_s == pytest.approx(max(est.compute_time_s, est.memory_time_s) + 5e-6)
    assert est.bottleneck == "overhead"
    assert est.achieved_flops_per_s == pytest.approx(2 * 64**3 / est.latency_s)


def test_vector_peak_is_the_nearest_wider_native_precision():
    """A TPU v4 VPU has no BF16 ALU: element-wise BF16 runs at its FP32 rate, 4.3 TFLOPS."""
    device = load_device("tpu-v4")
    w = elementwise_workload(2**20, "bf16")
    mapping, est = run(w, device)
    assert mapping.vector_unit == "vpu"
    assert est.vector_peak_flops_per_s == pytest.approx(4.3008e12)
    assert est.vector_time_s == pytest.approx(2**20 / 4.3008e12 / mapping.vector_efficiency)


def test_energy_split_by_hand():
    """Coral, 64x64x64 INT8 GEMM: compute 524288 ops x 0.5 pJ; 12288 B from the 8 MiB SRAM
    at 12.5 pJ/B; 1000 B on chip written and read at 12.5 pJ/B; idle 0.2 W x latency."""
    device = load_device("coral-edge-tpu")
    w = dataclasses.replace(gemm_workload(64, 64, 64, "int8"), bytes_on_chip=1000)
    mapping, est = run(w, device)
    assert mapping.memory_level == "sram"
    assert est.compute_energy_j == pytest.approx(524288 * 0.5e-12)
    assert est.memory_energy_j == pytest.approx((12288 * 12.5 + 1000 * 2 * 12.5) * 1e-12)
    assert est.static_energy_j == pytest.approx(0.2 * est.latency_s)
    assert est.energy_j == pytest.approx(
        est.compute_energy_j + est.memory_energy_j + est.static_energy_j)


def test_emulated_precision_pays_its_cost_factor():
    """FP4 on H100 is computed as FP8; doubling the emulation cost doubles matrix time."""
    device = load_device("h100-sxm5")
    emu = device.emulation["fp4"]
    costly = dataclasses.replace(device, emulation=MappingProxyType({
        **device.emulation, "fp4": dataclasses.replace(emu, cost_factor=scaled(emu.cost_factor, 2))
    }))
    w = gemm_workload(4096, 4096, 4096, "fp4")
    mapping, est = run(w, device)
    _, est2 = run(w, costly)
    assert mapping.emulated and mapping.precision == "fp8"
    assert est.matrix_peak_flops_per_s == 1978.9e12
    assert est2.matrix_time_s == pytest.approx(2 * est.matrix_time_s)
    assert est2.compute_energy_j == pytest.approx(2 * est.compute_energy_j)


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("faster", [with_bandwidth, with_peaks], ids=["bandwidth", "peak"])
@pytest.mark.parametrize("name", DEVICES)
def test_more_bandwidth_or_more_peak_never_increases_latency(name, faster):
    device = load_device(name)
    upgraded = faster(device, 2.0)
    for w in sample_workloads(device):
        assert run(w, upgraded)[1].latency_s <= run(w, device)[1].latency_s * (1 + 1e-12), w.name


@pytest.mark.parametrize("name", DEVICES)
def test_energy_at_least_idle_power_times_latency(name):
    device = load_device(name)
    for w in sample_workloads(device):
        est = run(w, device)[1]
        assert est.energy_j >= float(device.energy.idle_w.value) * est.latency_s
        assert est.bottleneck in ("compute", "memory", "overhead")


@pytest.mark.parametrize("name", DEVICES)
def test_utilization_and_efficiency_are_fractions(name):
    device = load_device(name)
    for w in sample_workloads(device):
        m = run(w, device)[0]
        assert 0 < m.efficiency <= 1 and 0 < m.vector_efficiency <= 1, w.name
        assert 0 <= m.utilization <= 1 and 0 < m.units_used <= m.units_total, w.name
        assert all(isinstance(v, (int, float, str, bool)) for v in m.details.values())


def test_cpu_weights_come_from_the_level_that_holds_the_whole_models_weights():
    """A GEMV whose own 1 MiB of weights fits in L2 re-reads them from farther away when the
    model's weights, which pass through the caches between two runs, do not fit."""
    device = load_device("i7-12700k")
    gemv = gemm_workload(1, 512, 512, "fp32")
    alone = cpu_model.map_workload(gemv, device)
    in_big_model = cpu_model.map_workload(
        dataclasses.replace(gemv, model_weight_bytes=500 * 2**20), device)
    names = [lvl.name for lvl in device.memory]
    assert alone.stream_bytes == 0
    assert in_big_model.stream_bytes == gemv.bytes_weights
    assert names.index(in_big_model.stream_level) > names.index(in_big_model.memory_level)
    slow = roofline.estimate(gemv, in_big_model, device).memory_time_s
    assert slow > roofline.estimate(gemv, alone, device).memory_time_s
    # the streamed weights take the far level's time, the rest the near level's
    far = device.memory_level(in_big_model.stream_level).achievable_bandwidth_bytes_per_s
    near = device.memory_level(in_big_model.memory_level).achievable_bandwidth_bytes_per_s
    assert slow == pytest.approx(gemv.bytes_weights / far
                                 + (gemv.bytes_moved - gemv.bytes_weights) / near)


def test_cpu_weights_are_reread_from_the_level_that_holds_a_whole_run():
    """A weight is reused once per run, and everything the run touches passes through the
    caches in between. A GEMV with 2 MB of weights (on 8 cores) in a model with 16 MB of
    weights: 2 MB a core do not fit the i7-12700K's 1.25 MB L2s but fit its 25 MB L3, and are
    re-read from there; when the run moves 64 MB (activations, copies) they are evicted and
    stream from DRAM."""
    device = load_device("i7-12700k")
    gemv = gemm_workload(1, 512, 1024, "fp32")                    # 2 MB of weights
    small_model = dataclasses.replace(gemv, model_weight_bytes=16 * 2**20)
    big_run = dataclasses.replace(small_model, model_run_bytes=64 * 2**20)
    assert cpu_model.map_workload(small_model, device).stream_level == "l3"
    m = cpu_model.map_workload(big_run, device)
    assert m.stream_level == "dram" and m.stream_bytes == gemv.bytes_weights
    assert roofline.estimate(gemv, m, device).latency_s > \
        roofline.estimate(gemv, cpu_model.map_workload(small_model, device), device).latency_s


def test_map_cpu_run_bytes_count_the_librarys_copies():
    """Hand-computed: an eager 64 -> 64 3x3 FP32 convolution at 56x56 moves 0.80 MB in,
    0.15 MB of weights, 0.80 MB out; oneDNN adds a blocked copy of the weights (0.15 MB)
    and of the source and result (2 x 0.80 MB). A matmul adds nothing; a compiled graph's
    convolution copies only its weights, twice: into channels-last order, then oneDNN's
    blocked copy of that."""
    from passes.map_cpu import MapCpuPass

    conv, gemm = conv_workload(1, "fp32"), gemm_workload(64, 64, 64, "fp32")
    t, w = 64 * 56 * 56 * 4, 64 * 64 * 9 * 4
    p, i7 = MapCpuPass(), load_device("i7-12700k")
    assert p.run_bytes([conv], plain_layout=True, device=i7) == (t + w + t) + w + 2 * t
    assert p.run_bytes([conv], plain_layout=False, device=i7) == (t + w + t) + 2 * w
    assert p.run_bytes([gemm], plain_layout=True, device=i7) == gemm.bytes_moved
    # 16 -> 16 3x3 at 16x16 (4096 input elements) takes PyTorch's native path: no blocked
    # copies, but the columns it unfolds the input into (16*9 x 16*16 elements)
    small = conv_workload(1, "fp32", cin=16, cout=16, hw=16)
    assert p.run_bytes([small], plain_layout=True, device=i7) == small.bytes_moved + 16 * 9 * 256 * 4


def test_cpu_gemv_splits_across_cores_earlier_than_a_gemm():
    """oneMKL splits a one-row product from 65,536 multiply-adds per thread: the MLP's
    1x784->512 layer (401,408) makes 6 chunks, on 6 of the i7-12700K's 12 cores, and so does
    the same layer with 2 rows (0.8 M multiply-adds, 3 GEMM chunks); with 8 rows (3.2 M) the
    GEMM grain (262,144) gives 12 chunks; a 1x128->128 GEMV (16,384) stays on one core."""
    i7 = load_device("i7-12700k")
    gemv = cpu_model.map_workload(gemm_workload(1, 512, 784, "fp32"), i7)
    assert cpu_model.GEMV_GRAIN_MACS == 65536
    assert gemv.details["parallel_chunks"] == 401408 // 65536 == gemv.units_used == 6
    gemm = cpu_model.map_workload(gemm_workload(8, 512, 784, "fp32"), i7)
    assert gemm.details["grain"] == cpu_model.GEMM_GRAIN_MACS
    assert gemm.details["parallel_chunks"] == 8 * 401408 // 262144 == gemm.units_used == 12
    # two rows split at least as far as one (the weights decide the GEMV's threads)
    two = cpu_model.map_workload(gemm_workload(2, 512, 784, "fp32"), i7)
    assert two.units_used == 6
    small = cpu_model.map_workload(gemm_workload(1, 128, 128, "fp32"), i7)
    assert small.units_used == 1


def test_cpu_convolution_weights_are_reordered_on_every_call():
    """An eager oneDNN convolution reads its plain weights and writes a blocked copy before
    computing: hand-computed for 512 -> 512 3x3 at 7x7 (9.4 MB of FP32 weights) on the
    i7-12700K, where 9.4 MB over 12 cores fits each core's 1.25 MB L2."""
    device = load_device("i7-12700k")
    conv = conv_workload(1, "fp32", cin=512, cout=512, hw=7)
    w = conv.bytes_weights
    assert w == 512 * 512 * 9 * 4
    alone = cpu_model.map_workload(conv, device)
    l2 = device.memory_level("l2").achievable_bandwidth_bytes_per_s
    assert alone.memory_level == "l2" and alone.units_used == 12
    assert alone.details["weight_reorder_bytes"] == w
    assert alone.details["weight_reorder_s"] == pytest.approx(w / l2 + w / l2)
    dispatch = float(device.overheads.framework_dispatch_s.value)
    fork_join = float(device.overheads.launch_s.value)
    # the 25 KB source and result are reordered too (eager NCHW), in L1
    acts = alone.details["activation_reorder_s"]
    assert alone.overhead_s == pytest.approx(dispatch + fork_join + 2 * w / l2 + acts)
    # Inside a model whose weights live in DRAM the reorder reads them from there, and the
    # kernel then computes from the blocked copy in L2 (nothing streamed from DRAM twice).
    in_model = cpu_model.map_workload(dataclasses.replace(conv, model_weight_bytes=2**30), device)
    dram = device.memory_level("dram").achievable_bandwidth_bytes_per_s
    assert in_model.details["weight_reorder_s"] == pytest.approx(w / dram + w / l2)
    assert in_model.stream_bytes == 0 and in_model.memory_level == "l2"
    assert roofline.estimate(conv, in_model, device).latency_s > \
        roofline.estimate(conv, alone, device).latency_s


def test_cpu_eager_convolution_reorders_its_activations_both_ways():
    """Eager PyTorch hands oneDNN NCHW tensors: the source is copied into the blocked layout
    and the blocked result back, each a read and a write of the tensor. Hand-computed for a
    96-channel 3x3 depthwise layer at 112x112 in FP32 (4.82 MB each way) on the i7-12700K:
    4.82 MB over 12 cores is 0.4 MB a core, in the 1.25 MB L2. A compiled graph passes
    channels-last tensors, which oneDNN uses as they are."""
    device = load_device("i7-12700k")
    conv = conv_workload(1, "fp32", cin=96, cout=96, hw=112)
    dw = dataclasses.replace(conv, op_class="depthwise_conv", matrix_flops=2 * 112 * 112 * 96 * 9,
                             bytes_weights=96 * 9 * 4, gemms=(Gemm(112 * 112, 1, 9, 96),),
                             conv=dataclasses.replace(conv.conv, groups=96))
    t = 96 * 112 * 112 * 4
    eager = cpu_model.map_workload(dw, device)
    l2 = device.memory_level("l2").achievable_bandwidth_bytes_per_s
    assert eager.details["activation_reorder_bytes"] == 2 * t
    assert eager.details["activation_reorder_s"] == pytest.approx(4 * t / l2)
    compiled = cpu_model.map_workload(dataclasses.replace(dw, plain_layout=False), device)
    assert compiled.details["activation_reorder_bytes"] == 0
    assert eager.overhead_s - compiled.overhead_s == pytest.approx(4 * t / l2)
    assert roofline.estimate(dw, eager, device).latency_s > \
        roofline.estimate(dw, compiled, device).latency_s
    gemm = gemm_workload(256, 1024, 1024, "fp32")
    assert cpu_model.map_workload(gemm, device).details["activation_reorder_s"] == 0.0


def test_cpu_eager_bf16_convolution_copies_its_result_once_more():
    """In BF16, PyTorch copies oneDNN's channels-last result into NCHW after the call: one
    more pass over the result than in FP32. Hand-computed for 64 -> 256 1x1 at 56x56 on the
    Xeon 8480+ (0.40 MB source, 1.61 MB result in BF16): passes of 0.40 + 1.61 + 1.61 MB.
    A depthwise layer's result is reordered straight into NCHW; a compiled graph passes
    channels-last tensors and copies nothing."""
    spr = load_device("xeon-8480plus")
    src, out = 64 * 56 * 56 * 2, 256 * 56 * 56 * 2
    bf16 = conv_workload(1, "bf16", cin=64, cout=256, kernel=1)
    m = cpu_model.map_workload(bf16, spr)
    assert m.details["activation_reorder_bytes"] == src + 2 * out
    assert m.details["activation_reorder_s"] == pytest.approx(
        sum(cpu_copies.copy_s(spr, b, m.units_used) for b in (src, out, out)))
    fp32 = cpu_model.map_workload(conv_workload(1, "fp32", cin=64, cout=256, kernel=1), spr)
    assert fp32.details["activation_reorder_bytes"] == 2 * src + 2 * out   # 4-byte elements
    dw = dataclasses.replace(conv_workload(1, "bf16", cin=96, cout=96, hw=56),
                             op_class="depthwise_conv", bytes_weights=96 * 9 * 2,
                             gemms=(Gemm(56 * 56, 1, 9, 96),))
    assert cpu_model.map_workload(dw, spr).details["activation_reorder_bytes"] == \
        dw.bytes_in + dw.bytes_out
    compiled = cpu_model.map_workload(dataclasses.replace(bf16, plain_layout=False), spr)
    assert compiled.details["activation_reorder_bytes"] == 0
    assert cpu_copies.copies_result_to_nchw("conv", "bf16")
    assert not cpu_copies.copies_result_to_nchw("depthwise_conv", "bf16")
    assert not cpu_copies.copies_result_to_nchw("conv", "fp32")


def test_cpu_eager_fp32_image_source_is_read_as_is():
    """An FP32 convolution over a 3-channel image reads its NCHW source without a blocked
    copy (ONEDNN_VERBOSE, the resnet stem): only the result is reordered. In BF16 the source
    is copied too, and the result twice."""
    spr = load_device("xeon-8480plus")
    stem = dataclasses.replace(conv_workload(1, "fp32", cin=3, cout=64, hw=112, kernel=7),
                               source_channels=3)
    assert cpu_model.map_workload(stem, spr).details["activation_reorder_bytes"] == stem.bytes_out
    bf16 = dataclasses.replace(conv_workload(1, "bf16", cin=3, cout=64, hw=112, kernel=7),
                               source_channels=3)
    assert cpu_model.map_workload(bf16, spr).details["activation_reorder_bytes"] == \
        bf16.bytes_in + 2 * bf16.bytes_out
    wide = dataclasses.replace(stem, source_channels=64)
    assert cpu_model.map_workload(wide, spr).details["activation_reorder_bytes"] == \
        stem.bytes_in + stem.bytes_out


def test_cpu_weight_reorder_only_where_a_library_repacks_per_call():
    """FP32 GEMMs pack panels inside the BLAS (no separate pass); AMX matmuls copy B into
    VNNI blocks every call; element-wise ops have no weights to reorder."""
    i7, spr = load_device("i7-12700k"), load_device("xeon-8480plus")
    fp32_gemm = gemm_workload(256, 1024, 1024, "fp32")
    assert cpu_model.map_workload(fp32_gemm, i7).details["weight_reorder_bytes"] == 0
    amx_gemm = gemm_workload(256, 1024, 1024, "bf16")
    amx = cpu_model.map_workload(amx_gemm, spr)
    assert amx.details["amx"] and amx.details["weight_reorder_bytes"] == amx_gemm.bytes_weights
    relu = elementwise_workload(1 << 20, "fp32")
    assert cpu_model.map_workload(relu, i7).details["weight_reorder_s"] == 0.0


def test_bf16_convolutions_default_to_the_published_eager_speedup_over_fp32():
    """Eager BF16 convolutions run ~1.8x faster than FP32 (published 1.4-2.2x), not at the
    BF16 units' peak: hand-computed fractions of the executing unit's peak."""
    for name in ("xeon-8480plus", "ryzen7-7700x"):   # AMX tiles / AVX512-BF16 only
        device = load_device(name)
        conv = conv_workload(1, "bf16")
        m = cpu_model.map_workload(conv, device)
        fp32_peak = device.peak_flops("fp32", "simd")
        bf16_peak = device.peak_flops("bf16", m.exec_unit)
        assert m.details["class_efficiency"] == pytest.approx(
            cpu_model.CPU_CONV_EFFICIENCY * cpu_model.EAGER_BF16_CONV_SPEEDUP * fp32_peak / bf16_peak)
    # an AMX GEMM keeps the published oneMKL AMX fraction
    gemm = cpu_model.map_workload(gemm_workload(256, 1024, 1024, "bf16"), load_device("xeon-8480plus"))
    assert gemm.details["class_efficiency"] == pytest.approx(1229e9 / (1024 * 3.9e9))


def test_depthwise_convolutions_never_run_on_amx_tiles():
    """No channel reduction to put in AMX tiles: a BF16 depthwise convolution runs on the
    AVX-512 unit (and pays no 16-row tile padding); a dense one on AMX."""
    spr = load_device("xeon-8480plus")
    dense = conv_workload(1, "bf16", cin=96, cout=96, hw=56)
    depthwise = dataclasses.replace(
        dense, op_class="depthwise_conv", matrix_flops=dense.matrix_flops // 96,
        bytes_weights=dense.bytes_weights // 96,
        gemms=tuple(dataclasses.replace(g, n=1, k=9, batch=96) for g in dense.gemms))
    assert cpu_model.map_workload(dense, spr).exec_unit == "amx"
    m = cpu_model.map_workload(depthwise, spr)
    assert m.exec_unit == "simd" and m.details["amx_padding_efficiency"] == 1.0
