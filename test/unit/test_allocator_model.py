"""map-cpu's allocator model: glibc's fresh pages cost first-touch time, pinned memory none."""

from __future__ import annotations

import pytest

from conftest import ROOT

CALIBRATION = ROOT / "targets" / "calibrations" / "ci-host-2core.json"


@pytest.fixture(scope="module")
def resnet18_b8():
    from compiler.importer import import_model
    from compiler.model_zoo import build

    return import_model(build("resnet18", 8)).module


def run(module, allocator: str):
    from compiler.context import make_context
    from compiler.pipeline import build

    work = module.clone()
    spec = (f"annotate-deps,assign-precision{{default=fp32}},"
            f"map-cpu{{device=host calibration={CALIBRATION} allocator={allocator}}},cost")
    for p in build(spec):
        p.apply(make_context(), work)
    return work


def test_glibc_fresh_pages_cost_exactly_their_first_touch_time(resnet18_b8):
    from passes import units as U
    from passes.cost import module_value
    from passes.liveness import fresh_pages, schedule
    from targets.calibration import load

    rate = load(CALIBRATION).first_touch_bytes_per_s
    glibc, pinned = run(resnet18_b8, "glibc"), run(resnet18_b8, "pinned")
    fresh = sum(f.total for f in fresh_pages(schedule(resnet18_b8)).values())
    assert fresh > 25e6   # the 8x64x112x112 fp32 activations (25.7 MB) are mmapped each run
    touch = [k.attributes["first_touch_s"].value.data for k in U.units(glibc)]
    assert sum(touch) == pytest.approx(fresh / rate, rel=1e-6)
    # pinned, no block of resnet18 at batch 8 reaches 32 MiB: nothing is fresh
    assert all(k.attributes["first_touch_s"].value.data == 0 for k in U.units(pinned))
    # kernels run back to back in eager mode: the latency grows by the first-touch time
    # where it lands on kernels that were not already overhead-bound
    difference = module_value(glibc, "perf.latency_s") - module_value(pinned, "perf.latency_s")
    assert 0 < difference <= fresh / rate * (1 + 1e-9)


def test_the_report_names_first_touch_as_the_reason(resnet18_b8):
    from passes.report_data import collect

    report = collect(run(resnet18_b8, "glibc"))
    first = report["subgraphs"][0]          # the stem conv: 25.69 MB out, and its reorders
    assert first["fresh_bytes"] >= 25.69e6
    assert first["reason"].startswith(f"first touch of {first['fresh_bytes'] / 1e6:.2f} MB of fresh pages")


def test_an_unknown_allocator_lists_the_valid_ones():
    from compiler.pipeline import PipelineError, build

    with pytest.raises(PipelineError, match="unknown allocator 'jemalloc'; valid allocators: glibc, pinned"):
        build("map-cpu{allocator=jemalloc}")
    with pytest.raises(PipelineError, match="unknown weights 'frozen'; valid weights: per-call, prepacked"):
        build("map-cpu{weights=frozen}")


def mobilenet_conv_steps(precision: str) -> list:
    """(dominant op, its work, schedule step) of each convolution of MobileNetV2 at batch 1
    with every op assigned `precision`."""
    from compiler.context import make_context
    from compiler.pipeline import build as build_pipeline
    from conftest import imported
    from passes import work as W
    from passes.liveness import schedule
    from passes.units import dominant

    module = imported("mobilenet_v2", 1).module.clone()
    for p in build_pipeline(f"annotate-deps,assign-precision{{default={precision}}}"):
        p.apply(make_context(), module)
    return [(*dominant(step.unit), step) for step in schedule(module).steps
            if dominant(step.unit)[1].op_class in (W.CONV, W.DEPTHWISE_CONV)]


def extra_allocs(calls, step) -> int:
    """Allocations a unit makes beyond its outputs."""
    return sum(kind == "alloc" for kind, *_ in calls) - len(step.allocs)


def test_eager_bf16_convolutions_allocate_one_more_result_buffer_except_depthwise():
    """Traced (bench/malloc_trace.py, mobilenet_v2 and resnet50 in BF16): a convolution
    allocates source copy, weight copy, blocked result, then one more result-sized buffer
    for PyTorch's copy into NCHW, then the output; a depthwise layer has no such buffer.
    FP32 layers have none either."""
    from passes import work as W
    from passes.liveness import allocator_calls

    def allocs_by_class(precision):
        out = {}
        for _, work, step in mobilenet_conv_steps(precision):
            out.setdefault(work.op_class, set()).add(extra_allocs(allocator_calls(step), step))
        return out

    bf16, fp32 = allocs_by_class("bf16"), allocs_by_class("fp32")
    assert bf16[W.CONV] == {4}             # source, weights, blocked result, NCHW copy
    assert bf16[W.DEPTHWISE_CONV] == {3}
    assert fp32[W.DEPTHWISE_CONV] == {3}
    assert fp32[W.CONV] == {2, 3}          # the stem reads its 3-channel image as is


