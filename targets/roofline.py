"""Roofline cost of one mapped kernel: time (compute, memory, overhead) and energy, split.

Why a separate step: a `Mapping` says where work runs and what share of peak it can
reach; turning that into seconds and joules is the same arithmetic on every architecture,
so it lives here once and the cost pass only copies the numbers into IR.

    compute  = matrix_flops / (matrix peak x efficiency) + vector_flops / (vector peak x
               vector_efficiency)   (the matrix and vector parts run one after the other)
    memory   = bytes_moved / achievable bandwidth of the serving level (a published
               measurement wins over the spec sheet)
    latency  = max(compute, memory) + overhead
    energy   = matrix_flops x pJ/op + vector_flops x pJ/op          (dynamic compute)
             + bytes_moved x pJ/B of the level + bytes_on_chip x 2 x pJ/B of the nearest
               on-chip level (written once, read once)               (data movement)
             + idle power x latency                                  (static)
"""

from __future__ import annotations

from dataclasses import dataclass

from targets.catalog import Device
from targets.mapping_common import vector_peak
from targets.workload import Mapping, Workload

PJ = 1e-12


@dataclass(frozen=True)
class Estimate:
    matrix_time_s: float
    vector_time_s: float
    compute_time_s: float
    memory_time_s: float
    overhead_s: float
    latency_s: float
    bottleneck: str                # compute | memory | overhead
    achieved_flops_per_s: float
    matrix_peak_flops_per_s: float
    vector_peak_flops_per_s: float
    bandwidth_bytes_per_s: float
    compute_energy_j: float
    memory_energy_j: float
    static_energy_j: float
    energy_j: float


def matrix_rate(workload: Workload, mapping: Mapping, device: Device) -> tuple[float, float]:
    """(peak FLOP/s, dynamic pJ/op) of the matrix work on mapping.exec_unit at
    mapping.precision. An emulated precision pays the emulation's cost factor on both."""
    cost = device.execution_for(workload.precision).cost_factor if mapping.emulated else 1.0
    peak = device.peak_flops(mapping.precision, mapping.exec_unit) / cost
    return peak, device.energy_per_op_pj(mapping.precision, mapping.exec_unit) * cost


def vector_rate(mapping: Mapping, device: Device) -> tuple[float, float]:
    """(peak FLOP/s, pJ/op) of the vector unit at the precision it computes."""
    unit = mapping.vector_unit or mapping.exec_unit
    prec, peak = vector_peak(device, unit, mapping.precision)
    return peak, device.energy_per_op_pj(prec, unit)


def bottleneck_of(compute_s: float, memory_s: float, overhead_s: float) -> str:
    if overhead_s > max(compute_s, memory_s):
        return "overhead"
    return "compute" if compute_s >= memory_s else "memory"


def estimate(workload: Workload, mapping: Mapping, device: Device) -> Estimate:
    """Time and energy of `workload` placed by `mapping` on `device`."""
    m_peak = m_pj = v_peak = v_pj = 0.0
    matrix_s = vector_s = 0.0
    if workload.matrix_flops:
        m_peak, m_pj = matrix_rate(workload, mapping, device)
        matrix_s = workload.matrix_flops / (m_peak * mapping.efficiency)
    if workload.vector_flops:
        v_peak, v_pj = vector_rate(mapping, device)
        vector_s = workload.vector_flops / (v_peak * mapping.vector_efficiency)
    compute_s = matrix_s + vector_s
    level = device.memory_level(mapping.memory_level)
    bandwidth = level.achievable_bandwidth_bytes_per_s
    # Bytes that come from a farther level than the one serving the rest (weights a
    # device cannot keep on chip) take their own level's time and energy.
    streamed = min(mapping.stream_bytes, workload.bytes_moved)
    stream_level = device.memory_level(mapping.stream_level) if streamed else level
    memory_s = ((workload.bytes_moved - streamed) / bandwidth
                + streamed / stream_level.achievable_bandwidth_bytes_per_s)
    latency = max(compute_s, memory_s) + mapping.overhead_s
    compute_j = (workload.matrix_flops * m_pj + workload.vector_flops * v_pj) * PJ
    nearest = device.memory[0]
    memory_j = ((workload.bytes_moved - streamed) * float(level.energy_pj_per_byte.value)
                + streamed * float(stream_level.energy_pj_per_byte.value)
                + workload.bytes_on_chip * 2 * float(nearest.energy_pj_per_byte.value)) * PJ
    static_j = float(device.energy.idle_w.value) * latency
    return Estimate(
        matrix_time_s=matrix_s, vector_time_s=vector_s, compute_time_s=compute_s,
        memory_time_s=memory_s, overhead_s=mapping.overhead_s, latency_s=latency,
        bottleneck=bottleneck_of(compute_s, memory_s, mapping.overhead_s),
        achieved_flops_per_s=workload.flops / latency if latency > 0 else 0.0,
        matrix_peak_flops_per_s=m_peak, vector_peak_flops_per_s=v_peak,
        bandwidth_bytes_per_s=bandwidth, compute_energy_j=compute_j, memory_energy_j=memory_j,
        static_energy_j=static_j, energy_j=compute_j + memory_j + static_j)
