"""compiler/quiet_stderr.py: Kineto's status lines are dropped, everything else on file
descriptor 2 comes back."""

from __future__ import annotations

import os

from compiler.quiet_stderr import is_chatter, without_kineto_chatter

USDT = "USDT:2026-12-02 07:33:48 11179:11179 SyncActivityProfilerHandler.cpp:39] profiler_start\n"
STAGE = "STAGE:2026-12-02 07:33:51 11184:11184 SyncActivityProfilerHandler.cpp:38] Completed Stage: Warm Up\n"
GPU = "ERROR:2026-12-02 07:33:53 11189:11189 DeviceProperties.cpp:56] gpuGetDeviceCount failed with code 35\n"


def test_kineto_status_lines_are_chatter_and_other_errors_are_not():
    assert is_chatter(USDT) and is_chatter(STAGE) and is_chatter(GPU)
    assert not is_chatter("perf-validate: resnet18 b1: import\n")
    assert not is_chatter("ERROR:2026-12-02 07:33:53 1:1 other.cpp:3] out of memory\n")


def test_the_descriptor_is_filtered_and_restored(capfd):
    with without_kineto_chatter():
        os.write(2, (USDT + "a real warning\n" + GPU).encode())
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "a real warning\nafter\n"
