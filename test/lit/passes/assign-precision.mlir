// RUN: perf-opt %S/Inputs/blocks.mlir -p 'assign-precision{default=bf16}' | filecheck %s --check-prefix=UNIFORM
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'assign-precision{default=bf16 policy=mixed}' | filecheck %s --check-prefix=MIXED
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'assign-precision{default=int8 rules=%S/Inputs/overrides.rules}' | filecheck %s --check-prefix=RULES
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,assign-precision{default=bf16}' | filecheck %s --check-prefix=BYTES
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,assign-precision{default=int4}' | filecheck %s --check-prefix=INT4
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'assign-precision{default=fp12}' 2>&1 | filecheck %s --check-prefix=BADPREC
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'assign-precision{policy=fancy}' 2>&1 | filecheck %s --check-prefix=BADPOLICY
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'assign-precision{rules=%S/Inputs/bad.rules}' 2>&1 | filecheck %s --check-prefix=BADRULES

// UNIFORM: graph.conv2d {{.*}}precision = "bf16"
// UNIFORM: graph.batch_norm {{.*}}precision = "bf16"
// UNIFORM: graph.softmax {{.*}}precision = "bf16"

// Mixed: convolutions and matmuls low, normalizations and reductions in fp32.
// MIXED: graph.conv2d {{.*}}precision = "bf16"
// MIXED: graph.batch_norm {{.*}}precision = "fp32"
// MIXED: graph.relu {{.*}}precision = "bf16"
// MIXED: graph.batch_matmul {{.*}}precision = "bf16"
// MIXED: graph.softmax {{.*}}precision = "fp32"

// RULES: %c1 = graph.conv2d {{.*}}precision = "fp16"
// RULES: graph.batch_norm {{.*}}precision = "int8"
// RULES: graph.relu {{.*}}precision = "fp32"
// RULES: graph.conv2d {{.*}}precision = "int8"

// Traffic follows the precision: values are read at the precision their producer stored.
// The model input x stays fp32 as imported (8192 B); weights and outputs halve; the
// residual kernel reads relu1's bf16 output (4096 B) and x in fp32 (8192 B).
// BYTES: perf.subgraph "conv_bn_act" {{.*}}bytes_in = 8192 : i64, bytes_weights = 1216 : i64, bytes_out = 4096 : i64
// BYTES: perf.subgraph "conv_bn_residual_act" {{.*}}bytes_in = 12288 : i64, bytes_weights = 1216 : i64, bytes_out = 4096 : i64
// int4 packs two values a byte: 2048 elements -> 1024 B written.
// INT4: perf.subgraph "conv_bn_act" {{.*}}bytes_out = 1024 : i64

// BADPREC: perf-opt: error: pass 'assign-precision': unknown precision 'fp12'; valid precisions: fp64, fp32, tf32, fp16, bf16, fp8, fp4, int32, int16, int8, int4
// BADPOLICY: perf-opt: error: pass 'assign-precision': unknown policy 'fancy'; valid policies: uniform, mixed
// BADRULES: {{^}}{{.*}}bad.rules:2:26: error: unexpected 'fp16'

// Assigning again replaces the previous assignment, kernels' own precision included.
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,assign-precision{default=fp32},assign-precision{default=bf16}' | filecheck %s --check-prefix=AGAIN
// AGAIN: perf.subgraph "conv_bn_act" {{.*}}bytes_out = 4096 : i64{{.*}}precision = "bf16"
