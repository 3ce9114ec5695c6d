// --verify-diagnostics passes when annotations match and fails, naming each mismatch,
// when they do not.
// RUN: perf-opt %s --split-input-file --verify-diagnostics
// RUN: not perf-opt %S/Inputs/wrong-expectation.mlir --verify-diagnostics 2>&1 | filecheck %s

// CHECK-DAG: wrong-expectation.mlir:3:3: error: unexpected error: 'graph.relu' op result element type f16 differs from input f32
// CHECK-DAG: wrong-expectation.mlir:2:3: error: expected error "something else" was not produced

func.func @above(%x: tensor<4xf32>) {
  %0 = graph.relu %x : tensor<4xf16>
  // expected-error @-1 {{differs from input f32}}
  func.return
}

// -----

func.func @same_line(%x: tensor<4xf32>) {
  %0 = graph.relu %x : tensor<4xf16> // expected-error {{result element type f16}}
  func.return
}

// -----

func.func @below(%x: tensor<4xf32>) {
  // expected-error @below {{differs from input f32}}
  %0 = graph.relu %x : tensor<4xf16>
  func.return
}
