// RUN: perf-opt --version | filecheck %s --check-prefix=VERSION
// RUN: perf-opt < %S/Inputs/small.mlir -o %t && filecheck %s --check-prefix=STDIN < %t
// RUN: perf-opt %S/Inputs/small.mlir --mlir-print-op-generic | filecheck %s --check-prefix=GENERIC
// RUN: perf-opt %S/Inputs/small.mlir --mlir-print-debuginfo | filecheck %s --check-prefix=LOC
// RUN: perf-opt %S/Inputs/small.mlir -split-input-file -mlir-print-debuginfo | filecheck %s --check-prefix=LOC
// RUN: perf-opt --list-passes | filecheck %s --check-prefix=LIST

// VERSION: perf-opt {{[0-9]+\.[0-9]+\.[0-9]+}}
// STDIN: graph.model = "small"
// GENERIC: "graph.relu"(%{{.*}}) : (tensor<1x8xf32>) -> tensor<1x8xf32>
// LOC: graph.relu %{{.*}} : tensor<1x8xf32> loc("relu")
// LIST: Available passes:
// LIST: cse
// LIST: dce
