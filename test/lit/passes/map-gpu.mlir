// RUN: perf-opt %S/Inputs/kernels.mlir -p map-gpu | filecheck %s
// RUN: perf-opt %S/Inputs/kernels.mlir -p 'map-gpu{device=a100-sxm4-80gb}' | filecheck %s --check-prefix=A100
// RUN: not perf-opt %S/Inputs/kernels.mlir -p 'map-gpu{device=tpu-v4}' 2>&1 | filecheck %s --check-prefix=CLASS
// RUN: not perf-opt %S/Inputs/kernels.mlir -p 'map-gpu{device=b200}' 2>&1 | filecheck %s --check-prefix=UNKNOWN

// CHECK: builtin.module attributes {{.*}}perf.target = "gpu", perf.device = "h100-sxm5"

// Each op becomes a perf.gpu_kernel holding it. A 64x64x64 bf16 matmul has 4 output
// tiles of 32x32: 4 of 132 SMs, one wave, utilization 4/132 = 0.0303.
// CHECK: perf.gpu_kernel "matmul" ins(%a, %b) {name = "mm64", target = "gpu", device = "h100-sxm5", exec_unit = "tensor_core", exec_precision = "bf16", units_used = 4 : i64, units_total = 132 : i64, utilization = 0.030303030303030304 : f64
// CHECK-SAME: tensor_cores = true
// CHECK-SAME: waves = 1 : i64
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: graph.matmul
// CHECK-NEXT: perf.yield

// 4096^3: 32x32 tiles of 128x128 = 1024 blocks, one per SM per wave: ceil(1024/132) = 8
// waves, the last with 1024 - 7*132 = 100 SMs busy; every SM holds work.
// CHECK: perf.gpu_kernel "matmul" {{.*}}name = "mm4096"{{.*}}units_used = 132 : i64, units_total = 132 : i64
// CHECK-SAME: tile_m = 128 : i64
// CHECK-SAME: blocks = 1024 : i64
// CHECK-SAME: waves = 8 : i64, tail_sms_busy = 100 : i64

// Elementwise work is one thread per output element on the CUDA cores.
// CHECK: perf.gpu_kernel "relu" {{.*}}exec_unit = "cuda_core", exec_precision = "fp32", units_used = 132 : i64
// CHECK-SAME: memory_level = "hbm"
// CHECK-SAME: threads = 67108864 : i64

// On the A100 (108 SMs) 1024 blocks take ceil(1024/108) = 10 waves.
// A100: name = "mm4096"{{.*}}units_total = 108 : i64
// A100-SAME: waves = 10 : i64

// CLASS: perf-opt: error: pass 'map-gpu': device 'tpu-v4' is a tpu: use map-tpu, not map-gpu
// UNKNOWN: perf-opt: error: pass 'map-gpu': unknown device 'b200'; valid devices: a100-sxm4-80gb, {{.*}}h100-sxm5
