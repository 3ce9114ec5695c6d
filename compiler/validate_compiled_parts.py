"""perf-validate --per-op MODEL --compile: where a torch.compile'd graph's time goes on a
CPU, measured and estimated, part by part.

A compiled graph has no one-to-one map from graph ops to what runs: Inductor writes a
Python wrapper that calls library kernels (oneDNN convolutions, BLAS matmuls, attention)
and C++ loops it generated (the element-wise tails after each library call, pools, the
copies of convolution weights into channels-last order), after Dynamo has checked its
guards. So the comparison is by part, each measured with torch.profiler (Inductor's
`cpp.enable_kernel_profile` names every generated loop) and estimated from the fused
pipeline's units:

  library calls      ATen ops the wrapper calls          the library units' time, less
                                                         their weight copies and tails
  generated loops    Inductor's C++ loops (the copies    element-wise units, library
                     of convolution weights into         units' weight copies
                     channels-last order among them,     (weight_layout_copy_s) and
                     often fused into the loop that      tails (their vector time,
                     finishes an earlier unit)           epilogue_s, and the fresh pages
                                                         of a tail written out of place:
                                                         loop_first_touch_s)
  wrapper and guards the forward's wall time less the    compiled_call_s, the guard
                     above: Dynamo's guards, the         check, each unit's dispatch,
                     wrapper's Python, allocations       and the release of the pages
                     and frees (`del buf`, where         its fresh buffers faulted in
                     glibc returns pages to the OS)      (page_release_s)

The estimate's parts add up to its serial latency; `schedule` is what the compiled
schedule's concurrency takes off that.
"""

from __future__ import annotations

import statistics
import time

from compiler.calibrate.compiled_graph import GUARD_EVENT
from compiler.calibrate.timing import DEFAULT_MAX_FOREIGN, quiet_profiles, wait_until_quiet
from targets.op_kinds import op_kind

PARTS = ("library calls", "generated loops", "wrapper and guards")
# The units a compiled CPU graph hands to a library (targets/cpu_copies.LIBRARY_CLASSES, and
# attention: Inductor calls ATen's CPU flash attention for scaled_dot_product_attention), and
# what a library unit and a profiled ATen call are, for pairing them.
UNIT_CALL_KINDS = {"conv": "convolution", "depthwise_conv": "convolution", "matmul": "matmul",
                   "attention": "attention"}
ATEN_CALL_KINDS = {"convolution": "convolution", "conv2d": "convolution", "linear": "matmul",
                   "mm": "matmul", "bmm": "matmul", "matmul": "matmul",
                   "scaled_dot_product_attention": "attention"}


def estimated_parts(module) -> dict:
    """{part: seconds} of a module after a compiled pipeline's `cost`, plus 'schedule'
    (latency - the parts' sum, <= 0), 'latency', 'weight copies', 'fresh pages' and 'page
    release' (inside the parts) and 'calls': the library units in order, (name, call_key,
    seconds) each."""
    from dialects.perf import KernelOp
    from passes import units as U
    from passes.map_target import attribute_value, mapped_device, mapping_of
    from targets import roofline

    device = mapped_device(module)
    parts: dict = dict.fromkeys(PARTS, 0.0)
    parts["fresh pages"] = parts["page release"] = parts["weight copies"] = 0.0
    calls = []
    # each unit's dispatch is the wrapper's call of its kernel
    dispatch = device.overheads.framework_dispatch_s
    call_s = float(dispatch.value) if dispatch is not None else 0.0

    def value(kernel, key: str) -> float:
        return float(attribute_value(kernel, key, 0.0))

    for kernel in U.units(module):
        if not isinstance(kernel, KernelOp):
            continue
        workload = U.workload(kernel)
        latency = value(kernel, "latency_s") - call_s
        # the pages a unit's buffers faulted in go back to the OS at the wrapper's `del`
        touch, release = value(kernel, "first_touch_s"), value(kernel, "page_release_s")
        faulting = 1.0 - release / touch if touch else 1.0   # the share left where they fault
        latency -= release
        parts["wrapper and guards"] += call_s + release
        parts["fresh pages"] += touch
        parts["page release"] += release
        if workload.op_class not in UNIT_CALL_KINDS or not workload.matrix_flops:
            parts["generated loops"] += latency
            continue
        copy = value(kernel, "weight_layout_copy_s")
        # a loop that writes a buffer of its own faults its pages, not the library call
        tail = value(kernel, "loop_first_touch_s") * faulting
        if value(kernel, "epilogue_bytes"):  # a generated loop finishes the unit
            estimate = roofline.estimate(workload, mapping_of(kernel), device)
            tail += estimate.vector_time_s + value(kernel, "epilogue_s")
        parts["weight copies"] += copy
        parts["generated loops"] += copy + tail
        parts["library calls"] += latency - copy - tail
        keys = unit_keys(kernel)  # a unit's calls share its time: one fixed cost each
        calls += [(U.unit_name(kernel), key, (latency - copy - tail) / len(keys)) for key in keys]
    parts["wrapper and guards"] += value(module, "perf.compiled_call_s") + value(module, "perf.guard_check_s")
    latency = value(module, "perf.latency_s")
    parts["schedule"] = latency - sum(parts[p] for p in PARTS)
    parts["latency"] = latency
    parts["calls"] = calls
    return parts


