// Single kernels whose mapping and cost can be checked by hand.
builtin.module attributes {graph.model = "kernels", graph.batch = 1 : i64} {
  func.func @small_matmul(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %0 = graph.matmul %a, %b : tensor<64x64xbf16> loc("mm64")
    func.return %0 : tensor<64x64xbf16>
  }
  func.func @large_matmul(%a: tensor<4096x4096xbf16>, %b: tensor<4096x4096xbf16>) -> tensor<4096x4096xbf16> {
    %0 = graph.matmul %a, %b : tensor<4096x4096xbf16> loc("mm4096")
    func.return %0 : tensor<4096x4096xbf16>
  }
  func.func @streaming_relu(%x: tensor<64x1048576xf32>) -> tensor<64x1048576xf32> {
    %0 = graph.relu %x : tensor<64x1048576xf32> loc("relu")
    func.return %0 : tensor<64x1048576xf32>
  }
}
