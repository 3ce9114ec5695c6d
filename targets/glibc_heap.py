"""Which bytes of an eager CPU model's tensors the OS must fault in afresh on every run.

Why: PyTorch allocates CPU tensors with posix_memalign (c10/core/impl/alloc_cpu.cpp), so
glibc malloc decides whether an output lands on pages that are already resident or on
fresh ones that the kernel faults in and zeroes on first write (a few GB/s, as slow as
DRAM traffic; perf-calibrate's `first_touch` measures the rate). Measured on the test
machine, eager MobileNet-V2 at batch 8 faults in ~320 MB per run, mostly in tensors far
below the 32 MiB ceiling of the mmap threshold: the heap is trimmed and regrown.

The simulation follows glibc's main arena (malloc/malloc.c, and mallopt(3) for the
defaults), at the granularity that decides residency:
  - a request takes the best-fitting free chunk (glibc's large bins are searched
    smallest-first) or else the top chunk, whatever its size (_int_malloc tries both before
    sysmalloc; a malloc trace shows a 38.5 MB tensor served from a large heap top);
  - only when neither holds it does sysmalloc act: a request of at least the mmap
    threshold gets its own mmap, every page fresh; its free() unmaps it and, if it was
    larger than the threshold and at most DEFAULT_MMAP_THRESHOLD_MAX (4 MiB x
    sizeof(long) = 32 MiB), raises the threshold to its size and the trim threshold to
    twice that (the "dynamic mmap threshold"); a smaller one makes sbrk extend the top by
    the shortfall plus M_TOP_PAD (128 KiB): extended pages are fresh;
  - free() coalesces with free neighbours; when the chunk at the top of the heap reaches
    the trim threshold, systrim returns all but M_TOP_PAD of it to the OS, so the next
    growth faults those pages in again.
Chunk headers, alignment slack, small-request bins and arenas of other threads are
left out (tensors are kilobytes to megabytes; PyTorch's eager ops allocate on the calling
thread). The slack is not always below the resolution: posix_memalign with c10's 64-byte
alignment asks _int_malloc for the chunk plus the alignment plus MINSIZE (_int_memalign,
glibc 2.36), so a freed tensor's chunk is 96 bytes short for the next tensor of its size
(bench/malloc_trace.py efficientnet_b0 8 bf16 --compile: a 7.225 MB block freed, the next
7.225 MB request served from a regrown top, 1763 pages faulted by the depthwise convolution
writing it). Modelling that alone was tried (2026-12-04) and not kept: over six stored
full-zoo runs the simulated faults moved closer for eager rows (mean |simulated - counted|
25.7 -> 21.5 MB) but further for compiled ones (5.6 -> 8.0 MB), and the latency MAPE of
eight stored runs rose 0.2 points on average (11.6 -> 11.8%), because the lead chunk glibc splits off in front of an aligned block
sits in the tcache, in use as far as coalescing goes, and keeps freed neighbours apart
(resnet18 b1 FP32 compiled: two freed 4.7 MB blocks side by side not merged, the heap not
trimmed), which the slack alone does not capture. Temporaries inside ops are invisible to the graph; the
caller lists each step's allocator calls in order, temporaries included
(passes/liveness.allocator_calls: oneDNN's blocked copies around a convolution, max
pooling's indices), so that what an op frees before allocating its output is reused.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

PAGE = 4096
MMAP_THRESHOLD = 128 * 1024                 # DEFAULT_MMAP_THRESHOLD (mallopt(3))
TRIM_THRESHOLD = 128 * 1024                 # DEFAULT_TRIM_THRESHOLD (mallopt(3))
TOP_PAD = 128 * 1024                        # M_TOP_PAD default (mallopt(3))
MMAP_THRESHOLD_MAX = 4 * 1024 * 1024 * 8    # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
PINNED_TRIM_THRESHOLD = 1 << 30             # what compiler/calibrate/memory.pin_allocator sets
ALIGN = 64                                  # c10's gAlignment for posix_memalign
HEADER = 16                                 # a chunk's size field and the one before it


def _round(n: int, to: int) -> int:
    return -(-n // to) * to


@dataclass
class MainArena:
    """glibc's main arena, tracking only which heap bytes are resident."""

    mmap_threshold: int = MMAP_THRESHOLD
    trim_threshold: int = TRIM_THRESHOLD
    dynamic: bool = True          # False once mallopt set the thresholds (glibc stops adapting)
    top: int = 0                  # start of the top chunk (heap break is `end`)
    end: int = 0
    resident_end: int = 0         # heap pages below this are resident (touched, not trimmed)
    free_chunks: list[tuple[int, int]] = field(default_factory=list)  # sorted (start, size)
    blocks: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # id -> kind, start, size
    _next: int = 0

    def malloc(self, nbytes: int) -> tuple[int, int]:
        """(handle, bytes the OS faults in when the block is first written)."""
        size = _round(max(nbytes, 1), ALIGN)
        handle, self._next = self._next, self._next + 1
        start = self._best_fit(size)
        if start is None and size >= self.mmap_threshold and self.end - self.top < size:
            # only when neither a free chunk nor the top chunk holds the request does
            # sysmalloc map it; an mmapped chunk is the request plus its header, in whole
            # pages; free() sets the threshold to that chunk size, so the same request
            # next time is below it
            chunk = _round(size + HEADER, PAGE)
            self.blocks[handle] = ("mmap", 0, chunk)
            return handle, chunk
        if start is None:
            start = self.top
            if self.end - self.top < size:      # sbrk: the shortfall plus the top pad
                self.end = _round(self.top + size + TOP_PAD, PAGE)
            self.top += size
        self.blocks[handle] = ("heap", start, size)
        fresh = max(0, start + size - max(start, self.resident_end))
        fresh = _round(fresh, PAGE) if fresh else 0
        self.resident_end = max(self.resident_end, start + size)
        return handle, fresh

    def free(self, handle: int) -> None:
        kind, start, size = self.blocks.pop(handle)
        if kind == "mmap":
            if self.dynamic and self.mmap_threshold < size <= MMAP_THRESHOLD_MAX:
                self.mmap_threshold, self.trim_threshold = size, 2 * size
            return
        start, size = self._coalesce(start, size)
        if start + size == self.top:             # merges into the top chunk
            self.top = start
            if self.end - self.top >= self.trim_threshold:
                self.end = max(self.top, _round(self.top + TOP_PAD, PAGE))
                self.resident_end = min(self.resident_end, self.end)
        else:
            bisect.insort(self.free_chunks, (start, size))

    def _best_fit(self, size: int) -> int | None:
        best = None
        for i, (start, have) in enumerate(self.free_chunks):
            if have >= size and (best is None or have < self.free_chunks[best][1]):
                best = i
        if best is None:
            return None
        start, have = self.free_chunks.pop(best)
        if have > size:
            bisect.insort(self.free_chunks, (start + size, have - size))
        return start

    def _coalesce(self, start: int, size: int) -> tuple[int, int]:
        i = bisect.bisect_left(self.free_chunks, (start, 0))
        if i < len(self.free_chunks) and self.free_chunks[i][0] == start + size:
            size += self.free_chunks.pop(i)[1]
        if i > 0 and sum(self.free_chunks[i - 1]) == start:
            prev_start, prev_size = self.free_chunks.pop(i - 1)
            start, size = prev_start, prev_size + size
        return start, size