# ATen calls that run a whole module PyTorch fuses into one fast-path kernel in eval mode
# (compiler/eager_fast_paths.py): Dynamo keeps the call, so Inductor's graph calls it once
# per layer where perf-opt's graph has the layer's matmuls, attention and norms as units.
FAST_PATH_CALLS = {"transformer_encoder_layer_fwd": "nn.TransformerEncoderLayer"}

UNPROFILED_MIN_S = 0.2
PROFILED_MIN_S, PROFILED_MAX_CALLS = 0.02, 50     # forwards per profile: >= 20 ms of them
GRAPH_EVENT = "## Call CompiledFxGraph"     # the wrapper's call of Inductor's compiled graph
GENERATED_MARK = "cpp_fused_"               # Inductor's name for a C++ loop it generated


def call_key(name: str, input_shapes) -> str:
    """What pairs a profiled library call with a unit: its kind, and for a convolution the
    shapes of its input and weights (Inductor may call a block's 1x1 shortcut before its
    3x3 layer, where the graph has them the other way round)."""
    kind = ATEN_CALL_KINDS.get(op_kind(name), op_kind(name))
    if kind == "convolution" and input_shapes and len(input_shapes) > 1:
        return f"{kind} {_dims(input_shapes[0])} {_dims(input_shapes[1])}"
    return kind


def unit_keys(kernel) -> list[str]:
    """call_key of each library call that runs a unit, in graph order: one per convolution
    (its input and weight shapes) and per matrix product the library takes (cpu_model.
    library_calls: a squeeze-and-excitation unit makes two convolution calls), one for
    attention."""
    from dialects import graph
    from passes import units as U
    from passes import work as W
    from targets.cpu_model import calls_library

    keys = []
    for op in U.inner_ops(kernel):
        if isinstance(op, graph.Conv2dOp):
            keys.append(f"convolution {_dims(W.shape(op.input))} {_dims(W.shape(op.weight))}")
        elif isinstance(op, graph.ScaledDotProductAttentionOp):
            keys.append("attention")
        elif any(calls_library(g) for g in U.gemm_dims(op)):
            keys.append("matmul")
    return keys or [UNIT_CALL_KINDS[U.workload(kernel).op_class]]


def _dims(shape) -> str:
    return "x".join(str(int(d)) for d in shape)


