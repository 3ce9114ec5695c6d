"""Memory a model needs on its device: weights, peak live activations over the schedule,
and workspace; and, on a CPU, which of its buffers land on fresh pages each run.

Activations are live from the kernel that writes them to the last kernel that reads
them (model inputs from the start); views and in-place results share their source's
buffer. Walking the units in program order with the live set gives the peak; each value
is added and retired once, so the walk is linear.
Weights count once each, at the precision of their first consumer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue

from dialects import graph
from passes import units as U
from passes import work as W
from targets import cpu_copies, glibc_heap
from targets.cpu_copies import copies_result_to_nchw, copies_source
from targets.workload import ConvGeometry

# (convolution, precision) -> whether eager PyTorch runs it on its native path on the device
NativeConv = Callable[[ConvGeometry, str], bool]


@dataclass(frozen=True)
class MemoryFootprint:
    weights: int
    peak_activations: int
    workspace: int
    peak_unit: str  # the unit running when activations peak

    @property
    def total(self) -> int:
        return self.weights + self.peak_activations + self.workspace


def _materialized(value: SSAValue) -> SSAValue:
    """Views share their source's buffer, and so does the result of an in-place unit
    (eager `relu_` writes into its input): account the source."""
    while isinstance(value.owner, W.VIEW_OPS) or (
            isinstance(value.owner, Operation) and U.is_unit(value.owner)
            and U.in_place(value.owner)):
        value = value.owner.operands[0]
    return value


@dataclass(frozen=True)
class Step:
    """One unit of the schedule: the buffers it allocates (value, bytes) and the values
    whose last reader it is (freed once it has run)."""

    unit: Operation
    allocs: tuple[tuple[SSAValue, int], ...]
    frees: tuple[SSAValue, ...]


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]
    weights: dict[SSAValue, int]       # persistent, at their first consumer's precision
    inputs: dict[SSAValue, int]        # the model's arguments, allocated by the caller
    outputs: tuple[SSAValue, ...]      # live to the end of the run


def schedule(module: ModuleOp) -> Schedule:
    """The units in program order with what each allocates and frees."""
    unit_ops = list(U.units(module))
    end = len(unit_ops)
    last_use: dict[SSAValue, int] = {}
    weights: dict[SSAValue, int] = {}
    for i, unit in enumerate(unit_ops):
        precision = assigned_precision(unit)
        for operand in unit.operands:
            source = _materialized(operand)
            if W.is_weight(source):
                weights.setdefault(source, W.value_bytes(source, precision))
            else:
                last_use[source] = i
    outputs = []
    for fn in U.functions(module):
        for value in fn.body.block.last_op.operands:  # func.return: outputs live to the end
            last_use[_materialized(value)] = end
            outputs.append(_materialized(value))
    inputs = {arg: W.value_bytes(arg, None) for fn in U.functions(module)
              for arg in fn.body.block.args if arg in last_use}

    frees: dict[int, list[SSAValue]] = defaultdict(list)
    for value in inputs:
        frees[last_use[value]].append(value)
    steps = []
    for i, unit in enumerate(unit_ops):
        precision = assigned_precision(unit)
        allocs = []
        for result in unit.results:
            if _materialized(result) is not result:  # in place: no buffer of its own
                continue
            allocs.append((result, W.value_bytes(result, precision)))
            frees[last_use.get(result, i)].append(result)
        steps.append(Step(unit, tuple(allocs), tuple(frees.pop(i, ()))))
    return Schedule(tuple(steps), weights, inputs, tuple(outputs))


def footprint(module: ModuleOp) -> MemoryFootprint:
    plan = schedule(module)
    size = dict(plan.inputs)
    live = sum(plan.inputs.values())
    peak, peak_unit, workspace = live, "", 0
    for step in plan.steps:
        for value, nbytes in step.allocs:
            size[value] = nbytes
            live += nbytes
        if live > peak:
            peak, peak_unit = live, U.unit_name(step.unit)
        spilled = step.unit.attributes.get("bytes_spilled")  # fuse wrote it; bare ops spill nothing
        workspace = max(workspace, spilled.value.data if spilled is not None else 0)
        live -= sum(size.pop(value) for value in step.frees)
    return MemoryFootprint(sum(plan.weights.values()), peak, workspace, peak_unit)


@dataclass(frozen=True)
class FreshPages:
    """Bytes a unit faults in afresh each run; `loop`: those the generated loop after its
    library call faults (a compiled tail that writes a buffer of its own), the rest inside
    the call."""

    total: int
    loop: int = 0


def fresh_pages(plan: Schedule, pinned: bool = False, plain_layout: bool = True,
                native_conv: NativeConv | None = None, prepacked: bool = False) -> dict[Operation, FreshPages]:
    """Bytes each unit's outputs find on fresh pages when the module whose `schedule` is
    `plan` runs repeatedly on glibc malloc (targets/glibc_heap.py): weights (built in their imported dtype, then cast
    to the assigned precision) and inputs stay allocated across runs. `pinned`: glibc
    with its thresholds fixed by mallopt (targets/glibc_heap.fresh_bytes_per_step).
    `plain_layout`: activations in PyTorch's default layout, as eager code passes them.
    `native_conv(conv, precision)`: whether the device runs such a convolution on PyTorch's
    native path (None: every convolution goes to oneDNN). `prepacked`: weights packed once
    ahead of the runs, so no call copies them."""
    steps = [allocator_calls(step, plain_layout, native_conv, prepacked) for step in plan.steps]
    weights = [(W.value_bytes(w, None), nbytes) for w, nbytes in plan.weights.items()]
    fresh = glibc_heap.fresh_bytes_per_alloc(steps, weights, list(plan.inputs.values()),
                                             pinned=pinned)
    out = {}
    for step, faulted in zip(plan.steps, fresh):
        # the unit's outputs are the loop's to allocate where its tail writes out of place
        # (asked only of a unit whose outputs fault: the check builds its workload)
        loop = sum(faulted.get(value, 0) for value, _ in step.allocs)
        if loop and not _tail_out_of_place(step, plain_layout):
            loop = 0
        out[step.unit] = FreshPages(sum(faulted.values()), loop)
    return out


def _tail_out_of_place(step: Step, plain_layout: bool) -> bool:
    """A compiled convolution whose loop writes its output to a buffer of its own
    (cpu_copies.tail_out_of_place), not over the library's result."""
    if plain_layout or U.dominant(step.unit)[1].op_class not in (W.CONV, W.DEPTHWISE_CONV):
        return False
    tail = {kind for kind, _ in U.workload(step.unit).tail}
    return cpu_copies.tail_out_of_place(tail, U.unit_precision(step.unit))


