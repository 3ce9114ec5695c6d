// Every graph op prints and parses back to the same text, in custom and generic form.
// RUN: perf-opt %s | perf-opt | filecheck %s
// RUN: perf-opt %s --mlir-print-op-generic | perf-opt | filecheck %s
// RUN: perf-opt %s --mlir-print-debuginfo | perf-opt --mlir-print-debuginfo | filecheck %s --check-prefix=LOC

// CHECK-LABEL: builtin.module attributes {graph.model = "roundtrip", graph.batch = 2 : i64}
// LOC: graph.conv2d {{.*}} loc("conv1")
builtin.module attributes {graph.model = "roundtrip", graph.batch = 2 : i64} {
  func.func @forward(%x: tensor<2x4x8x8xf32>, %seq: tensor<2x16x32xf32>, %ids: tensor<2x16xi64>) -> tensor<2x8x4x4xf32> {
    // CHECK: %[[W:.*]] = graph.weight "conv1.weight" : tensor<8x4x3x3xf32>
    %w = graph.weight "conv1.weight" : tensor<8x4x3x3xf32>
    %b = graph.weight "conv1.bias" : tensor<8xf32>
    %m = graph.weight "bn.running_mean" : tensor<8xf32>
    %v = graph.weight "bn.running_var" : tensor<8xf32>
    // CHECK: graph.conv2d %{{.*}}, %[[W]], %{{.*}} {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<2x8x8x8xf32>
    %c = graph.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<2x8x8x8xf32> loc("conv1")
    // CHECK: graph.batch_norm %{{.*}} {eps = 1.000000e-05 : f64}
    %bn = graph.batch_norm %c, %m, %v, %b, %b {eps = 1.000000e-05 : f64} : tensor<2x8x8x8xf32>
    // CHECK: graph.relu
    %r = graph.relu %bn : tensor<2x8x8x8xf32>
    // CHECK: graph.relu6
    %r6 = graph.relu6 %r : tensor<2x8x8x8xf32>
    // CHECK: graph.clamp %{{.*}} {min = -1.000000e+00 : f64, max = 1.000000e+00 : f64}
    %cl = graph.clamp %r6 {min = -1.000000e+00 : f64, max = 1.000000e+00 : f64} : tensor<2x8x8x8xf32>
    // CHECK: graph.gelu %{{.*}} {approximate = "tanh"}
    %g = graph.gelu %cl {approximate = "tanh"} : tensor<2x8x8x8xf32>
    // CHECK: graph.silu
    %s = graph.silu %g : tensor<2x8x8x8xf32>
    // CHECK: graph.hardswish
    %hs = graph.hardswish %s : tensor<2x8x8x8xf32>
    // CHECK: graph.hardsigmoid
    %hg = graph.hardsigmoid %hs : tensor<2x8x8x8xf32>
    // CHECK: graph.sigmoid
    %sg = graph.sigmoid %hg : tensor<2x8x8x8xf32>
    // CHECK: graph.tanh %{{.*}} {inplace} : tensor<2x8x8x8xf32>
    %th = graph.tanh %sg {inplace} : tensor<2x8x8x8xf32>
    // CHECK: graph.add %{{.*}}, %{{.*}} : tensor<2x8x8x8xf32>
    %bias3 = graph.reshape %b : tensor<8x1x1xf32>
    %ad = graph.add %th, %bias3 : tensor<2x8x8x8xf32>
    // CHECK: graph.sub %{{.*}}, %{{.*}} {inplace} : tensor<2x8x8x8xf32>
    %sb = graph.sub %ad, %th {inplace} : tensor<2x8x8x8xf32>
    // CHECK: graph.mul %{{.*}} {scalar = 5.000000e-01 : f64}
    %ml = graph.mul %sb {scalar = 5.000000e-01 : f64} : tensor<2x8x8x8xf32>
    // CHECK: graph.div %{{.*}} {scalar = 2 : i64}
    %dv = graph.div %ml {scalar = 2 : i64} : tensor<2x8x8x8xf32>
    // CHECK: graph.max_pool2d %{{.*}} {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>}
    %mp = graph.max_pool2d %dv {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<2x8x4x4xf32>
    // CHECK: graph.avg_pool2d %{{.*}} {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, ceil_mode, count_include_pad}
    %ap = graph.avg_pool2d %dv {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, ceil_mode, count_include_pad} : tensor<2x8x4x4xf32>
    // CHECK: graph.adaptive_avg_pool2d %{{.*}} {output_size = array<i64: 1, 1>}
    %gp = graph.adaptive_avg_pool2d %ap {output_size = array<i64: 1, 1>} : tensor<2x8x1x1xf32>
    // CHECK: graph.mean %{{.*}} {dims = array<i64: 2, 3>, keepdim}
    %mn = graph.mean %mp {dims = array<i64: 2, 3>, keepdim} : tensor<2x8x1x1xf32>
    // CHECK: graph.sum %{{.*}} {dims = array<i64: 1>}
    %sm = graph.sum %mp {dims = array<i64: 1>} : tensor<2x4x4xf32>
    // CHECK: graph.concat %{{.*}}, %{{.*}} {dim = 1 : i64}
    %cc = graph.concat %mp, %ap {dim = 1 : i64} : tensor<2x16x4x4xf32>
    // CHECK: graph.split %{{.*}} {dim = 1 : i64, sizes = array<i64: 4, 12>} : tensor<2x4x4x4xf32>, tensor<2x12x4x4xf32>
    %sp:2 = graph.split %cc {dim = 1 : i64, sizes = array<i64: 4, 12>} : tensor<2x4x4x4xf32>, tensor<2x12x4x4xf32>
    // CHECK: graph.permute %{{.*}} {dims = array<i64: 0, 2, 3, 1>}
    %pm = graph.permute %cc {dims = array<i64: 0, 2, 3, 1>} : tensor<2x4x4x16xf32>
    // CHECK: graph.transpose %{{.*}} {dim0 = 1 : i64, dim1 = 2 : i64}
    %tp = graph.transpose %pm {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x4x4x16xf32>
    // CHECK: graph.slice %{{.*}} {dim = 3 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64}
    %sl = graph.slice %tp {dim = 3 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : tensor<2x4x4x4xf32>
    // CHECK: graph.select %{{.*}} {dim = 0 : i64, index = 1 : i64}
    %se = graph.select %sl {dim = 0 : i64, index = 1 : i64} : tensor<4x4x4xf32>
    // CHECK: graph.expand
    %ex = graph.expand %gp : tensor<2x8x4x4xf32>
    // CHECK: graph.copy
    %cp = graph.copy %ex : tensor<2x8x4x4xf32>
    // CHECK: graph.pad %{{.*}} {pads = array<i64: 1, 1, 2, 2>, value = 0.000000e+00 : f64}
    %pd = graph.pad %cp {pads = array<i64: 1, 1, 2, 2>, value = 0.000000e+00 : f64} : tensor<2x8x8x6xf32>
    // CHECK: graph.cast %{{.*}} : tensor<2x8x8x6xbf16>
    %ct = graph.cast %pd : tensor<2x8x8x6xbf16>
    %lw = graph.weight "fc.weight" : tensor<64x32xf32>
    // CHECK: graph.linear %{{.*}}, %{{.*}} : tensor<2x16x64xf32>
    %ln = graph.linear %seq, %lw : tensor<2x16x64xf32>
    %lnw = graph.weight "ln.weight" : tensor<32xf32>
    // CHECK: graph.layer_norm %{{.*}}, %{{.*}} {normalized_shape = array<i64: 32>, eps = 1.000000e-05 : f64}
    %lnorm = graph.layer_norm %seq, %lnw {normalized_shape = array<i64: 32>, eps = 1.000000e-05 : f64} : tensor<2x16x32xf32>
    // CHECK: graph.group_norm %{{.*}} {groups = 2 : i64, eps = 1.000000e-05 : f64}
    %gn = graph.group_norm %c {groups = 2 : i64, eps = 1.000000e-05 : f64} : tensor<2x8x8x8xf32>
    // CHECK: graph.matmul
    %t32 = graph.transpose %seq {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x32x16xf32>
    %mm = graph.matmul %seq, %t32 : tensor<2x16x16xf32>
    // CHECK: graph.batch_matmul
    %bm = graph.batch_matmul %seq, %t32 : tensor<2x16x16xf32>
    // CHECK: graph.softmax %{{.*}} {dim = -1 : i64}
    %sx = graph.softmax %bm {dim = -1 : i64} : tensor<2x16x16xf32>
    %q = graph.reshape %seq : tensor<2x1x16x32xf32>
    // CHECK: graph.scaled_dot_product_attention %{{.*}}, %{{.*}}, %{{.*}} {is_causal, scale = 1.250000e-01 : f64}
    %at = graph.scaled_dot_product_attention %q, %q, %q {is_causal, scale = 1.250000e-01 : f64} : tensor<2x1x16x32xf32>
    %emb = graph.weight "tok.weight" : tensor<100x32xf32>
    // CHECK: graph.embedding %{{.*}}, %{{.*}} : tensor<2x16x32xf32>
    %eo = graph.embedding %emb, %ids : tensor<2x16x32xf32>
    // CHECK: graph.generic "aten.fmod.Scalar" %{{.*}} {arg1 = 3 : i64} : tensor<2x16xi64>
    %gen = graph.generic "aten.fmod.Scalar" %ids {arg1 = 3 : i64} : tensor<2x16xi64>
    // CHECK: func.return
    func.return %mp : tensor<2x8x4x4xf32>
  }
}
