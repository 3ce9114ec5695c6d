// One numbered file per pass, in MLIR's layout.
// RUN: rm -rf %t && perf-opt %S/Inputs/small.mlir -p cse,dce --mlir-print-ir-tree-dir=%t -o /dev/null
// RUN: ls %t/builtin_module_no-symbol-name | filecheck %s
// RUN: filecheck %s --check-prefix=DCE < %t/builtin_module_no-symbol-name/1_dce.mlir

// CHECK: 0_cse.mlir
// CHECK-NEXT: 1_dce.mlir

// DCE: IR Dump After DeadCodeElimination (dce)
// DCE-NOT: graph.sigmoid
