"""perf-validate --per-op: perf-opt's per-kernel estimates against torch.profiler's op
times for one model, in eager mode (one kernel per graph op).

Matching: the IR's kernels are in FX order (torch.export traces the forward in execution
order) and carry their FX node names (`relu__3`, `max_pool2d_with_indices`); the
profiler's top-level ATen ops (those called from Python, children excluded) are in
execution order too (`aten::relu_`, `aten::max_pool2d`). Both sides are reduced to an op
kind (`relu`, `max_pool2d`) and aligned in order (longest common subsequence of kinds).
Fused fast paths that export decomposes (nn.MultiheadAttention's
_native_multi_head_attention, the encoder layer's _transformer_encoder_layer_fwd) are
opened into their children first. Profiler ops left over (views, flatten) are listed as
unmatched with their time, so the totals still add up.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from compiler.calibrate.timing import DEFAULT_MAX_FOREIGN, quiet_profiles, wait_until_quiet
from targets.op_kinds import op_kind

# Inside a fused fast path (nn.MultiheadAttention's _native_multi_head_attention, the
# encoder layer's _transformer_encoder_layer_fwd), runs of children that together are one
# graph op of the exported model, and what that op is.
MERGED_CHILDREN = (
    (("mm", "_transform_bias_rescale_qkv"), "linear"),        # in-projection + its bias
    (("bmm", "_softmax", "bmm"), "scaled_dot_product_attention"),
)
CHILD_KINDS = {"addmm": "linear", "_addmm_activation": "linear", "mm": "linear",
               "contiguous": "copy"}
_FREE = ("view", "reshape", "t", "transpose", "permute", "_unsafe_view", "expand",
         "as_strided", "resolve_conj", "narrow", "slice", "empty", "dropout")


def flatten_events(events, kinds: set[str]) -> list[tuple[str, str, float]]:
    """(name, kind, seconds) in execution order. A top-level op whose kind the exported
    graph does not have (a fused fast path) is replaced by its children, recursively;
    runs of children listed in MERGED_CHILDREN become one op. View-like children are
    dropped (they cost dispatch only, which the parent's time already includes)."""
    out: list[tuple[str, str, float]] = []
    for e in events:
        name = e.name.split("::")[-1]
        kind = op_kind(e.name)
        children = sorted(e.cpu_children, key=lambda c: c.time_range.start)
        if kind in kinds or not children or kind in _FREE:
            out.append((e.name, kind, e.cpu_time_total * 1e-6))
            continue
        flat = []
        for c in children:
            cname = c.name.split("::")[-1]
            if cname in _FREE:
                continue
            if op_kind(c.name) in kinds:
                flat.append((c.name, op_kind(c.name), c.cpu_time_total * 1e-6))
            elif cname in CHILD_KINDS or any(cname in seq for seq, _ in MERGED_CHILDREN):
                flat.append((c.name, cname, c.cpu_time_total * 1e-6))
            else:
                flat.extend(flatten_events([c], kinds))
        out.extend(_merge_runs(flat))
    return out


def _merge_runs(flat: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    out, i = [], 0
    while i < len(flat):
        for seq, kind in MERGED_CHILDREN:
            names = tuple(f[0].split("::")[-1] for f in flat[i:i + len(seq)])
            if names == seq:
                out.append(("+".join(f"aten::{n}" for n in seq), kind,
                            sum(f[2] for f in flat[i:i + len(seq)])))
                i += len(seq)
                break
        else:
            name, kind, t = flat[i]
            out.append((name, CHILD_KINDS.get(name.split("::")[-1], kind), t))
            i += 1
    return out


def profile_ops(built, precision: str, runs: int = 5, max_foreign: float = DEFAULT_MAX_FOREIGN,
                quiet_wait_s: float = 60.0, kinds: set[str] | None = None
                ) -> tuple[list[dict], dict]:
    """(top-level ATen ops of one eager forward, fused fast paths opened up (see
    flatten_events), with CPU time averaged over `runs`; the forward's time split, see
    forward_split)."""
    import torch

    from compiler.validate import cast

    module, inputs = cast(built, precision)
    if quiet_wait_s > 0:
        wait_until_quiet(max_foreign, timeout_s=quiet_wait_s)
    with torch.inference_mode():
        for _ in range(3):
            module(*inputs)
        per_run: list[list[tuple[str, str, float]]] = []
        splits: list[tuple[float, float, float]] = []
        for prof, forward_s in quiet_profiles(lambda: module(*inputs), runs, max_foreign):
            top = [e for e in prof.events() if e.cpu_parent is None and e.name.startswith("aten::")]
            top.sort(key=lambda e: e.time_range.start)
            per_run.append(flatten_events(top, kinds or set()))
            splits.append(forward_split(top, forward_s))
    n = min(len(r) for r in per_run)
    ops = []
    for i in range(n):
        names = {r[i][0] for r in per_run}
        ops.append({"index": i, "name": per_run[0][i][0], "kind": per_run[0][i][1],
                    "measured_s": statistics.median(r[i][2] for r in per_run),
                    "consistent": len(names) == 1})
    wall, in_ops, between = (statistics.median(s[i] for s in splits) for i in range(3))
    return ops, {"wall_s": wall, "in_ops_s": in_ops, "between_ops_s": between}


def forward_split(top, wall_s: float) -> tuple[float, float, float]:
    """(wall, inside top-level ATen ops, between them) of one profiled forward, in seconds.
    Between two ops the forward runs Python: nn.Module calls, argument handling, freeing
    the tensors it drops. Measured inside one run, so machine drift does not enter it."""
    if not top:
        return wall_s, 0.0, 0.0
    in_ops = sum(e.time_range.end - e.time_range.start for e in top) * 1e-6
    span = (max(e.time_range.end for e in top) - top[0].time_range.start) * 1e-6
    return wall_s, in_ops, max(0.0, span - in_ops)


def align(kernels: list[dict], ops: list[dict]) -> tuple[list[dict], list[dict]]:
    """(pairs, unmatched profiler ops). Each pair: kernel entry + matched op (or None).
    The most kernels matched to profiler ops of their kind with both orders kept: a longest
    common subsequence over kinds (so one extra op on either side shifts nothing)."""
    kk = [op_kind(k["location"] or k["name"]) for k in kernels]
    ok = [o["kind"] for o in ops]
    n, m = len(kk), len(ok)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if kk[i] == ok[j] else max(below[j], row[j + 1])
    match: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if kk[i] == ok[j] and best[i][j] == best[i + 1][j + 1] + 1:
            match[i] = j
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    pairs = [{"kernel": k, "kind": kk[i], "op": ops[match[i]] if i in match else None}
             for i, k in enumerate(kernels)]
    used = set(match.values())
    return pairs, [o for j, o in enumerate(ops) if j not in used]


def per_op(model: str, batch: int = 1, precision: str = "fp32", calibration: str | None = None,
           runs: int = 5, quiet_wait_s: float = 60.0, pin_allocator: bool = False) -> dict:
    """The comparison for one model: pairs, per-kind totals, worst offenders."""
    import torch

    from compiler.importer import import_model
    from compiler.model_zoo import build
    from compiler.validate import pipeline_text, predict
    from targets import host

    torch.set_num_threads(host.probe().logical_cpus)
    if pin_allocator:
        from compiler.calibrate.memory import pin_allocator as pin
        pin()
    built = build(model, batch)
    imported = import_model(built).module
    # a pinned allocator faults no fresh pages, and the estimate must not charge them either
    report = predict(imported, precision, "eager", calibration, pin_allocator)
    kernels = report["subgraphs"]
    kinds = {op_kind(k["location"] or k["name"]) for k in kernels}
    ops, forward = profile_ops(built, precision, runs, quiet_wait_s=quiet_wait_s, kinds=kinds)
    pairs, unmatched = align(kernels, ops)
    rows = []
    for p in pairs:
        k, o = p["kernel"], p["op"]
        meas = o["measured_s"] if o else None
        rows.append({
            "kernel": k["name"], "location": k["location"], "kind": p["kind"],
            "profiler_op": o["name"] if o else None,
            "predicted_s": k["latency_s"], "measured_s": meas,
            "error": (k["latency_s"] - meas) / meas if meas else None,
            "delta_s": k["latency_s"] - meas if meas is not None else None,
            "bottleneck": k["bottleneck"], "flops": k["flops"], "bytes": k["bytes"],
            "efficiency": k["efficiency"], "memory_level": k["memory_level"],
            "units_used": k["units_used"],
        })
    by_kind: dict[str, dict] = defaultdict(lambda: {"count": 0, "predicted_s": 0.0, "measured_s": 0.0,
                                                    "unmatched_predicted_s": 0.0})
    for r in rows:
        b = by_kind[r["kind"]]
        b["count"] += 1
        if r["measured_s"] is None:
            b["unmatched_predicted_s"] += r["predicted_s"]
        else:
            b["predicted_s"] += r["predicted_s"]
            b["measured_s"] += r["measured_s"]
    matched = [r for r in rows if r["measured_s"] is not None]
    worst = sorted(matched, key=lambda r: -abs(r["delta_s"]))[:15]
    return {
        "model": model, "batch": batch, "precision": precision, "calibration": calibration,
        "allocator": "pinned" if pin_allocator else "default",
        "pipeline": pipeline_text(precision, "eager", calibration, pin_allocator),
        "predicted_total_s": report["latency_s"],
        "profiled_total_s": sum(o["measured_s"] for o in ops),
        "profiled_forward": forward,
        "matched": len(matched), "kernels": len(rows), "profiler_ops": len(ops),
        "rows": rows, "by_kind": dict(by_kind),
        "unmatched_profiler_ops": [{"name": o["name"], "measured_s": o["measured_s"]} for o in unmatched],
        "unmatched_profiler_s": sum(o["measured_s"] for o in unmatched),
        "worst": worst,
    }


def per_op_table(result: dict, top: int = 15) -> str:
    us = lambda s: f"{s * 1e6:10.1f}" if s is not None else f"{'-':>10}"  # noqa: E731
    lines = [f"per-op comparison: {result['model']} batch {result['batch']} {result['precision']} "
             f"eager (calibration: {result['calibration'] or 'none'}; allocator: "
             f"{result.get('allocator', 'default')})",
             f"kernels {result['kernels']}, matched to profiler ops {result['matched']} of "
             f"{result['profiler_ops']}; predicted total {result['predicted_total_s'] * 1e3:.3f} ms, "
             f"profiled total {result['profiled_total_s'] * 1e3:.3f} ms "
             f"(profiler overhead included)", *_forward_lines(result), "",
             f"{'op kind':<28} {'n':>4} {'predicted us':>12} {'measured us':>12} {'error':>8}"]
    for kind, b in sorted(result["by_kind"].items(), key=lambda kv: -kv[1]["measured_s"]):
        err = (b["predicted_s"] - b["measured_s"]) / b["measured_s"] if b["measured_s"] else None
        lines.append(f"{kind:<28} {b['count']:>4} {us(b['predicted_s']):>12} {us(b['measured_s']):>12} "
                     + (f"{err * 100:+7.1f}%" if err is not None else f"{'-':>8}"))
    if result["unmatched_profiler_ops"]:
        names = defaultdict(float)
        for o in result["unmatched_profiler_ops"]:
            names[o["name"]] += o["measured_s"]
        lines.append(f"{'(unmatched profiler ops)':<28} {len(result['unmatched_profiler_ops']):>4} "
                     f"{'':>12} {us(result['unmatched_profiler_s']):>12}   "
                     + ", ".join(f"{n} {t * 1e6:.0f}us" for n, t in
                                 sorted(names.items(), key=lambda kv: -kv[1])[:5]))
    lines += ["", f"worst offenders (largest |predicted - measured|):",
              f"{'kernel':<32} {'predicted us':>12} {'measured us':>12} {'error':>8}  "
              f"{'bound':<8} {'eff':>6} {'level':<5} {'cores':>5} {'GFLOP':>8}"]
    for r in result["worst"][:top]:
        lines.append(f"{r['kernel'][:32]:<32} {us(r['predicted_s']):>12} {us(r['measured_s']):>12} "
                     f"{r['error'] * 100:+7.1f}%  {r['bottleneck']:<8} {r['efficiency']:6.3f} "
                     f"{r['memory_level']:<5} {r['units_used']:>5} {r['flops'] / 1e9:8.3f}")
    return "\n".join(lines) + "\n"


def _forward_lines(result: dict) -> list[str]:
    f = result.get("profiled_forward")
    if not f or not f["wall_s"]:
        return []
    return [f"profiled forward {f['wall_s'] * 1e3:.3f} ms: top-level ATen ops "
            f"{f['in_ops_s'] * 1e3:.3f} ms, between them {f['between_ops_s'] * 1e3:.3f} ms "
            f"({f['between_ops_s'] / f['wall_s'] * 100:.1f}%: Python, nn.Module calls, freed "
            "tensors; perf-opt charges each op one module-call dispatch)"]
