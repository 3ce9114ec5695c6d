// RUN: perf-opt %S/Inputs/small.mlir -p cse --mlir-timing -o /dev/null 2>&1 | filecheck %s
// CHECK: ... Execution time report ...
// CHECK: Total Execution Time: {{[0-9.]+}} seconds
// CHECK: ----Wall Time----  ----Name----
// CHECK: Parser
// CHECK: CommonSubexpressionElimination (cse)
// CHECK: (100.0%)  Total
