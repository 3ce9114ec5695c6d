"""Memory bandwidth per level, and the fixed costs every eager op pays.

Bandwidth, per level of the host device (targets/host.py: its caches from sysfs, DRAM):

* copy: `dst.copy_(src)` with src + dst sized to half the level (per core for private
  caches, in total for shared ones, several times the last cache for DRAM); bandwidth =
  (bytes read + bytes written) / (time - dispatch overhead), which is how the roofline
  counts an op's traffic (bytes in + bytes out). This is the figure the calibration
  applies to the level.
* read: `x.expand(R, n).sum()`: a stride-0 view re-reads the same n-byte buffer R times,
  so one call streams R x n bytes out of the level that holds n, with no per-call
  overhead to subtract. It is used for the level where a copy is too short to time (L1:
  a few hundred nanoseconds under a microsecond of dispatch), and recorded for the others.

Overheads:

* dispatch: a one-element op called through an `nn.Module` (what an eager model pays per
  op beyond its work), and the same op called bare;
* fork/join of the intra-op thread pool: an add exactly `cores` parallel grains long,
  timed on all threads and on one: launch = t(all) - d - (t(1) - d) / cores.

First touch: eager PyTorch allocates every op's output; glibc serves large requests with
fresh mmaps (and trims its heap) so pages fault in on first write (a few microseconds per
4 KiB page, zeroing included), and how many do depends on the allocator's history (its
thresholds adapt to what was freed). The op benchmarks therefore run with the allocator
pinned (`pin_allocator`: freed memory is reused, no faults), and the cost per byte of
first touch is measured on its own; map-cpu charges it for the fresh pages its allocator
simulation finds (targets/glibc_heap.py).

Layout reorder: eager PyTorch hands oneDNN convolutions NCHW tensors, which it copies into
a channels-blocked layout and back on every call. Such a copy transposes (each output line
gathers one element from every channel plane) and runs several times slower than a plain
copy; it is timed as `dst.copy_(src)` between NCHW and channels-last tensors of
convolution-sized activations, both ways, in each precision the benchmarks use.
"""

from __future__ import annotations

from typing import Callable

from compiler.calibrate.timing import Measurement, Timer
from targets.calibration import Spread

GRAIN_ELEMENTS = 32768   # at::internal::GRAIN_SIZE (aten/src/ATen/Parallel.h)
MIB = 1 << 20


def _spread(values: list[float]) -> dict:
    return Spread.of(values).as_dict()


def _rates(m: Measurement, nbytes: float, overhead: float = 0.0) -> dict:
    return _spread([nbytes / max(t - overhead, 1e-9) for t in m.times])


def _copy_rates(m: Measurement, n: int, dispatch_s: float) -> dict | None:
    """Bandwidth of `m`, a copy of `n` float32s (read + written bytes, net of dispatch); None
    for a copy shorter than twice the dispatch overhead, which cannot be timed."""
    return _rates(m, 2 * 4 * n, dispatch_s) if m.median_s > 2 * dispatch_s else None