INDEX_BYTES = 8   # int64


def allocator_calls(step: Step, plain_layout: bool = True,
                    native_conv: NativeConv | None = None,
                    prepacked: bool = False) -> list[glibc_heap.Event]:
    """The unit's calls to the allocator, in the order eager PyTorch makes them: its
    outputs, then the frees of the tensors it was the last reader of, except where an op
    has temporaries of its own (blocks of 256 KiB and more traced by bench/malloc_trace.py
    on the Xeon test machine, torch 2.14, resnet50 and vit_b_16 at batch 8):

    - an eager convolution (NCHW activations) copies the source into oneDNN's blocked
      layout, the weights likewise, and computes into a blocked destination; it frees the
      copies, then allocates the output and reorders the destination into it (a BF16 layer
      that is not depthwise: through one more output-sized buffer, traced on mobilenet_v2
      too) and frees it. So the output is allocated after the source copy is freed, and can
      take its pages. An FP32 image source is read as is;
    - a oneDNN convolution on channels-last activations (a compiled graph) copies only
      its weights, from the channels-last copy the graph makes of them first (unless their
      order is the same: depthwise and 1x1 kernels); the loop after it writes over its
      result, except a BF16 batch norm + SiLU tail (cpu_copies.tail_out_of_place), which
      gets a buffer of its own allocated after the call's inputs are freed;
    - a convolution on PyTorch's native path (targets/cpu_copies.runs_on_onednn), eager or
      compiled, allocates the columns it unfolds its input into (unless it reads the input
      as is), then its output, and frees the columns (ConvolutionMM2d.cpp, slow_conv2d_forward);
    - with prepacked weights no convolution copies its weights;
    - eager max pooling also computes int64 indices, output-sized, and drops them.
    """
    op, work = U.dominant(step.unit)
    outputs = [("alloc", value, nbytes) for value, nbytes in step.allocs]
    frees = [("free", value) for value in step.frees]
    if work.op_class in (W.CONV, W.DEPTHWISE_CONV):
        t = U.traffic(step.unit)
        weights = object()
        precision = U.unit_precision(step.unit)
        geometry = W.conv_geometry(op)
        # A compiled graph first copies the weights into a channels-last buffer of its own
        # and frees it after the call (cpu_copies.copies_weights_channels_last).
        before, after = [], []
        # oneDNN's blocked copy of the weights, made and dropped within the call
        weight_alloc, weight_free = (([], []) if prepacked else
                                     ([("alloc", weights, t.bytes_weights)], [("free", weights)]))
        if not prepacked and cpu_copies.copies_weights_channels_last(geometry, plain_layout):
            copy = object()
            before = [("alloc", copy, W.value_bytes(op.operands[1], precision))]
            after = [("free", copy)]
        # A compiled graph's loop after the call writes the unit's output over the library's
        # result, or to a buffer of its own; then the result lives until the loop has read
        # it, and the call's inputs die before the loop's output is allocated.
        result, rest = outputs, frees
        if _tail_out_of_place(step, plain_layout):
            buffer = object()
            result = [("alloc", buffer, sum(nbytes for _, _, nbytes in outputs))]
            rest = frees + outputs + [("free", buffer)]
        if native_conv is not None and geometry is not None and native_conv(geometry, precision):
            columns = object()
            nbytes = cpu_copies.unfold_bytes(geometry, precision)
            if not nbytes:
                return before + result + after + rest
            return (before + [("alloc", columns, nbytes)] + result + [("free", columns)]
                    + after + rest)
        if not plain_layout:
            return before + result + weight_alloc + weight_free + after + rest
        source, blocked, extra = object(), object(), object()
        calls = []
        if copies_source(precision, W.source_channels(op)):
            calls.append(("alloc", source, t.bytes_in))
        calls += weight_alloc + [("alloc", blocked, t.bytes_out)] + weight_free + [("free", source)]
        if copies_result_to_nchw(work.op_class, precision):
            calls += [("alloc", extra, t.bytes_out)] + outputs + [("free", extra)]
        else:
            calls += outputs
        return calls + [("free", blocked)] + frees
    if isinstance(op, graph.MaxPool2dOp) and plain_layout:
        indices = object()
        return outputs + [("alloc", indices, math.prod(W.shape(op.result)) * INDEX_BYTES),
                          ("free", indices)] + frees
    return outputs + frees


def assigned_precision(unit: Operation) -> str | None:
    """The unit's precision once assign-precision ran; None means each tensor's dtype."""
    precision = U.unit_precision(unit)
    assigned = W.op_precision(unit) or W.op_precision(U.inner_ops(unit)[0])
    return precision if assigned else None
