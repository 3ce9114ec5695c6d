"""Keep a C++ library's progress chatter off the user's terminal.

Why: torch.profiler's Kineto backend writes a `USDT: ... profiler_start` / `profiler_stop` pair
(and, on a machine without a GPU, `gpuGetDeviceCount failed`) straight to file descriptor 2
for every profiled run; `perf-validate --per-op` profiles several runs, and those lines buried
its own progress and errors. No environment variable turns them off (KINETO_LOG_LEVEL does not
cover USDT lines), so the descriptor is redirected while the library runs and everything that
is not such chatter is written back.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

# Kineto's own status lines: "USDT:<date> <pid>:<tid> <file>:<line>] ...", "STAGE:..." and the
# GPU probe's error on a machine without one.
KINETO_CHATTER = re.compile(r"^(USDT|STAGE):\S+ \S+ \d+:\d+ \S+\] |"
                            r"^ERROR:\S+ \S+ \d+:\d+ DeviceProperties\.cpp:\d+\] gpuGetDeviceCount")


def is_chatter(line: str) -> bool:
    return bool(KINETO_CHATTER.match(line))


@contextlib.contextmanager
def without_kineto_chatter():
    """Run the body with file descriptor 2 captured; afterwards write back to stderr every
    captured line that is not Kineto chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode(errors="replace").splitlines(True)
                    if not is_chatter(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