def test_an_eager_convolution_on_pytorchs_native_path_allocates_no_copies():
    """On a multi-core CPU, MobileNetV2's FP32 1x1 layers on maps of at most 20480 input
    elements (96 x 14 x 14, 160 x 7 x 7, ...) take PyTorch's native path: a 1x1 at stride 1
    reads its input as is, so it allocates only its output; the other convolutions still
    copy for oneDNN (2 or 3 buffers), depthwise layers always."""
    from passes import work as W
    from passes.liveness import allocator_calls
    from targets import cpu_copies
    from targets.catalog import load_device

    i7 = load_device("i7-12700k")
    extra = {}
    for op, work, step in mobilenet_conv_steps("fp32"):
        native = not cpu_copies.runs_on_onednn(W.conv_geometry(op), "fp32", i7)
        calls = allocator_calls(step, native_conv=lambda c, prec: not cpu_copies.runs_on_onednn(c, prec, i7))
        extra.setdefault((work.op_class, native), set()).add(extra_allocs(calls, step))
    assert extra[(W.CONV, True)] == {0}
    assert extra[(W.CONV, False)] == {2, 3}
    assert extra[(W.DEPTHWISE_CONV, False)] == {3}
    assert (W.DEPTHWISE_CONV, True) not in extra


def test_a_compiled_convolution_allocates_a_channels_last_copy_of_3x3_weights():
    """A compiled graph (channels-last activations) copies only weights: a 3x3 stem's into
    a channels-last buffer of its own (allocated before the output, freed after the call)
    and oneDNN's blocked copy; a 1x1 or depthwise layer's order is the same in both layouts,
    so only oneDNN's copy."""
    from passes import work as W
    from passes.liveness import allocator_calls

    extra = {}
    for op, work, step in mobilenet_conv_steps("fp32"):
        calls = allocator_calls(step, plain_layout=False)
        kernel = W.conv_geometry(op).kernel
        extra.setdefault((work.op_class, kernel), set()).add(extra_allocs(calls, step))
        if kernel == (3, 3) and work.op_class == W.CONV:
            assert calls[0][0] == "alloc" and calls[-1 - len(step.frees)][0] == "free"
    assert extra[(W.CONV, (3, 3))] == {2}
    assert extra[(W.CONV, (1, 1))] == {1}
    assert extra[(W.DEPTHWISE_CONV, (3, 3))] == {1}
    # weights packed ahead of the runs: no call copies them, compiled or eager (the eager
    # call still copies its activations: 1 or 2 buffers)
    prepacked = {(plain, extra_allocs(allocator_calls(step, plain_layout=plain, prepacked=True), step))
                 for _, _, step in mobilenet_conv_steps("fp32") for plain in (False, True)}
    assert {n for plain, n in prepacked if not plain} == {0}
    assert {n for plain, n in prepacked if plain} == {1, 2}


def test_a_compiled_bf16_batch_norm_silu_tail_writes_a_buffer_of_its_own():
    """Inductor writes EfficientNet-B0's batch norm + SiLU tails in BF16 to a new buffer and
    frees the library's result after the loop (its generated code, torch 2.14.1); in FP32, and
    for tails without SiLU, over the result. So a BF16 unit allocates its result, frees the
    call's input, then allocates its output while the result lives; with two 19.3 MB buffers
    at batch 8 glibc trims and regrows its heap each forward (38 MB of page faults measured:
    the model's steady state has 43 MB fresh)."""
    from compiler.context import make_context
    from compiler.pipeline import build as build_pipeline
    from conftest import imported
    from passes import units as U
    from passes.liveness import allocator_calls, fresh_pages, schedule

    def fused(batch: int, precision: str):
        module = imported("efficientnet_b0", batch).module.clone()
        for p in build_pipeline(f"fuse,annotate-deps,assign-precision{{default={precision}}}"):
            p.apply(make_context(), module)
        return schedule(module)

    extra = {}
    for precision in ("bf16", "fp32"):
        step = next(s for s in fused(1, precision).steps if U.unit_name(s.unit) == "conv_bn_act_4")
        calls = allocator_calls(step, plain_layout=False)
        output, nbytes = step.allocs[0]
        kinds = [(kind, arg is output) for kind, arg, *_ in calls]
        extra[precision] = extra_allocs(calls, step)
        if precision == "bf16":   # result, input freed, output, result freed
            assert calls[0][0] == "alloc" and calls[0][2] == nbytes == 96 * 112 * 112 * 2
            assert kinds[-1] == ("free", False)
            assert kinds.index(("alloc", True)) > kinds.index(("free", False))
        else:
            assert kinds[0] == ("alloc", True)
    assert extra["bf16"] == extra["fp32"] + 1      # the result, beside oneDNN's weight copy
    bf16 = fresh_pages(fused(8, "bf16"), plain_layout=False).values()
    assert sum(f.total for f in bf16) > 38e6
    # the loop faults the buffer it writes; an in-place loop faults nothing of its own
    assert all(0 <= f.loop <= f.total for f in bf16) and sum(f.loop for f in bf16) > 0
    assert not any(f.loop for f in fresh_pages(fused(8, "fp32"), plain_layout=False).values())
