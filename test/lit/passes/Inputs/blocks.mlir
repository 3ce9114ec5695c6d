// Three small blocks whose fusion, traffic and dependencies can be checked by hand.
builtin.module attributes {graph.model = "blocks", graph.batch = 1 : i64, graph.dtype = "fp32"} {
  // conv3x3 -> bn -> relu -> conv3x3 -> bn -> (+x) -> relu, 8 channels, 16x16.
  func.func @residual(%x: tensor<1x8x16x16xf32>) -> tensor<1x8x16x16xf32> {
    %w1 = graph.weight "conv1.weight" : tensor<8x8x3x3xf32>
    %w2 = graph.weight "conv2.weight" : tensor<8x8x3x3xf32>
    %s = graph.weight "bn.stat" : tensor<8xf32>
    %c1 = graph.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x8x16x16xf32> loc("conv1")
    %b1 = graph.batch_norm %c1, %s, %s, %s, %s {eps = 1.0e-05 : f64} : tensor<1x8x16x16xf32> loc("bn1")
    %r1 = graph.relu %b1 : tensor<1x8x16x16xf32> loc("relu1")
    %c2 = graph.conv2d %r1, %w2 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x8x16x16xf32> loc("conv2")
    %b2 = graph.batch_norm %c2, %s, %s, %s, %s {eps = 1.0e-05 : f64} : tensor<1x8x16x16xf32> loc("bn2")
    %a = graph.add %b2, %x : tensor<1x8x16x16xf32> loc("add")
    %r2 = graph.relu %a : tensor<1x8x16x16xf32> loc("relu2")
    func.return %r2 : tensor<1x8x16x16xf32>
  }
  // Depthwise 3x3 (groups = 16) -> bn -> relu6 -> pointwise 1x1 (16 -> 32) -> bn.
  func.func @depthwise_separable(%x: tensor<1x16x8x8xf32>) -> tensor<1x32x8x8xf32> {
    %dw = graph.weight "dw.weight" : tensor<16x1x3x3xf32>
    %pw = graph.weight "pw.weight" : tensor<32x16x1x1xf32>
    %s16 = graph.weight "bn16.stat" : tensor<16xf32>
    %s32 = graph.weight "bn32.stat" : tensor<32xf32>
    %d = graph.conv2d %x, %dw {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 16 : i64} : tensor<1x16x8x8xf32> loc("dwconv")
    %db = graph.batch_norm %d, %s16, %s16, %s16, %s16 {eps = 1.0e-05 : f64} : tensor<1x16x8x8xf32> loc("dwbn")
    %dr = graph.relu6 %db : tensor<1x16x8x8xf32> loc("dwrelu6")
    %p = graph.conv2d %dr, %pw {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x32x8x8xf32> loc("pwconv")
    %pb = graph.batch_norm %p, %s32, %s32, %s32, %s32 {eps = 1.0e-05 : f64} : tensor<1x32x8x8xf32> loc("pwbn")
    func.return %pb : tensor<1x32x8x8xf32>
  }
  // Attention core over 2 heads, 4 tokens, head dim 8: softmax(Q K^T * 0.35) V.
  func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
    %kt = graph.transpose %k {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<2x8x4xf32> loc("kt")
    %qk = graph.batch_matmul %q, %kt : tensor<2x4x4xf32> loc("qk")
    %sc = graph.mul %qk {scalar = 3.500000e-01 : f64} : tensor<2x4x4xf32> loc("scale")
    %p = graph.softmax %sc {dim = -1 : i64} : tensor<2x4x4xf32> loc("softmax")
    %o = graph.batch_matmul %p, %v : tensor<2x4x8xf32> loc("pv")
    func.return %o : tensor<2x4x8xf32>
  }
}
