"""Wall-clock timing that knows when the machine was busy.

Why: on a small machine (2 cores here) one other process halves every measurement, and a
calibration taken on a busy machine makes every later estimate wrong. So each timed sample
records two shares of the machine over its wall time:

    utilization = process CPU time / (wall time x threads)      (ours; DEPENDENCY-NOTES)
    foreign     = (CPU time the whole machine spent busy - ours) / (wall time x CPUs)

`utilization` alone cannot tell "someone else took a core" from "this op runs on one
thread", so a sample is *busy*, and redone, when `foreign` exceeds a threshold (other
processes, or steal time of the hypervisor, took that share of the machine). The foreign
share comes from /proc/stat (jiffies, 10 ms ticks): samples shorter than ~30 ms read it
coarsely, which is why samples repeat an op until they last `min_time_s`.

A VM's neighbours are invisible to /proc/stat: a tenant on the sibling hyperthread of our
vCPU's core slows every throughput-bound kernel by 20-30 % for seconds at a time, with no
steal time reported (seen on this 2-vCPU machine: a 512^3 GEMM at 1.53 ms, in episodes
1.8-1.9 ms). So a `SpeedProbe` times a small fixed GEMM before and after each sample; a
sample whose probe runs more than `max_slowdown` above the quiet machine's probe time (a low
percentile of all probes) is busy too.

Plain Python plus the standard library; the callables timed may use torch (the GEMM
probe imports it lazily).
"""

from __future__ import annotations

import bisect
import math
import os
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

# A sample whose other-process share of the machine exceeds this is busy and redone.
DEFAULT_MAX_FOREIGN = 0.10
# ... and so is one during which the reference GEMM ran this much slower than its best.
DEFAULT_MAX_SLOWDOWN = 1.10
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_seconds() -> float | None:
    """CPU-seconds the whole machine has spent not idle since boot (all CPUs), from
    /proc/stat: user + nice + system + irq + softirq + steal. None off Linux."""
    try:
        with open("/proc/stat") as stream:
            fields = stream.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(v) for v in fields[1:]]
    values += [0] * (8 - len(values))
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


