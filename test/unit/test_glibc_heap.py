"""targets/glibc_heap.py against glibc's documented malloc behaviour, hand-computed."""

from __future__ import annotations

from targets.glibc_heap import (
    HEADER, MMAP_THRESHOLD, MMAP_THRESHOLD_MAX, PAGE, TOP_PAD, MainArena, fresh_bytes_per_step,
)

MIB = 1024 * 1024


def mapped(nbytes: int) -> int:
    """An mmapped chunk: the request and its header in whole pages."""
    return -(-(nbytes + HEADER) // PAGE) * PAGE


def events(steps):
    """(allocs, frees, scratch) per step as allocator calls: the outputs, then scratch
    buffers freed in reverse while the kernel runs, then the frees of dead tensors."""
    out = []
    for allocs, frees, scratch in steps:
        temporaries = [(object(), n) for n in scratch]
        out.append([("alloc", key, n) for key, n in allocs + temporaries]
                   + [("free", key) for key, _ in reversed(temporaries)]
                   + [("free", key) for key in frees])
    return out


def test_the_order_of_a_steps_calls_decides_what_is_reused():
    # The first run mmaps a 6 MiB block and frees it: the threshold rises to its 6 MiB + 1
    # page and the trim threshold to twice that, so later runs use the heap.
    # A temporary freed before the output is allocated hands its pages to the output: at
    # most 6 MiB live, the heap top never reaches the trim threshold, nothing faults.
    reuse = [[("alloc", "t", 6 * MIB), ("free", "t"), ("alloc", "y", 6 * MIB), ("free", "y")]]
    assert fresh_bytes_per_step(reuse) == [0]
    # Both live at once: 12 MiB + the top pad freed at the top exceeds 2 x (6 MiB + 1 page),
    # so every run trims the heap and faults both in again (all but the pad it keeps).
    both = [[("alloc", "y", 6 * MIB), ("alloc", "t", 6 * MIB), ("free", "t"), ("free", "y")]]
    assert fresh_bytes_per_step(both) == [12 * MIB - TOP_PAD]


def test_a_block_above_the_threshold_is_mmapped_and_raises_the_threshold_when_freed():
    arena = MainArena()
    block, fresh = arena.malloc(4 * MIB)
    assert fresh == mapped(4 * MIB) == 4 * MIB + PAGE   # a fresh mapping: every page faults
    arena.free(block)
    assert (arena.mmap_threshold, arena.trim_threshold) == (mapped(4 * MIB), 2 * mapped(4 * MIB))
    again, fresh = arena.malloc(4 * MIB)         # now below the threshold: the heap
    assert arena.blocks[again][0] == "heap" and fresh == 4 * MIB   # sbrk'd pages, new
    arena.free(again)                            # top = 4 MiB + pad < 8 MiB: not trimmed
    _, fresh = arena.malloc(4 * MIB)
    assert fresh == 0                            # resident pages reused


def test_the_heap_top_is_trimmed_at_the_trim_threshold_and_regrown_fresh():
    arena = MainArena()
    arena.free(arena.malloc(4 * MIB)[0])         # threshold ~4 MiB, trim threshold ~8 MiB
    a, _ = arena.malloc(4 * MIB)
    b, _ = arena.malloc(4 * MIB)
    c, _ = arena.malloc(4 * MIB)
    arena.free(a)                                # not at the top: a free chunk, resident
    arena.free(c)                                # top = 4 MiB + pad: below the threshold
    assert arena.end - arena.top > TOP_PAD
    arena.free(b)                                # a, b and c merge into top: trimmed
    assert arena.end - arena.top <= TOP_PAD + PAGE
    _, fresh = arena.malloc(4 * MIB)
    assert fresh == 4 * MIB - TOP_PAD            # the trimmed pages fault in again


def test_blocks_above_the_threshold_ceiling_are_always_mmapped():
    arena = MainArena()
    for _ in range(3):
        block, fresh = arena.malloc(40 * MIB)
        assert fresh == mapped(40 * MIB) and arena.blocks[block][0] == "mmap"
        arena.free(block)
    assert arena.mmap_threshold == MMAP_THRESHOLD < MMAP_THRESHOLD_MAX


def test_a_freed_chunk_in_the_middle_is_reused_best_fit():
    arena = MainArena()
    arena.free(arena.malloc(2 * MIB)[0])         # threshold 2 MiB
    small, _ = arena.malloc(1 * MIB)
    pin, _ = arena.malloc(64 * 1024)             # keeps `small` off the top
    arena.free(small)
    again, fresh = arena.malloc(1 * MIB)
    assert fresh == 0 and arena.blocks[again][1] == 0
    assert pin in arena.blocks


def test_a_run_whose_heap_stays_below_the_trim_threshold_faults_nothing():
    # each step allocates 1 MiB and frees the previous step's buffer: at most 2 MiB live;
    # a 4 MiB scratch in the first step sets the trim threshold to ~8 MiB
    steps = [([(i, MIB)], [i - 1] if i else [], [4 * MIB] if i == 0 else []) for i in range(10)]
    assert fresh_bytes_per_step(events(steps)) == [0] * 10
    # without it the threshold is ~2 MiB: the 2 MiB freed at the end of a run are trimmed
    # and the next run faults them in again
    bare = [(allocs, frees, []) for allocs, frees, _ in steps]
    assert sum(fresh_bytes_per_step(events(bare))) == 2 * MIB - TOP_PAD


def test_a_run_that_frees_more_than_the_trim_threshold_regrows_its_heap_every_run():
    # three 1 MiB buffers live at once: freed at the end, the top reaches 3 MiB + pad,
    # above the ~2 MiB trim threshold, so each run faults them in again (but the pad)
    steps = [([("a", MIB)], [], []), ([("b", MIB)], [], []), ([("c", MIB)], ["a", "b", "c"], [])]
    assert sum(fresh_bytes_per_step(events(steps))) == 3 * MIB - TOP_PAD


def test_buffers_above_32_mib_fault_every_run():
    steps = [([("a", 40 * MIB)], [], []), ([("b", MIB)], ["a"], []), ([], ["b"], [])]
    assert fresh_bytes_per_step(events(steps)) == [mapped(40 * MIB), 0, 0]


def test_scratch_buffers_raise_the_threshold_and_are_freed_within_the_step():
    # a 9 MiB scratch (a oneDNN weight reorder) leaves the threshold at 9 MiB, so the
    # 6 MiB activations of later runs stay on resident heap pages
    steps = [([("x", 6 * MIB)], [], [9 * MIB]), ([("y", 6 * MIB)], ["x", "y"], [])]
    assert fresh_bytes_per_step(events(steps)) == [0, 0]


def test_casting_the_weights_raises_the_threshold_before_the_first_run():
    # one 9 MiB FP32 weight cast to BF16 (4.5 MiB): freeing the mmapped original sets the
    # threshold to 9 MiB, so a 6 MiB activation comes from the heap and is resident
    steps = [([("x", 6 * MIB)], ["x"], [])]
    assert fresh_bytes_per_step(events(steps), weights=[(9 * MIB, 9 * MIB // 2)]) == [0]
    # without the cast the threshold starts at 128 KiB: the first run mmaps x, raises the
    # threshold to 6 MiB, and later runs reuse the heap
    assert fresh_bytes_per_step(events(steps), weights=[(9 * MIB, 9 * MIB)]) == [0]
    # an activation larger than the weight: mmapped once, then on the heap
    big = [([("y", 12 * MIB)], ["y"], [])]
    assert fresh_bytes_per_step(events(big), weights=[(9 * MIB, 9 * MIB // 2)], runs=1) == [mapped(12 * MIB)]


def test_pinned_thresholds_keep_the_heap_and_mmap_only_blocks_of_32_mib_and_more():
    # perf-validate --pin-allocator: M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 1 GiB, fixed.
    # The first run mmaps a; b and c grow the heap to 40 MiB, which is never trimmed, so
    # from the second run on a fits in the free top chunk: nothing faults.
    steps = [([("a", 40 * MIB)], [], []), ([("b", 20 * MIB)], ["a"], []),
             ([("c", 20 * MIB)], ["b", "c"], [])]
    assert fresh_bytes_per_step(events(steps), pinned=True) == [0, 0, 0]
    assert fresh_bytes_per_step(events(steps), pinned=True, runs=1)[0] == mapped(40 * MIB)
    # two 40 MiB blocks alive at once never find the heap large enough: mapped every run
    two = [([("a", 40 * MIB)], [], []), ([("d", 40 * MIB)], ["a", "d"], [])]
    assert fresh_bytes_per_step(events(two), pinned=True) == [mapped(40 * MIB)] * 2
    assert sum(fresh_bytes_per_step(events(steps))) > mapped(40 * MIB)
