// RUN: perf-opt %s --split-input-file -p map-gpu,cost | filecheck %s
// RUN: perf-opt %s --split-input-file -p fuse,map-gpu,cost | filecheck %s --check-prefix=FUSED
// RUN: not perf-opt %s --split-input-file -p cost 2>&1 | filecheck %s --check-prefix=UNMAPPED
// RUN: sed "s/ {inplace}//" %s | perf-opt - --split-input-file -p map-gpu,cost | filecheck %s --check-prefix=NOTINPLACE

// A memory-bound op: relu over 64 x 2^20 fp32 reads and writes 2 x 256 MiB =
// 536870912 B from HBM. H100 SXM5 HBM3: the published 2.8 TB/s measurement wins over the
// 3.35 TB/s spec, so memory time = 536870912 / 2.8e12 = 191.74 us; compute is 2^26
// FLOPs on 66.9 TFLOP/s fp32 CUDA cores = 1.00 us; kernel latency = 191.74 + 5 us launch.
// Eager, the host issues it first: 3.4 us of dispatch + 5 us of launch, then the GPU runs
// it: model latency = 8.4 + 191.74 us.
// CHECK-LABEL: builtin.module attributes {graph.model = "relu"
// CHECK-SAME: perf.latency_s = 0.0002001396114285{{[0-9]*}} : f64
// CHECK-SAME: perf.host_issue_s = 8.4{{0*[0-9]?}}e-06 : f64
// CHECK: perf.gpu_kernel "relu" {{.*}}overhead_s = 5.000000e-06 : f64
// CHECK-SAME: compute_s = 1.00315264{{[0-9]*}}e-06 : f64, memory_s = 0.0001917396114285{{[0-9]*}} : f64, latency_s = 0.0001967396114285{{[0-9]*}} : f64, bottleneck = "memory"
// UNMAPPED: cost.mlir:[[# @LINE + 5]]:5: error: cost needs mapped kernels: run map-gpu, map-tpu, map-kpu or map-cpu before cost
// FUSED-LABEL: graph.model = "relu"
// FUSED-SAME: perf.runtime = "compiled"
builtin.module attributes {graph.model = "relu", graph.batch = 1 : i64} {
  func.func @f(%x: tensor<64x1048576xf32>) -> tensor<64x1048576xf32> {
    %0 = graph.relu %x : tensor<64x1048576xf32> loc("relu")
    func.return %0 : tensor<64x1048576xf32>
  }
}

// -----