def split_profile(events, wall_s: float) -> dict:
    """{part: seconds} of the compiled forwards of one profile (`events`: prof.events();
    `wall_s` their wall time), per forward, with the guard check and the generated loops
    that only copy convolution weights as extras, and 'calls': the library calls of a
    forward in order, (call_key, seconds) each."""
    parts: dict = dict.fromkeys(PARTS, 0.0)
    copies = 0.0
    calls: list[list] = []
    graphs = sorted((e for e in events if e.name.startswith(GRAPH_EVENT)),
                    key=lambda e: e.time_range.start)
    guards = sum(e.cpu_time_total for e in events if e.name == GUARD_EVENT) * 1e-6
    for graph in graphs:
        position = 0
        for child in sorted(graph.cpu_children, key=lambda c: c.time_range.start):
            seconds = child.cpu_time_total * 1e-6
            if GENERATED_MARK in child.name:
                parts["generated loops"] += seconds
                # a loop named after the convolution alone holds only weight copies (Inductor
                # also fuses such copies into the loop that finishes an earlier unit)
                if child.name.split(GENERATED_MARK, 1)[1].rsplit("_", 1)[0] == "convolution":
                    copies += seconds
            else:
                parts["library calls"] += seconds
                if position == len(calls):
                    calls.append([call_key(child.name, child.input_shapes), 0.0])
                calls[position][1] += seconds
                position += 1
    n = max(1, len(graphs))
    out = {part: seconds / n for part, seconds in parts.items()}
    out["wrapper and guards"] = max(0.0, (wall_s - parts["library calls"]
                                          - parts["generated loops"]) / n)
    out.update({"guard check": guards / n, "weight-copy loops": copies / n, "wall": wall_s / n,
                "calls": [(key, seconds / n) for key, seconds in calls]})
    return out


def paired_by_key(units: list[str], calls: list[str]) -> dict[int, int]:
    """{unit index: call index}: each unit takes the first call with its key that no earlier
    unit took. Keys name a convolution's shapes, so a block whose shortcut Inductor calls
    before its 3x3 layer still pairs each with its own; identical layers pair in order."""
    free: dict[str, list[int]] = {}
    for j, key in enumerate(calls):
        free.setdefault(key, []).append(j)
    match = {}
    for i, key in enumerate(units):
        if free.get(key):
            match[i] = free[key].pop(0)
    return match


def measured_parts(built, precision: str, runs: int = 5, max_foreign: float = DEFAULT_MAX_FOREIGN,
                   quiet_wait_s: float = 60.0) -> dict:
    """Median over `runs` profiles of the torch.compile'd model of each part per forward
    (split_profile; each library call's median too), and the median unprofiled forward
    ('unprofiled')."""
    import torch
    import torch._inductor.config as inductor_config

    from compiler.validate import cast

    module, inputs = cast(built, precision)
    # Inductor records each generated loop as a profiler event only when asked at compile time.
    with inductor_config.patch({"cpp.enable_kernel_profile": True}), torch.inference_mode():
        fn = torch.compile(module)
        fn(*inputs)                  # compiles
        if quiet_wait_s > 0:
            wait_until_quiet(max_foreign, timeout_s=quiet_wait_s)
        # warm-up, then at least `runs` calls and UNPROFILED_MIN_S of them (a small model's
        # first calls after compiling run several times slower)
        plain: list[float] = []
        for _phase in ("warm-up", "timed"):
            plain.clear()
            while len(plain) < runs or sum(plain) < UNPROFILED_MIN_S:
                start = time.perf_counter()
                fn(*inputs)
                plain.append(time.perf_counter() - start)
        # a profile of a few forwards in a row: the profiler's own start-up is paid per
        # profile, which would swamp a small model's forward
        per_profile = max(1, min(PROFILED_MAX_CALLS, round(PROFILED_MIN_S / statistics.median(plain))))

        def forwards():
            for _ in range(per_profile):
                fn(*inputs)

        # the times from profiles without shapes (recording them slows every event: MobileNetV2
        # at batch 1 by half), the calls' shapes from one more profile
        samples = [split_profile(prof.events(), wall)
                   for prof, wall in quiet_profiles(forwards, runs, max_foreign)]
        shaped = next(quiet_profiles(forwards, 1, max_foreign, record_shapes=True))
        keys = [key for key, _ in split_profile(shaped[0].events(), shaped[1])["calls"]]
    out = {key: statistics.median(s[key] for s in samples) for key in samples[0] if key != "calls"}
    n = min(len(s["calls"]) for s in samples)
    out["calls"] = [(keys[i] if i < len(keys) else samples[0]["calls"][i][0],
                     statistics.median(s["calls"][i][1] for s in samples)) for i in range(n)]
    out["unprofiled"] = statistics.median(plain)
    return out


