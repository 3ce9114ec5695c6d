// RUN: perf-opt %S/Inputs/blocks.mlir -p fuse | filecheck %s
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse{max-ops=2}' | filecheck %s --check-prefix=MAX2
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse{on-chip-bytes=0}' | filecheck %s --check-prefix=SPILL
// RUN: perf-opt %S/Inputs/blocks.mlir -p fuse | perf-opt | filecheck %s

// Residual block: conv1+bn1+relu1 is one kernel; conv2's epilogue takes bn2, the residual
// add and relu2. FLOPs: conv 2*(8*16*16)*(8*3*3) = 294912, bn 2/elem = 4096, relu and
// add 1/elem = 2048 each. Traffic (fp32): x 8192 B in, weights 8*8*9*4 + 4*8*4 = 2432 B,
// 8192 B out; conv and bn outputs (8192 B each) stay on chip.
// CHECK-LABEL: func.func @residual
// CHECK: %[[S1:.*]] = perf.subgraph "conv_bn_act" ins(%x, %w1, %s) {name = "conv_bn_act_0", ops = 3 : i64, on_chip_budget = 262144 : i64, flops = 301056 : i64, bytes_in = 8192 : i64, bytes_weights = 2432 : i64, bytes_out = 8192 : i64, bytes_on_chip = 16384 : i64, bytes_spilled = 0 : i64} -> tensor<1x8x16x16xf32> {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT:   graph.conv2d
// CHECK-NEXT:   graph.batch_norm
// CHECK-NEXT:   graph.relu
// CHECK-NEXT:   perf.yield
// The second reads relu1's output and x for the residual: 16384 B in.
// CHECK: perf.subgraph "conv_bn_residual_act" ins(%[[S1]], %w2, %s, %x) {name = "conv_bn_residual_act_1", ops = 4 : i64, on_chip_budget = 262144 : i64, flops = 303104 : i64, bytes_in = 16384 : i64, bytes_weights = 2432 : i64, bytes_out = 8192 : i64, bytes_on_chip = 24576 : i64, bytes_spilled = 0 : i64}
// CHECK:        graph.add
// CHECK-NEXT:   graph.relu
// CHECK-NEXT:   perf.yield
// CHECK-NOT: perf.subgraph
// CHECK: func.return

// Depthwise-separable: two conv epilogue kernels, the depthwise conv keeps its relu6.
// CHECK-LABEL: func.func @depthwise_separable
// CHECK: perf.subgraph "conv_bn_act" {{.*}}ops = 3 : i64
// CHECK: graph.relu6
// CHECK: perf.subgraph "conv_bn_act" {{.*}}ops = 2 : i64
// CHECK-NOT: graph.relu

// Attention: Q K^T, scale, softmax and . V in one kernel; the transpose of K is a view
// outside. FLOPs: 2 matmuls of 2*2*4*4*8 = 512 each, scale 32, softmax 5*32 = 160;
// q, K^T and v are read (256 B each), the scores (128 B) and scaled scores stay on chip.
// CHECK-LABEL: func.func @attention
// CHECK: %[[KT:.*]] = graph.transpose
// CHECK: perf.subgraph "attention_core" ins(%q, %[[KT]], %v) {{.*}}flops = 1216 : i64, bytes_in = 768 : i64, bytes_weights = 0 : i64, bytes_out = 256 : i64, bytes_on_chip = 384 : i64, bytes_spilled = 0 : i64

// With at most two ops per kernel, each conv keeps only its batch norm.
// MAX2-LABEL: func.func @residual
// MAX2: perf.subgraph "conv_bn_act" {{.*}}ops = 2 : i64
// MAX2: graph.relu
// MAX2: perf.subgraph "conv_bn_act" {{.*}}ops = 2 : i64
// MAX2: perf.subgraph "residual_act" {{.*}}ops = 2 : i64

// Without an on-chip budget the softmax output must reach memory before the second matmul
// reads it whole: 2*4*4*4 = 128 B spilled. Tile-local intermediates (the scale) stay.
// SPILL-LABEL: func.func @attention
// SPILL: perf.subgraph "attention_core" {{.*}}bytes_on_chip = 256 : i64, bytes_spilled = 128 : i64
