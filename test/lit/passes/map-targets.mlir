// map-tpu, map-kpu and map-cpu on the small blocks and kernels.
// RUN: perf-opt %S/Inputs/kernels.mlir -p map-tpu | filecheck %s --check-prefix=TPU
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,assign-precision{default=int8},map-kpu' | filecheck %s --check-prefix=KPU
// RUN: perf-opt %S/Inputs/kernels.mlir -p 'map-cpu{device=i7-12700k}' | filecheck %s --check-prefix=CPU
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'fuse,map-tpu{device=coral-edge-tpu}' 2>&1 | filecheck %s --check-prefix=REFUSE
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'map-kpu{device=h100-sxm5}' 2>&1 | filecheck %s --check-prefix=CLASS

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
