// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,annotate-deps,map-gpu,cost,cost-report{top=3}' | filecheck %s --check-prefix=TEXT
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,map-gpu,cost,cost-report{format=json}' | filecheck %s --check-prefix=JSON
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,map-gpu,cost,cost-report{format=csv}' | filecheck %s --check-prefix=CSV
// RUN: perf-opt %S/Inputs/blocks.mlir -p 'fuse,map-gpu,cost,cost-report{output=%t.json format=json}' --emit=ir | filecheck %s --check-prefix=FILE
// RUN: filecheck %s --check-prefix=JSON < %t.json
// RUN: perf-opt %S/Inputs/huge.mlir -p 'map-gpu,cost,cost-report' | filecheck %s --check-prefix=HUGE
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'map-gpu,cost-report' 2>&1 | filecheck %s --check-prefix=NOCOST
// RUN: not perf-opt %S/Inputs/blocks.mlir -p 'map-gpu,cost,cost-report{format=xml}' 2>&1 | filecheck %s --check-prefix=FORMAT

// The report replaces the IR on stdout.
// TEXT: perf-opt cost report: blocks on h100-sxm5
// TEXT-NEXT: batch 1, precision fp32, compiled runtime, 5 kernels
// TEXT: latency
// TEXT: throughput {{.*}} samples/s
// TEXT: energy {{.*}} per batch
// TEXT-NEXT: compute {{.*}}, data movement {{.*}}, static
// TEXT: peak memory {{.*}} = weights {{.*}} + activations {{.*}} + workspace
// TEXT-NEXT: fits in 80.00 GiB of device memory
// TEXT: time by bottleneck   compute {{[0-9]+}}%, memory {{[0-9]+}}%, overhead {{[0-9]+}}%
// TEXT: utilization {{.*}} of compute units hold work
// TEXT: efficiency {{.*}} of the executing unit's peak is reached
// TEXT: top 3 kernels by latency:
// TEXT-COUNT-3: {{launch/dispatch overhead|memory-bound|compute-bound}}
// TEXT-NOT: func.func

// JSON: "schema_version": 1,
// JSON: "model": "blocks",
// JSON: "device": "h100-sxm5",
// JSON: "batch": 1,
// JSON: "precision": "fp32",
// JSON: "latency_s":
// JSON: "throughput_per_s":
// JSON: "energy_j":
// JSON: "energy_breakdown_j": {
// JSON-NEXT: "compute":
// JSON-NEXT: "memory":
// JSON-NEXT: "static":
// JSON: "peak_memory_bytes":
// JSON: "memory_breakdown_bytes": {
// JSON-NEXT: "weights":
// JSON-NEXT: "activations":
// JSON-NEXT: "workspace":
// Residual 301056 + 303104, depthwise-separable 22528 + 69632, attention 1216.
// JSON: "flops": 697536,
// JSON: "bytes_moved":
// JSON: "utilization":
// JSON: "efficiency":
// JSON: "subgraphs": [
// JSON: "name": "conv_bn_act_0",
// JSON: "ops": 3,
// JSON: "flops": 301056,
// JSON: "bottleneck":
// JSON: "stage":

// CSV: name,location,pattern,ops,stage,flops,bytes,latency_s,compute_s,memory_s,overhead_s,energy_j,bottleneck,utilization,efficiency,units_used,units_total,exec_unit,exec_precision,memory_level,reason
// CSV-NEXT: conv_bn_act_0,conv1,conv_bn_act,3,0,301056,
// CSV-COUNT-4: {{^[a-z_0-9]+,}}

// With --emit=ir and output=FILE the IR goes to stdout and the report to the file.
// FILE: perf.gpu_kernel "conv_bn_act"

// HUGE: peak memory    149.01 GiB = weights 149.01 GiB
// HUGE-NEXT: DOES NOT FIT in 80.00 GiB of device memory
// HUGE: suggestions:
// HUGE: the model needs 149.01 GiB but h100-sxm5 has 80.00 GiB

// NOCOST: error: cost-report needs the cost pass: add `cost` before `cost-report`
// FORMAT: perf-opt: error: pass 'cost-report': unknown format 'xml'; valid formats: text, json, csv
