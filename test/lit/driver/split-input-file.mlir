// Chunks are processed independently; output chunks are re-joined with the marker, and
// an error in one chunk is reported with its line in the whole file.
// RUN: not perf-opt %s --split-input-file 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=ERR < %t.err

// CHECK: func.func @first
// CHECK-NOT: @second
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.relu %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  // ERR: split-input-file.mlir:[[# @LINE + 1]]:3: error: 'graph.relu' op result element type f16 differs from input f32
  %0 = graph.relu %x : tensor<4xf16>
  func.return %x : tensor<4xf32>
}

// -----

// CHECK: // -----
// CHECK: func.func @third
func.func @third(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
