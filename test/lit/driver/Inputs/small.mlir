builtin.module attributes {graph.model = "small", graph.batch = 1 : i64} {
  func.func @forward(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %a = graph.relu %x : tensor<1x8xf32> loc("relu")
    %b = graph.relu %x : tensor<1x8xf32> loc("relu_1")
    %unused = graph.sigmoid %x : tensor<1x8xf32> loc("sigmoid")
    %c = graph.add %a, %b : tensor<1x8xf32> loc("add")
    func.return %c : tensor<1x8xf32>
  }
}
