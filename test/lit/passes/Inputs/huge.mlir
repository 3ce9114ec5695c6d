// A layer whose weights (200000 x 200000 fp32 = 160 GB) exceed any single device.
builtin.module attributes {graph.model = "huge", graph.batch = 1 : i64} {
  func.func @f(%x: tensor<1x200000xf32>) -> tensor<1x200000xf32> {
    %w = graph.weight "fc.weight" : tensor<200000x200000xf32>
    %0 = graph.linear %x, %w : tensor<1x200000xf32> loc("fc")
    func.return %0 : tensor<1x200000xf32>
  }
}