def _minor_faults() -> int:
    """Minor page faults of this process so far: each is a first touch of a page the
    allocator just mapped (a fresh mmap for a large tensor), about a microsecond each."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def online_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Sample:
    """One timed block of `iterations` calls."""

    seconds: float          # per call
    wall_s: float           # of the whole block
    cpu_s: float            # process CPU time of the block
    utilization: float      # cpu_s / (wall_s x threads)
    foreign: float          # other processes' share of the machine during the block
    iterations: int
    page_faults: float = 0.0  # minor page faults per call (first touch of fresh memory)
    slowdown: float = 1.0     # reference GEMM time around the sample / its best time

    def busy(self, max_foreign: float, max_slowdown: float = float("inf")) -> bool:
        return self.foreign > max_foreign or self.slowdown > max_slowdown


@dataclass
class Measurement:
    """The accepted samples of one benchmark, plus how many busy ones were redone."""

    samples: list[Sample]
    rejected: int = 0
    busy: bool = False       # True when no quiet sample could be had after all retries
    threads: int = 1

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def median_s(self) -> float:
        return statistics.median(self.times)

    @property
    def min_s(self) -> float:
        return min(self.times)

    @property
    def max_s(self) -> float:
        return max(self.times)

    @property
    def utilization(self) -> float:
        return statistics.median(s.utilization for s in self.samples)

    @property
    def foreign(self) -> float:
        return max(s.foreign for s in self.samples)

    @property
    def page_faults(self) -> float:
        return statistics.median(s.page_faults for s in self.samples)

    @property
    def slowdown(self) -> float:
        return max(s.slowdown for s in self.samples)

    def summary(self) -> dict:
        return {"median_s": self.median_s, "min_s": self.min_s, "max_s": self.max_s,
                "repeats": len(self.samples), "iterations": self.samples[0].iterations,
                "cpu_utilization": round(self.utilization, 4),
                "foreign_load": round(self.foreign, 4), "rejected_busy": self.rejected,
                "page_faults_per_call": round(self.page_faults, 1),
                "reference_slowdown": round(self.slowdown, 3),
                "busy": self.busy}


@dataclass
class Timer:
    """Times callables: warm-up, then `repeats` samples of at least `min_time_s` each,
    redoing busy samples up to `max_attempts` times the repeats."""

    threads: int
    repeats: int = 5
    min_time_s: float = 0.05
    warmup: int = 2
    max_foreign: float = DEFAULT_MAX_FOREIGN
    max_attempts: int = 3
    cpus: int = field(default_factory=online_cpus)
    clock: Callable[[], float] = time.perf_counter
    probe: "SpeedProbe | None" = None
    max_slowdown: float = DEFAULT_MAX_SLOWDOWN

    def sample(self, fn: Callable[[], object], iterations: int) -> Sample:
        faults0 = _minor_faults()
        busy0, cpu0, t0 = machine_busy_seconds(), time.process_time(), self.clock()
        for _ in range(iterations):
            fn()
        t1, cpu1, busy1 = self.clock(), time.process_time(), machine_busy_seconds()
        faults = (_minor_faults() - faults0) / iterations
        wall, cpu = max(t1 - t0, 1e-9), cpu1 - cpu0
        foreign = 0.0
        if busy0 is not None and busy1 is not None:
            # One tick per CPU of rounding in the jiffy counters is not load.
            slack = 1.0 / _CLK_TCK
            foreign = max(0.0, (busy1 - busy0) - cpu - slack) / (wall * self.cpus)
        after = self.probe.slowdown() if self.probe else 1.0
        return Sample(wall / iterations, wall, cpu, cpu / (wall * max(1, self.threads)),
                      min(1.0, foreign), iterations, faults, after)

    def iterations_for(self, fn: Callable[[], object]) -> int:
        """Calls per sample so that a sample lasts about min_time_s."""
        start = self.clock()
        fn()
        once = self.clock() - start
        if once >= self.min_time_s:
            return 1
        # A second estimate over a few calls: the first call after warm-up can be slow.
        n = max(1, min(1000, int(0.01 / max(once, 1e-7))))
        start = self.clock()
        for _ in range(n):
            fn()
        per = max((self.clock() - start) / n, 1e-8)
        return max(1, math.ceil(self.min_time_s / per))

    def measure(self, fn: Callable[[], object], iterations: int | None = None) -> Measurement:
        for _ in range(self.warmup):
            fn()
        iterations = iterations or self.iterations_for(fn)
        accepted: list[Sample] = []
        rejected: list[Sample] = []
        attempts = 0
        while len(accepted) < self.repeats and attempts < self.repeats * self.max_attempts:
            attempts += 1
            s = self.sample(fn, iterations)
            (rejected if s.busy(self.max_foreign, self.max_slowdown) else accepted).append(s)
        busy_seen = len(rejected)
        busy = False
        if len(accepted) < self.repeats:
            # Never got enough quiet samples: keep the least busy ones and say so.
            busy = True
            rejected.sort(key=lambda s: (s.slowdown > self.max_slowdown, s.foreign, s.slowdown))
            accepted += rejected[:self.repeats - len(accepted)]
        return Measurement(accepted, rejected=busy_seen, busy=busy, threads=self.threads)


class SpeedProbe:
    """A fixed GEMM (512^3 FP32, about 1.5 ms on a 2-core Zen 3 VM when the host is quiet)
    timed as the median of a few calls after one warm-up call; `slowdown()` is its time now
    over the quiet machine's time, `best`.

    `best` is the 10th percentile of every probe so far (seeded by a parent's `best`), not
    the minimum: on a VM, turbo and cache luck give rare fast outliers (a 2-core Xeon VM
    measured best 0.75 ms, 10th percentile 0.87 ms, median 0.92 ms over 4330 calls with no
    other process running), and a minimum would call the quiet machine busy forever."""

    QUANTILE = 0.10
    MIN_HISTORY = 10

    def __init__(self, size: int = 512, calls: int = 3, best: float | None = None,
                 settle: int = 10):
        import torch

        self._a, self._b = torch.randn(size, size), torch.randn(size, size)
        self._mm, self.calls = torch.mm, calls
        self._history = [best] if best else []   # kept sorted
        self.best = best or float("inf")
        for _ in range(settle):  # warm up, and find the quiet machine's time
            self.time()

    def time(self) -> float:
        self._mm(self._a, self._b)  # warm: caches and the thread pool
        times = []
        for _ in range(self.calls):
            t0 = time.perf_counter()
            self._mm(self._a, self._b)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        self.record(t)
        return t

    def record(self, t: float) -> None:
        bisect.insort(self._history, t)
        rank = int(self.QUANTILE * (len(self._history) - 1)) \
            if len(self._history) >= self.MIN_HISTORY else 0
        self.best = self._history[rank]

    def slowdown(self) -> float:
        return self.time() / self.best


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def wait_until_quiet(max_foreign: float = DEFAULT_MAX_FOREIGN, window_s: float = 1.0,
                     timeout_s: float = 60.0, report: Callable[[str], None] | None = None,
                     probe: SpeedProbe | None = None,
                     max_slowdown: float = DEFAULT_MAX_SLOWDOWN) -> float:
    """Sleep-sample the machine until other processes use at most `max_foreign` of it over
    `window_s` and, with a probe, the reference GEMM runs within `max_slowdown` of its best
    (or `timeout_s` passes). Returns the last foreign share seen."""
    cpus = online_cpus()
    deadline = time.monotonic() + timeout_s
    share = 0.0
    while True:
        b0, c0, t0 = machine_busy_seconds(), time.process_time(), time.perf_counter()
        time.sleep(window_s)
        b1, c1, t1 = machine_busy_seconds(), time.process_time(), time.perf_counter()
        if b0 is None or b1 is None:
            return 0.0
        share = max(0.0, (b1 - b0) - (c1 - c0)) / ((t1 - t0) * cpus)
        slow = probe.slowdown() if probe and share <= max_foreign else 1.0
        if (share <= max_foreign and slow <= max_slowdown) or time.monotonic() >= deadline:
            return share
        if report:
            report(f"machine busy ({share:.0%} of it used by other processes, reference GEMM "
                   f"x{slow:.2f} its best); waiting")


def quiet_profiles(call: Callable[[], Any], runs: int, max_foreign: float = DEFAULT_MAX_FOREIGN,
                   record_shapes: bool = False):
    """Yield (torch.profiler profile, wall seconds of `call`) for `runs` profiled calls
    during which other processes used at most `max_foreign` of the machine; a disturbed
    call is redone (up to 3 x runs times, then kept)."""
    from torch.profiler import ProfilerActivity, profile

    from compiler.quiet_stderr import without_kineto_chatter

    kept = attempts = 0
    while kept < runs and attempts < 4 * runs:
        attempts += 1
        b0, c0, t0 = machine_busy_seconds(), time.process_time(), time.perf_counter()
        with without_kineto_chatter(), profile(activities=[ProfilerActivity.CPU],
                                                  record_shapes=record_shapes) as prof:
            start = time.perf_counter()
            call()
            wall = time.perf_counter() - start
        b1, c1, t1 = machine_busy_seconds(), time.process_time(), time.perf_counter()
        if b0 is not None and b1 is not None and attempts <= 3 * runs:
            foreign = max(0.0, (b1 - b0) - (c1 - c0) - 0.01) / ((t1 - t0) * online_cpus())
            if foreign > max_foreign:
                continue
        kept += 1
        yield prof, wall
