func.func @f(%x: tensor<4xf32>) {
  // expected-error @+1 {{something else}}
  %0 = graph.relu %x : tensor<4xf16>
  func.return
}