def compiled_parts(model: str, batch: int = 1, precision: str = "fp32",
                   calibration: str | None = None, runs: int = 5,
                   quiet_wait_s: float = 60.0) -> dict:
    """The comparison for one model, compiled: parts, and library calls paired in order."""
    import torch

    from compiler.importer import import_model
    from compiler.model_zoo import build
    from compiler.validate import costed
    from targets import host

    torch.set_num_threads(host.probe().logical_cpus)
    built = build(model, batch)
    estimated = estimated_parts(costed(import_model(built).module, precision, "compiled", calibration))
    measured = measured_parts(built, precision, runs, quiet_wait_s=quiet_wait_s)

    units, calls = estimated.pop("calls"), measured.pop("calls")
    match = paired_by_key([key for _, key, _ in units], [key for key, _ in calls])
    rows = []
    for i, (name, key, predicted) in enumerate(units):
        call = calls[match[i]] if i in match else None
        rows.append({"unit": name, "call": key,
                     "predicted_s": predicted, "measured_s": call[1] if call else None,
                     "error": (predicted - call[1]) / call[1] if call and call[1] else None})
    used = set(match.values())
    return {"model": model, "batch": batch, "precision": precision, "calibration": calibration,
            "estimated": estimated, "measured": measured, "library_calls": rows,
            "unmatched_calls": [{"name": n, "measured_s": t} for j, (n, t) in enumerate(calls)
                                if j not in used]}


def compiled_parts_table(result: dict, top: int = 15) -> str:
    est, meas = result["estimated"], result["measured"]
    ms = lambda s: f"{s * 1e3:10.3f}"  # noqa: E731
    lines = [f"compiled parts: {result['model']} batch {result['batch']} {result['precision']} "
             f"torch.compile (calibration: {result['calibration'] or 'none'})",
             f"measured {meas['unprofiled'] * 1e3:.3f} ms unprofiled, {meas['wall'] * 1e3:.3f} ms "
             f"profiled; predicted {est['latency'] * 1e3:.3f} ms", "",
             f"{'part':<22} {'predicted ms':>12} {'measured ms':>12} {'error':>8}"]
    for part in PARTS:
        p, m = est[part], meas[part]
        lines.append(f"{part:<22} {ms(p):>12} {ms(m):>12} "
                     + (f"{(p - m) / m * 100:+7.1f}%" if m else f"{'-':>8}"))
    lines += [f"{'schedule overlap':<22} {ms(est['schedule']):>12}",
              "",
              f"weight copies into channels-last order: predicted {est['weight copies'] * 1e3:.3f} ms"
              f" (measured {meas['weight-copy loops'] * 1e3:.3f} ms in loops that only copy; the "
              "rest run inside other loops)",
              f"fresh pages (first touch, inside the parts): predicted {est['fresh pages'] * 1e3:.3f} ms"
              + (f", of which {est['page release'] * 1e3:.3f} ms returning them to the OS where the "
                 "wrapper frees their buffers" if est.get("page release") else ""),
              f"Dynamo's guard check: measured {meas['guard check'] * 1e3:.3f} ms"]
    rows = [r for r in result["library_calls"] if r["measured_s"] is not None]
    lines += ["", f"library calls, {len(rows)} of {len(result['library_calls'])} units paired "
                  f"with ATen calls; worst (largest |predicted - measured|):",
              f"{'unit':<28} {'call':<40} {'predicted us':>12} {'measured us':>12} {'error':>8}"]
    for r in sorted(rows, key=lambda r: -abs(r["predicted_s"] - r["measured_s"]))[:top]:
        lines.append(f"{r['unit'][:28]:<28} {r['call'][:40]:<40} "
                     f"{r['predicted_s'] * 1e6:12.1f} {r['measured_s'] * 1e6:12.1f} "
                     f"{r['error'] * 100:+7.1f}%")
    if result["unmatched_calls"]:
        lines.append("unpaired library calls: " + ", ".join(
            f"{c['name']} {c['measured_s'] * 1e6:.0f}us" for c in result["unmatched_calls"][:8]))
    fused = {c["name"] for c in result["unmatched_calls"]} & set(FAST_PATH_CALLS)
    for name in sorted(fused):
        count = sum(c["name"] == name for c in result["unmatched_calls"])
        lines.append(f"{count} calls of {name} each run a whole {FAST_PATH_CALLS[name]} "
                     "(PyTorch's fast path): its units have no call of their own, so compare "
                     "the library calls part above")
    return "\n".join(lines) + "\n"
