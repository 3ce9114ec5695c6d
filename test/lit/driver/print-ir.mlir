// IR dumps go to stderr with MLIR's headers; the final IR to stdout.
// RUN: perf-opt %S/Inputs/small.mlir -p dce,cse --mlir-print-ir-after-all -o /dev/null 2>&1 | filecheck %s --check-prefix=ALL
// RUN: perf-opt %S/Inputs/small.mlir -p dce,cse --mlir-print-ir-before=cse -o /dev/null 2>&1 | filecheck %s --check-prefix=BEFORE
// RUN: perf-opt %S/Inputs/small.mlir -p 'builtin.module(dce,cse)' --mlir-print-ir-after=dce -o /dev/null 2>&1 | filecheck %s --check-prefix=AFTER
// RUN: perf-opt %S/Inputs/small.mlir -p dce,cse | filecheck %s --check-prefix=OUT

// ALL: // -----// IR Dump After DeadCodeElimination (dce) //----- //
// ALL-NOT: graph.sigmoid
// ALL-COUNT-2: graph.relu
// ALL: // -----// IR Dump After CommonSubexpressionElimination (cse) //----- //
// ALL-COUNT-1: graph.relu
// ALL-NOT: graph.relu

// BEFORE-NOT: IR Dump After
// BEFORE: // -----// IR Dump Before CommonSubexpressionElimination (cse) //----- //
// BEFORE-COUNT-2: graph.relu

// AFTER: // -----// IR Dump After DeadCodeElimination (dce) //----- //
// AFTER-NOT: IR Dump

// OUT-COUNT-1: graph.relu
// OUT-NOT: graph.sigmoid
// OUT: graph.add %[[R:.*]], %[[R]]