def copy_rate(timer: Timer, src_bytes: int) -> float:
    """Median (read + written bytes) / time of `dst.copy_(src)` over `src_bytes` of float32:
    the copy `bandwidths` times per memory level, so perf-validate's reference copy compares
    like with like (dispatch is negligible at the sizes that reach DRAM)."""
    import torch

    n = max(1024, src_bytes // 4)
    # ones, not randn: the values do not matter to a copy and randn of 256 MiB takes 0.7 s on
    # a 2-vCPU VM (perf-validate times this copy before every row); not empty, whose untouched
    # pages all map the kernel's zero page and read from cache
    src, dst = torch.ones(n), torch.empty(n)
    with torch.inference_mode():
        return _copy_rates(timer.measure(lambda: dst.copy_(src)), n, 0.0)["median"]


def dispatch_overheads(timer: Timer) -> tuple[dict, dict, dict]:
    """(through a module, bare op, raw measurements) of a one-element op."""
    import torch

    x = torch.randn(1)
    relu = torch.nn.ReLU()
    with torch.inference_mode():
        module = timer.measure(lambda: relu(x))
        bare = timer.measure(lambda: torch.relu(x))
    return (_spread(module.times), _spread(bare.times),
            {"module": module.summary(), "bare": bare.summary()})


def launch_overhead(timer: Timer, cores: int, bare_dispatch_s: float) -> tuple[dict, dict]:
    """Fork/join cost of a parallel region (see the module docstring)."""
    import torch

    n = GRAIN_ELEMENTS * max(2, cores)
    x, y, z = torch.randn(n), torch.randn(n), torch.empty(n)
    threads = torch.get_num_threads()
    try:
        with torch.inference_mode():
            all_threads = timer.measure(lambda: torch.add(x, y, out=z))
            torch.set_num_threads(1)
            one = timer.measure(lambda: torch.add(x, y, out=z))
    finally:
        torch.set_num_threads(threads)
    d = bare_dispatch_s
    values = [max(0.0, ta - d - (t1 - d) / max(2, cores))
              for ta, t1 in zip(sorted(all_threads.times), sorted(one.times))]
    return _spread(values), {"all_threads": all_threads.summary(), "one_thread": one.summary(),
                             "elements": n}


def first_touch(timer: Timer, size: int = 64 * MIB) -> dict:
    """Bytes per second at which freshly mapped memory is first written: an anonymous
    mmap filled through a tensor view and unmapped (what a page-faulting allocation costs,
    zeroing and unmapping included), less the time to refill memory already mapped.

    The mapping is private, as glibc's are (sysmalloc maps MAP_PRIVATE | MAP_ANONYMOUS):
    Python's mmap.mmap(-1, n) defaults to MAP_SHARED, shared memory backed by shmem,
    whose faults cost more. On the 2-core Zen 5 test VM, 64 MiB: shared 43 ms, private
    24 ms, torch.empty (glibc) 23 ms, refill 2.4 ms; calibrations written before this
    measured the shared mapping and understate the rate about 2x."""
    import mmap
    import time

    import torch

    buf = torch.empty(size // 4)
    unmaps: list[float] = []

    def fresh_fill():
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
        t = torch.frombuffer(m, dtype=torch.float32)
        t.fill_(1.0)
        del t
        start = time.perf_counter()
        m.close()
        unmaps.append(time.perf_counter() - start)

    with torch.inference_mode():
        fresh = timer.measure(fresh_fill)
        reuse = timer.measure(lambda: buf.fill_(1.0))
    extra = [max(1e-9, f - r) for f, r in zip(sorted(fresh.times), sorted(reuse.times))]
    # The unmapping is part of what a fresh page costs but is paid where the buffer is
    # freed: 64 MiB on the 2-core Zen 5 test VM, fill 11.1 ms, munmap 4.4 ms (glibc trimming
    # the same bytes off its heap, 3.7 ms).
    return {"bytes_per_s": _spread([size / e for e in extra]), "buffer_bytes": size,
            "release_bytes_per_s": _spread([size / max(1e-9, u) for u in unmaps]),
            "page_faults_per_call": fresh.page_faults,
            "method": "t(private anonymous mmap + fill through a tensor view + munmap) "
                      "- t(refill mapped memory), "
                      f"{size >> 20} MiB, all threads; release: the munmap alone",
            "fresh_timing": fresh.summary(), "reuse_timing": reuse.summary()}


# A minimal call of each class (module, its arguments, input shape): what a call costs
# beyond PyTorch's dispatch whatever its size (oneDNN: primitive descriptor, scratchpad,
# reorders of tiny tensors). The linear is the smallest that BF16 sends to oneDNN (PyTorch
# uses oneDNN for a BF16 GEMM of more than 16^3 multiply-adds, mkldnn_gemm_min_size in
# aten/src/ATen/native/mkldnn/Matmul.cpp). The convolution is a strided 1x1 at batch 2: PyTorch
# sends FP32 to oneDNN only when it is strided (or wider, or threaded) and batched (or grouped,
# or large) (targets/cpu_copies.runs_on_onednn); at batch 1 on a 1x1 input the probe took the
# native path, which model convolutions mostly do not (files before 2026-12-03: FP32 "conv"
# 2-5 us, where oneDNN costs 41-45 us on the Zen 5 VM). BF16 convolutions ~42-50 us, BF16
# linear 19-28 us (Zen 5 and Xeon VMs). An FP32 linear goes to the BLAS (oneMKL sgemm), not
# oneDNN, and its minimal call (~5 us beyond dispatch, bias and output included) is not a
# fixed cost that larger calls repeat: it is not measured (charging it made the 3-layer MLP
# 35% slower).
LIBRARY_CALLS = {
    "conv": ("Conv2d", dict(in_channels=16, out_channels=16, kernel_size=1, stride=2),
             (2, 16, 2, 2)),
    "depthwise_conv": ("Conv2d", dict(in_channels=16, out_channels=16, kernel_size=3,
                                      padding=1, groups=16), (1, 16, 4, 4)),
    "matmul": ("Linear", dict(in_features=128, out_features=128), (1, 128)),
}


def library_calls(timer: Timer, precisions: list[str], dispatch_s: float) -> tuple[dict, dict]:
    """({op class: {precision: spread of seconds beyond dispatch}}, raw timings)."""
    import torch

    from compiler.model_zoo import torch_dtype

    out: dict = {}
    raw: dict = {}
    with torch.inference_mode():
        for cls, (kind, kwargs, shape) in LIBRARY_CALLS.items():
            for precision in precisions:
                if cls == "matmul" and precision == "fp32":
                    continue
                dtype = torch_dtype(precision)
                module = getattr(torch.nn, kind)(**kwargs).eval().to(dtype)
                x = torch.randn(*shape).to(dtype)
                m = timer.measure(lambda: module(x))
                out.setdefault(cls, {})[precision] = _spread([max(0.0, t - dispatch_s) for t in m.times])
                raw.setdefault(cls, {})[precision] = {"module": f"{kind}({kwargs})",
                                                      "input": list(shape), **m.summary()}
    return out, raw


# (channels, height = width) of activations typical of the zoo's convolutions, 0.1-5 MB
REORDER_SHAPES = ((64, 56), (144, 56), (256, 28), (96, 112), (384, 14), (960, 7))


def layout_reorder(timer: Timer, precisions: list[str], dispatch_s: float) -> dict:
    """Tensor bytes per second of copies between NCHW and channels-last layouts: the median
    over shapes, directions and precisions of each case's median, net of dispatch."""
    import torch

    from compiler.model_zoo import torch_dtype

    cases = []
    with torch.inference_mode():
        for precision in precisions:
            for channels, side in REORDER_SHAPES:
                plain = torch.randn(1, channels, side, side).to(torch_dtype(precision))
                blocked = torch.empty_like(plain, memory_format=torch.channels_last)
                nbytes = plain.numel() * plain.element_size()
                for direction, dst, src in (("to_channels_last", blocked, plain),
                                            ("to_nchw", plain, blocked)):
                    m = timer.measure(lambda: dst.copy_(src))
                    cases.append({"precision": precision, "shape": [1, channels, side, side],
                                  "direction": direction, "bytes": nbytes,
                                  "bytes_per_s": _rates(m, nbytes, dispatch_s)})
    return {"bytes_per_s": _spread([c["bytes_per_s"]["median"] for c in cases]),
            "method": "dst.copy_(src) between NCHW and channels-last tensors, tensor bytes / "
                      "(time - dispatch), median of the cases' medians",
            "cases": cases}


def pin_allocator() -> str | None:
    """Make glibc malloc keep freed memory instead of returning it to the OS, so that
    repeated allocations of a benchmark's outputs reuse mapped pages (no first-touch
    faults): M_MMAP_THRESHOLD at its 32 MiB cap (fixed, no longer adaptive) and
    M_TRIM_THRESHOLD at 1 GiB. Without this, a benchmark's time depends on which
    benchmarks ran before it (glibc adapts its thresholds to what was freed). Returns a
    description, or None where glibc's mallopt is not available."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    m_trim_threshold, m_mmap_threshold = -1, -3
    if not (mallopt(m_mmap_threshold, 32 * MIB) and mallopt(m_trim_threshold, 1 << 30)):
        return None
    return ("glibc mallopt(M_MMAP_THRESHOLD=32 MiB, M_TRIM_THRESHOLD=1 GiB): outputs up to "
            "32 MiB reuse mapped memory; first-touch faults are measured separately")


def level_plan(levels: list[dict], cores: int, quick: bool) -> list[dict]:
    """Buffer sizes per memory level. `levels`: [{name, scope, capacity_bytes}] nearest
    first, as the host device lists them (the last is DRAM)."""
    plan = []
    shared_cache = 0
    private_total = 0
    for i, lvl in enumerate(levels):
        last = i == len(levels) - 1
        cap = int(lvl["capacity_bytes"])
        if last:
            size = max(4 * shared_cache, (128 if quick else 256) * MIB)
            plan.append({"name": lvl["name"], "copy_src_bytes": size, "read_bytes": size,
                         "method": "copy"})
            continue
        if lvl["scope"] == "per_unit":
            copy_src = cores * cap // 4       # src + dst = half of each core's cache
            read = cap // 2                   # every thread re-reads the same buffer
            private_total = cores * cap
        else:
            shared_cache = max(shared_cache, cap)
            copy_src = cap // 4
            read = cap // 4
        entry = {"name": lvl["name"], "copy_src_bytes": copy_src, "read_bytes": read,
                 "method": "read" if i == 0 else "copy"}
        if lvl["scope"] != "per_unit" and not quick:
            entry["sweep_src_bytes"] = sweep_sizes(max(private_total, MIB), copy_src, cap)
        plan.append(entry)
    return plan


# The largest source a shared-cache sweep copies: a 2-vCPU VM's share of its host's
# last-level cache falls to DRAM speed well before this (the Xeon VM's 480 MiB L3 at 64 MiB).
SWEEP_MAX_SRC_BYTES = 256 * MIB


def sweep_sizes(start: int, planned: int, reported: int) -> list[int]:
    """Source sizes of a shared cache's copy sweep: doubling from just past the private
    caches up to the cache's reported size (at most SWEEP_MAX_SRC_BYTES), plus the level's
    own planned copy; a doubling within 25% of the planned copy is left out.

    Why up to the reported size, not the planned copy (a quarter of it): a cache whose
    share is smaller than reported but more than a quarter of it would never show its knee.
    On the 2-vCPU EPYC VM (32 MiB L3 reported) a 2-thread re-read runs at 80-86 GB/s up to
    12 MiB, 48 GB/s at 16 MiB and 17-20 GB/s (DRAM) from 32 MiB on, while the planned copy
    stops at 8 MiB."""
    limit = max(planned, min(reported, SWEEP_MAX_SRC_BYTES))
    sizes = {planned, limit}
    size = start
    while size < limit:
        if not planned / 1.25 <= size <= planned * 1.25:
            sizes.add(size)
        size *= 2
    return sorted(s for s in sizes if s >= start or s == planned)


def effective_capacity(sweep: list[tuple[int, float]], dram_bytes_per_s: float) -> tuple[int, dict] | None:
    """(capacity, bandwidth spread) of a shared cache from copies of growing size: `sweep`
    holds (source bytes, copy bandwidth) ascending. The cache holds a copy while its
    bandwidth stays above the geometric mean of the smallest copy's and DRAM's; the capacity
    is the largest such copy's source + destination, the bandwidth the spread over them.
    None when no copy falls to DRAM's rate (the reported capacity stands) or the cache is
    no faster than DRAM. A VM's share of its host's last-level cache is smaller than the
    socket's cache the OS reports: on the 2-vCPU Xeon VM (480 MiB reported) copies ran at
    48-53 GB/s up to 32 MiB sources, 34 GB/s at 64 MiB and 25 GB/s at 120 MiB (DRAM 25.5)
    (targets/calibrations/ci-host-xeon-2core.json)."""
    if not sweep or sweep[0][1] <= dram_bytes_per_s:
        return None
    threshold = (sweep[0][1] * dram_bytes_per_s) ** 0.5
    inside = []
    for src, bw in sweep:
        if bw < threshold:
            break
        inside.append((src, bw))
    if len(inside) == len(sweep):
        return None
    return 2 * inside[-1][0], _spread([bw for _, bw in inside])


def bandwidths(timer: Timer, plan: list[dict], dispatch_s: float,
               progress: Callable[[str], None] | None = None) -> dict:
    """{level: {bytes_per_s, method, copy_bytes_per_s, read_bytes_per_s, buffers...}}."""
    import torch

    out = {}
    total_read = 256 * MIB
    for p in plan:
        if progress:
            progress(f"bandwidth {p['name']}")
        with torch.inference_mode():
            n_copy = max(1024, p["copy_src_bytes"] // 4)
            src, dst = torch.randn(n_copy), torch.empty(n_copy)
            copy = timer.measure(lambda: dst.copy_(src))
            copy_rates = _copy_rates(copy, n_copy, dispatch_s)
            # One thread's share: what a kernel the model leaves on one core can stream.
            threads = torch.get_num_threads()
            try:
                torch.set_num_threads(1)
                copy1 = timer.measure(lambda: dst.copy_(src))
            finally:
                torch.set_num_threads(threads)
            copy1_rates = _copy_rates(copy1, n_copy, dispatch_s)
            del src, dst
            n_read = max(256, p["read_bytes"] // 4)
            reps = max(1, total_read // (4 * n_read))
            buf = torch.randn(n_read)
            view = buf.expand(reps, n_read)
            read = timer.measure(lambda: view.sum())
            read_rates = _rates(read, 4 * n_read * reps)
            del buf, view
        sweep = []
        for src_bytes in p.get("sweep_src_bytes", []):
            n = max(1024, src_bytes // 4)
            if n == n_copy:      # the level's own copy, measured above
                rates = copy_rates
            else:
                with torch.inference_mode():
                    src, dst = torch.randn(n), torch.empty(n)
                    rates = _copy_rates(timer.measure(lambda: dst.copy_(src)), n, dispatch_s)
                    del src, dst
            if rates:
                sweep.append((4 * n, rates["median"]))
        if copy_rates is None:
            p = dict(p, method="read")
        chosen = read_rates if p["method"] == "read" else copy_rates
        method = ("read: x.expand(R, n).sum() re-reading an n-byte buffer held in the level"
                  if p["method"] == "read" else
                  "copy: dst.copy_(src), (read + written bytes) / (time - dispatch)")
        out[p["name"]] = {
            "bytes_per_s": chosen, "method": method,
            "copy_bytes_per_s": copy_rates, "copy_src_bytes": 4 * n_copy,
            "copy_one_thread_bytes_per_s": copy1_rates,
            "read_bytes_per_s": read_rates, "read_buffer_bytes": 4 * n_read,
            "copy_timing": copy.summary(), "read_timing": read.summary(),
        }
        if sweep:
            out[p["name"]]["sweep"] = [{"copy_src_bytes": b, "copy_bytes_per_s": bw} for b, bw in sweep]
    _apply_sweeps(out, plan)
    return out


def _apply_sweeps(out: dict, plan: list[dict]) -> None:
    """A shared cache whose copies fall to DRAM's rate before its reported size gets the
    measured capacity and the bandwidth of the copies it held (effective_capacity)."""
    dram = out.get(plan[-1]["name"], {}).get("copy_bytes_per_s") if plan else None
    if not dram:
        return
    for p in plan[:-1]:
        entry = out.get(p["name"], {})
        sweep = [(s["copy_src_bytes"], s["copy_bytes_per_s"]) for s in entry.get("sweep", [])]
        found = effective_capacity(sweep, dram["median"])
        if found is None:
            continue
        capacity, spread = found
        entry.update({
            "bytes_per_s": spread, "effective_capacity_bytes": capacity,
            "method": "copy sweep: dst.copy_(src) from past the private caches up, doubling; "
                      "(read + written bytes) / (time - dispatch) over the copies the level "
                      "held (their bandwidth above the geometric mean of the smallest copy's "
                      "and DRAM's); effective capacity = the largest such copy's src + dst"})
