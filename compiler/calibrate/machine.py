"""Who was measured: machine identity, software versions, and the clock the cores run at.

Why the clock: the host device's peaks are cores x lanes x FMA pipes x 2 x clock, and the
clock comes from cpufreq or, in a VM, from /proc/cpuinfo's "cpu MHz", which is the
nominal (TSC) rate, not the boost clock the cores actually run at. A peak computed from
the wrong clock makes every fraction of peak wrong by the same factor, and can even put a
measured GEMM above "peak". So the clock is measured: a chain of dependent integer adds
retires one add per cycle on every current x86 and Arm core (latency 1), so adds / second
is the clock. The added value is a register, not an immediate: newer Intel cores fold an
add of an immediate in the renamer, off the critical path (on this project's Xeon VM
`add $1` chains ran at 15.9 G/s, `add reg` chains at 3.37 G/s and a 3-cycle `imul` chain
at 1.12 G/s, i.e. the same 3.36 GHz). The loop is a few lines of C compiled with the
system's C compiler; without one the clock is not measured (and the reported clock stays).
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ADDS_PER_ITERATION = 8
_C_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000000L;
  unsigned long x = 1, one = argc > 0;  /* 1, in a register the compiler cannot fold */
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    __asm__ volatile(ADD ADD ADD ADD ADD ADD ADD ADD : "+r"(x) : "r"(one));
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double t = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
  printf("%.1f %lu\n", 8.0 * n / t, x);
  return 0;
}
"""
_ADD = {"x86_64": r'"add %1, %0\n\t"', "aarch64": r'"add %0, %0, %1\n\t"'}


def measure_clock(cpus: int, repeats: int = 3, iterations: int = 150_000_000) -> dict | None:
    """{"measured_hz": {min, median, max}, "method": ...} with one loop per CPU running at
    once (the all-core clock), or None without a C compiler or on another architecture."""
    arch = platform.machine()
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if arch not in _ADD or compiler is None:
        return None
    with tempfile.TemporaryDirectory(prefix="perf-calibrate-") as tmp:
        src, exe = Path(tmp) / "clock.c", Path(tmp) / "clock"
        src.write_text(f"#define ADD {_ADD[arch]}\n" + _C_SOURCE)
        built = subprocess.run([compiler, "-O1", "-o", str(exe), str(src)],
                               capture_output=True, text=True)
        if built.returncode != 0:
            return None
        rates: list[float] = []
        for _ in range(repeats):
            procs = [subprocess.Popen([str(exe), str(iterations)], stdout=subprocess.PIPE, text=True)
                     for _ in range(cpus)]
            for p in procs:
                out, _ = p.communicate()
                try:
                    rates.append(float(out.split()[0]))
                except (IndexError, ValueError):
                    return None
    rates.sort()
    return {"measured_hz": {"min": rates[0], "median": statistics.median(rates), "max": rates[-1]},
            "method": f"dependent 64-bit register-register integer adds (latency 1 cycle), "
                      f"{ADDS_PER_ITERATION} per loop iteration, one process per CPU ({cpus}) at "
                      f"once, {repeats} repeats; compiled with {Path(compiler).name} -O1"}


def identity(info, threads: int) -> dict:
    """The machine as the calibration file records it (`info` is targets.host.HostInfo)."""
    from targets.host import isa_summary

    f = info.flags
    return {
        "cpu_model": info.model_name, "arch": info.arch, "vendor": info.vendor,
        "cpu_family": info.cpu_family,
        "physical_cores": info.physical_cores, "logical_cpus": info.logical_cpus,
        "threads_used": threads, "clock_hz_reported": info.clock_hz,
        "clock_source": info.clock_source,
        "hypervisor": "hypervisor" in f,
        "flags": isa_summary(f),
        "caches": [{"level": c.level, "size_bytes": c.size_bytes, "sharing_cpus": c.sharing_cpus,
                    "instances": c.instances} for c in info.caches],
        "memory_bytes": info.mem_total_bytes,
        "hostname": platform.node(),
    }


# isa_summary()'s flag names -> the /proc/cpuinfo flags they stand for (targets.host reads these)
_CPUINFO_FLAGS = {"amx": ("amx_tile", "amx_bf16", "amx_int8"), "neon": ("asimd",)}


def host_info(machine: dict):
    """The targets.host.HostInfo that `identity` recorded, so a stored run can be re-estimated
    for the machine it was measured on rather than the one re-scoring it."""
    from targets.host import CacheInfo, HostInfo, cpu_vendor

    flags = {name for key, on in machine["flags"].items() if on
             for name in _CPUINFO_FLAGS.get(key, (key,))}
    if machine.get("hypervisor"):
        flags.add("hypervisor")
    return HostInfo(
        model_name=machine["cpu_model"], arch=machine["arch"], flags=frozenset(flags),
        logical_cpus=machine["logical_cpus"], physical_cores=machine["physical_cores"],
        clock_hz=machine["clock_hz_reported"], clock_source=machine["clock_source"],
        caches=tuple(CacheInfo(**c) for c in machine["caches"]),
        mem_total_bytes=machine["memory_bytes"],
        # files written before the vendor was recorded name it in the model name
        vendor=machine.get("vendor") or cpu_vendor("", machine["cpu_model"]),
        cpu_family=machine.get("cpu_family", 0))


def recorded_host(machine: dict):
    """The `device=host` Device of the machine a calibration recorded (built from its
    identity, not probed), so a refit on another machine fits for the one measured."""
    from targets.catalog import select_power_mode
    from targets.host import build_host_device

    return select_power_mode(build_host_device(host_info(machine)), None)


def software() -> dict:
    import torch

    try:
        from importlib.metadata import version
        perf_opt = version("perf-opt")
    except Exception:  # not installed as a distribution
        perf_opt = "unknown"
    try:
        import torchvision
        tv = torchvision.__version__
    except Exception:
        tv = None
    return {
        "python": platform.python_version(), "torch": torch.__version__, "torchvision": tv,
        "perf_opt": perf_opt, "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "executable": sys.executable,
    }


def bf16_supported(info) -> bool:
    """bf16 is worth calibrating where the CPU computes it natively."""
    return bool({"avx512_bf16", "amx_bf16"} & info.flags)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def default_name(info) -> str:
    arch = "host" if info.arch in ("x86_64", "aarch64") else info.arch
    return f"{os.environ.get('PERF_OPT_MACHINE', 'ci-' + arch)}-{info.physical_cores}core"
