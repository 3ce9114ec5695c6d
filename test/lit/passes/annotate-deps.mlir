// RUN: perf-opt %s -p annotate-deps | filecheck %s
// RUN: perf-opt %S/Inputs/blocks.mlir -p fuse,annotate-deps | filecheck %s --check-prefix=FUSED

// A diamond: two branches from the input join in an add. Views are transparent: the
// reshape links relu and add directly. FLOPs: linear 2*4*16*16 = 2048, sigmoid 3*64 = 192,
// relu 64, add 64; the heaviest chain is linear -> relu -> add (2176).
// CHECK-LABEL: builtin.module attributes {deps.units = 4 : i64, deps.stages = 3 : i64, deps.widest_stage = 2 : i64, deps.critical_path_units = 3 : i64, deps.critical_path_flops = 2176 : i64}
// CHECK: graph.linear {{.*}}{stage = 0 : i64, preds = [], critical_flops, critical_count}
// CHECK: graph.sigmoid {{.*}}{stage = 0 : i64, preds = []}
// CHECK: graph.relu {{.*}}{stage = 1 : i64, preds = ["fc"], critical_flops, critical_count}
// CHECK: graph.reshape %r : tensor<4x16xf32>
// CHECK: graph.add {{.*}}{stage = 2 : i64, preds = ["relu", "sig"], critical_flops, critical_count}
builtin.module {
  func.func @diamond(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
    %w = graph.weight "fc.weight" : tensor<16x16xf32>
    %l = graph.linear %x, %w : tensor<4x16xf32> loc("fc")
    %s = graph.sigmoid %x : tensor<4x16xf32> loc("sig")
    %r = graph.relu %l : tensor<4x16xf32> loc("relu")
    %v = graph.reshape %r : tensor<4x16xf32> loc("view")
    %a = graph.add %v, %s : tensor<4x16xf32> loc("add")
    func.return %a : tensor<4x16xf32>
  }
}

// After fusion the residual block is two dependent kernels (the second also reads x).
// FUSED: deps.units = 5 : i64, deps.stages = 2 : i64, deps.widest_stage = 3 : i64, deps.critical_path_units = 2 : i64
// FUSED: perf.subgraph "conv_bn_act" {{.*}}stage = 0 : i64, preds = []
// FUSED: perf.subgraph "conv_bn_residual_act" {{.*}}stage = 1 : i64, preds = ["conv_bn_act_0"]