# One step's allocator calls, in order: ("alloc", key, bytes) or ("free", key). Keys name
# the model's tensors (freed by later steps) and the step's own temporaries.
Event = tuple


def fresh_bytes_per_step(schedule: list[list[Event]],
                         weights: list[tuple[int, int]] = (), inputs: list[int] = (),
                         runs: int = 3, pinned: bool = False) -> list[int]:
    """Bytes faulted in at each step of the steady-state run of `schedule`
    (fresh_bytes_per_alloc, summed over each step's allocations)."""
    return [sum(step.values()) for step in fresh_bytes_per_alloc(schedule, weights, inputs,
                                                                 runs, pinned)]


def fresh_bytes_per_alloc(schedule: list[list[Event]],
                          weights: list[tuple[int, int]] = (), inputs: list[int] = (),
                          runs: int = 3, pinned: bool = False) -> list[dict[object, int]]:
    """Bytes faulted in by each allocation of each step of the steady-state run of
    `schedule`, keyed by the allocation's key (those that fault nothing left out).

    `schedule` holds, per step (kernel), its allocator calls in order (`Event`; a key freed
    that the run never allocated, such as a model input, is ignored). Before the first run
    the model is built as PyTorch builds
    it: each weight is created in FP32 (`weights` holds (built bytes, run bytes)) and, when
    the run precision differs, `module.to(dtype)` replaces it parameter by parameter (the
    copy allocated, the original freed). This history matters: freeing a converted weight
    that was mmapped raises the mmap threshold before any activation is allocated. The
    `inputs` stay allocated. The schedule is then replayed `runs` times in one arena, as a
    benchmark loop or a server does; the last run is the steady state.

    `pinned` sets the thresholds as `perf-validate --pin-allocator` does with mallopt:
    M_MMAP_THRESHOLD at its 32 MiB ceiling and M_TRIM_THRESHOLD at 1 GiB, both fixed, so
    the heap keeps what it got and only blocks of 32 MiB and more are mmapped each time.
    """
    arena = MainArena(mmap_threshold=MMAP_THRESHOLD_MAX, trim_threshold=PINNED_TRIM_THRESHOLD,
                      dynamic=False) if pinned else MainArena()
    built = [arena.malloc(nbytes)[0] for nbytes, _ in weights]
    for handle, (nbytes, run_bytes) in zip(built, weights):
        if run_bytes != nbytes:
            arena.malloc(run_bytes)
            arena.free(handle)
    for nbytes in inputs:
        arena.malloc(nbytes)
    fresh: list[dict[object, int]] = []
    for _ in range(runs):
        fresh = []
        handles: dict[object, int] = {}
        for events in schedule:
            step: dict[object, int] = {}
            for event in events:
                if event[0] == "alloc":
                    handles[event[1]], faulted = arena.malloc(event[2])
                    if faulted:
                        step[event[1]] = step.get(event[1], 0) + faulted
                elif event[1] in handles:
                    arena.free(handles.pop(event[1]))
            fresh.append(step)
        for handle in handles.values():   # the run's outputs, dropped by the caller
            arena.free(handle)
    return fresh