// A compute-bound op: a 4096^3 bf16 matmul is 2 x 4096^3 = 137.44 GFLOP on 989.4
// TFLOP/s tensor cores at efficiency 0.8149 (8 waves of 1024 blocks on 132 SMs: 0.9697,
// pipeline 64/66, measured cuBLAS-class fraction 0.867) = 170.46 us; memory 3 x 32 MiB
// / 2.8e12 = 35.95 us; kernel latency = 170.46 + 5 us; eager model latency 8.4 + 170.46 us.
// CHECK-LABEL: graph.model = "matmul"
// CHECK-SAME: perf.latency_s = 0.000178855{{[0-9]*}} : f64
// CHECK: perf.gpu_kernel "matmul"
// CHECK-SAME: compute_s = 0.000170455{{[0-9]*}} : f64, memory_s = 3.59511771428{{[0-9]*}}e-05 : f64
// CHECK-SAME: bottleneck = "compute"
builtin.module attributes {graph.model = "matmul", graph.batch = 1 : i64} {
  func.func @f(%a: tensor<4096x4096xbf16>, %b: tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16> {
    %0 = graph.matmul %a, %b : tensor<4096x4096xbf16> loc("mm")
    func.return %0 : tensor<4096x4096xbf16>
  }
}

// -----

// A fused pair: linear then relu on 8192 x 4096 fp32 activations. Unfused: x 128 MiB +
// weight 64 MiB + linear out 128 MiB, then relu in and out 2 x 128 MiB = 576 MiB =
// 603979776 B, two launches. Fused, the relu is the linear's epilogue and the 128 MiB
// intermediate never leaves the chip: 320 MiB = 335544320 B, one launch.
// CHECK-LABEL: graph.model = "pair"
// CHECK-SAME: perf.runtime = "eager"
// CHECK-SAME: perf.bytes_moved = 603979776 : i64
// CHECK-COUNT-2: perf.gpu_kernel
// FUSED-LABEL: graph.model = "pair"
// FUSED-SAME: perf.runtime = "compiled"
// FUSED-SAME: perf.bytes_moved = 335544320 : i64
// FUSED-COUNT-1: perf.gpu_kernel "matmul_bias_act"
builtin.module attributes {graph.model = "pair", graph.batch = 1 : i64} {
  func.func @f(%x: tensor<8192x4096xf32>) -> tensor<8192x4096xf32> {
    %w = graph.weight "fc.weight" : tensor<4096x4096xf32>
    %0 = graph.linear %x, %w : tensor<8192x4096xf32> loc("fc")
    %1 = graph.relu %0 : tensor<8192x4096xf32> loc("relu")
    func.return %1 : tensor<8192x4096xf32>
  }
}

// -----

// Peak activations with an in-place residual add (`out += identity`): x (4 MiB) dies after
// relu; relu's a and tanh's b (4 MiB each) are live together; the add writes into a, so
// the peak is a + b = 8388608 B. Marked functional, the add would need a third buffer:
// 12 MiB (the NOTINPLACE run below strips the attribute with sed).
// CHECK-LABEL: graph.model = "residual"
// CHECK-SAME: perf.peak_activation_bytes = 8388608 : i64
// NOTINPLACE-LABEL: graph.model = "residual"
// NOTINPLACE-SAME: perf.peak_activation_bytes = 12582912 : i64
builtin.module attributes {graph.model = "residual", graph.batch = 1 : i64} {
  func.func @f(%x: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
    %a = graph.relu %x : tensor<1024x1024xf32> loc("relu")
    %b = graph.tanh %a : tensor<1024x1024xf32> loc("tanh")
    %c = graph.add %a, %b {inplace} : tensor<1024x1024xf32> loc("add_")
    func.return %c : tensor<1024x1024xf32>
  }
}

// -----

// Eager issue on a GPU: three tiny kernels (256 fp32 elements; 2 KiB each way, < 1 ns of
// HBM time) leave the GPU waiting on the host, which spends 3.4 us of dispatch + 5 us of
// launch on each: latency = 3 x 8.4 us + the last kernel's own time, against a serial sum
// of 3 x 5 us launches. Fused into one kernel, one launch and no dispatch.
// CHECK-LABEL: graph.model = "chain"
// CHECK-SAME: perf.latency_s = 2.52{{0*}}{{[1-9][0-9]*}}e-05 : f64
// CHECK-SAME: perf.serial_latency_s = 1.50{{0*}}{{[1-9][0-9]*}}e-05 : f64
// CHECK-SAME: perf.host_issue_s = 2.52{{0*[0-9]?}}e-05 : f64
// FUSED-LABEL: graph.model = "chain"
// FUSED-SAME: perf.latency_s = 5.00{{0*}}{{[1-9][0-9]*}}e-06 : f64
// FUSED-NOT: perf.host_issue_s
builtin.module attributes {graph.model = "chain", graph.batch = 1 : i64} {
  func.func @f(%x: tensor<1x256xf32>) -> tensor<1x256xf32> {
    %a = graph.relu %x : tensor<1x256xf32> loc("relu")
    %b = graph.tanh %a : tensor<1x256xf32> loc("tanh")
    %c = graph.sigmoid %b : tensor<1x256xf32> loc("sigmoid")
    func.return %c : tensor<1x256xf32>
  }
}
