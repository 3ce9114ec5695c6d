// Diagnostics of the graph dialect's verifiers.
// RUN: perf-opt %s --split-input-file --verify-diagnostics

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{weight expects 2 input channels, input has 3}}
  %0 = graph.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x8x8xf32>
  func.return
}

// -----

func.func @conv_shape(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{result shape [1, 4, 8, 8] does not match the expected [1, 4, 4, 4]}}
  %0 = graph.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x8x8xf32>
  func.return
}

// -----

func.func @conv_groups(%x: tensor<1x6x8x8xf32>, %w: tensor<6x1x3x3xf32>) {
  // expected-error @+1 {{groups=4 must divide input channels 6 and output channels 6}}
  %0 = graph.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x6x8x8xf32>
  func.return
}

// -----

func.func @conv_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{input must have rank 4, got 3}}
  %0 = graph.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x8x8xf32>
  func.return
}

// -----

func.func @linear_in_features(%x: tensor<2x16xf32>, %w: tensor<8x32xf32>) {
  // expected-error @+1 {{input's last dimension must be 32, got [2, 16]}}
  %0 = graph.linear %x, %w : tensor<2x8xf32>
  func.return
}

// -----

func.func @matmul_contract(%a: tensor<4x8xf32>, %b: tensor<7x2xf32>) {
  // expected-error @+1 {{contracting dimensions differ: 8 vs 7}}
  %0 = graph.matmul %a, %b : tensor<4x2xf32>
  func.return
}

// -----

func.func @broadcast(%a: tensor<4x8xf32>, %b: tensor<3x8xf32>) {
  // expected-error @+1 {{shapes (4, 8) and (3, 8) do not broadcast}}
  %0 = graph.add %a, %b : tensor<4x8xf32>
  func.return
}

// -----

func.func @inplace_broadcast(%a: tensor<8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{`inplace` needs a result of the lhs shape (it is written into lhs)}}
  %0 = graph.add %a, %b {inplace} : tensor<4x8xf32>
  func.return
}

// -----

func.func @binary_needs_rhs(%a: tensor<4xf32>) {
  // expected-error @+1 {{needs exactly one of a tensor rhs operand and a `scalar` attribute}}
  %0 = graph.mul %a : tensor<4xf32>
  func.return
}

// -----

func.func @unary_dtype(%a: tensor<4xf32>) {
  // expected-error @+1 {{result element type f16 differs from input f32}}
  %0 = graph.relu %a : tensor<4xf16>
  func.return
}

// -----

func.func @pool(%a: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{result shape [1, 2, 3, 3] does not match the expected [1, 2, 4, 4]}}
  %0 = graph.max_pool2d %a {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x3x3xf32>
  func.return
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{reshape from [2, 3] to [7] changes the element count}}
  %0 = graph.reshape %a : tensor<7xf32>
  func.return
}

// -----

func.func @permute(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{dims [0, 0] is not a permutation of rank 2}}
  %0 = graph.permute %a {dims = array<i64: 0, 0>} : tensor<2x2xf32>
  func.return
}

// -----

func.func @slice(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{slice 0:5:1 is out of range for size 3}}
  %0 = graph.slice %a {dim = 1 : i64, start = 0 : i64, end = 5 : i64, step = 1 : i64} : tensor<2x5xf32>
  func.return
}

// -----

func.func @concat(%a: tensor<2x3xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{inputs differ outside dim 0}}
  %0 = graph.concat %a, %b {dim = 0 : i64} : tensor<6x3xf32>
  func.return
}

// -----

func.func @split(%a: tensor<6xf32>) {
  // expected-error @+1 {{sizes [2, 2] do not add up to 6}}
  %0:2 = graph.split %a {dim = 0 : i64, sizes = array<i64: 2, 2>} : tensor<2xf32>, tensor<2xf32>
  func.return
}

// -----

func.func @layer_norm(%a: tensor<2x8xf32>) {
  // expected-error @+1 {{normalized_shape [4] is not a suffix of input shape [2, 8]}}
  %0 = graph.layer_norm %a {normalized_shape = array<i64: 4>, eps = 1.0e-05 : f64} : tensor<2x8xf32>
  func.return
}

// -----

func.func @batch_norm(%a: tensor<2x8x4x4xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{statistics and affine parameters must have shape [8]}}
  %0 = graph.batch_norm %a, %m, %m {eps = 1.0e-05 : f64} : tensor<2x8x4x4xf32>
  func.return
}

// -----

func.func @attention(%q: tensor<1x4x8xf32>, %k: tensor<1x4x16xf32>) {
  // expected-error @+1 {{query and key embedding differ: 8 vs 16}}
  %0 = graph.scaled_dot_product_attention %q, %k, %k : tensor<1x4x16xf32>
  func.return
}

// -----

func.func @softmax_dim(%a: tensor<2x8xf32>) {
  // expected-error @+1 {{dimension 2 out of range for rank 2}}
  %0 = graph.softmax %a {dim = 2 : i64} : tensor<2x8xf32>
  func.return
}

// -----

func.func @missing_attr(%a: tensor<2x8xf32>) {
  // expected-error @+1 {{attribute 'dim' expected}}
  %0 = graph.softmax %a : tensor<2x8xf32>
  func.return
}

// -----

func.func @not_a_tensor(%a: i32) {
  // expected-error @+1 {{operand 'input' at position 0 does not verify}}
  %0 = graph.relu %a : i32
  func.return
}

// -----

func.func @parse_error(%a: tensor<2x8xf32>) {
  // expected-error @+1 {{Expected ':'}}
  %0 = graph.relu %a tensor<2x8xf32>
  func.return
}
