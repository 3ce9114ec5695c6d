// map-tpu, map-kpu and map-cpu on the small blocks and kernels.
// RUN: perf-opt %S/Inputs/kernels.mlir -p map-tpu | filecheck %s --check-prefix=TPU
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,assign-precision{default=int8},map-kpu' | filecheck %s --check-prefix=KPU
// RUN: perf-opt %S/Inputs/kernels.mlir -p 'map-cpu{device=i7-12700k}' | filecheck %s --check-prefix=CPU
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'fuse,map-tpu{device=coral-edge-tpu}' 2>&1 | filecheck %s --check-prefix=REFUSE
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'map-kpu{device=h100-sxm5}' 2>&1 | filecheck %s --check-prefix=CLASS
// RUN: perf-opt %S/Inputs/kernels.mlir -p 'map-cpu{device=xeon-8480plus clock-ghz=4},cost' | filecheck %s --check-prefix=CLOCK
// RUN: not perf-opt %S/Inputs/kernels.mlir -p 'map-cpu{clock-ghz=3800}' 2>&1 | filecheck %s --check-prefix=MHZ

// TPU v4: 4096^3 bf16 on 128x128 arrays: ceil(K/128) x ceil(N/128) = 1024 weight-stationary
// passes, no padding; all 8 MXUs (4 per core, 2 cores) busy.
// TPU: perf.tpu_kernel "matmul" {{.*}}name = "mm64"{{.*}}exec_unit = "mxu", exec_precision = "bf16"
// TPU: perf.tpu_kernel "matmul" {{.*}}name = "mm4096"{{.*}}units_used = 8 : i64, units_total = 8 : i64, utilization = 1.000000e+00 : f64
// TPU-SAME: systolic_rows = 128 : i64, systolic_cols = 128 : i64
// TPU-SAME: passes = 1024 : i64, weight_tiles_loaded = 1024 : i64
// TPU-SAME: padding_efficiency = 1.000000e+00 : f64
// Elementwise work goes to the vector unit.
// TPU: perf.tpu_kernel "relu" {{.*}}exec_unit = "vpu"

// KPU-T256: the int8 conv kernels run on the tile engines.
// KPU: perf.kpu_kernel "conv_bn_act" {{.*}}device = "kpu-t256", exec_unit = "{{[a-z_]+}}", exec_precision = "int8"
// KPU-SAME: units_total = 256 : i64
// KPU-SAME: scratchpad_capacity_bytes = 262144 : i64

// i7-12700K: the large matmul uses all 12 cores (8 P + 4 E).
// CPU: perf.cpu_kernel "matmul" {{.*}}name = "mm4096"{{.*}}units_used = 12 : i64, units_total = 12 : i64

// The Edge TPU has no floating point: fp32 ops are refused with the list of what it runs.
// REFUSE: blocks.mlir:8:5: error: cannot map 'conv_bn_act_0' to coral-edge-tpu: coral-edge-tpu cannot run fp32 {{.*}}supported precisions: int8, int4
// CLASS: error: pass 'map-kpu': device 'h100-sxm5' is a gpu: use map-gpu, not map-kpu

// clock-ghz=4 (a whole number is a float option's value, as in mlir-opt) runs the Xeon's
// cores at 4 GHz, twice the 2.0 GHz its file quotes peaks at: 2 * 4096^3 bf16 FLOPs at
// 30.77% of AMX's 56 * 1024 * 4e9 FLOP/s take 1.947 ms (3.894 ms at 2 GHz); the operands
// stream from L2, whose bandwidth follows the clock too. The module keeps the clock, so
// cost (and cost-report's suggestions) re-derive the same device.
// CLOCK: builtin.module attributes {{{.*}}perf.clock_hz = 4.000000e+09 : f64
// CLOCK: perf.cpu_kernel "matmul" {{.*}}name = "mm4096"{{.*}}compute_s = 0.00194703852776
// A clock given in MHz is refused with the range, not run 1000 times too fast.
// MHZ: error: pass 'map-cpu': clock-ghz must be a clock in GHz between 0.05 and 10, got 3800
