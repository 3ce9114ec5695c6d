"""compiler/calibrate/timing.py: the busy-machine detector's reference GEMM time."""

from __future__ import annotations

import pytest

from compiler.calibrate.timing import SpeedProbe


@pytest.fixture
def probe():
    return SpeedProbe(size=8, settle=0)


def test_one_lucky_probe_does_not_make_the_quiet_machine_look_busy(probe):
    probe.record(0.5e-3)                          # a turbo/cache outlier
    for _ in range(40):
        probe.record(1.0e-3)                      # the quiet machine
    assert probe.best == pytest.approx(1.0e-3)
    assert 1.0e-3 / probe.best < 1.10             # not busy


def test_reference_is_the_minimum_until_there_is_history(probe):
    for t in (3e-3, 2e-3, 4e-3):
        probe.record(t)
    assert probe.best == 2e-3


def test_reference_is_a_low_percentile(probe):
    for i in range(100):
        probe.record((100 + i) * 1e-5)            # 1.00 .. 1.99 ms
    assert probe.best == pytest.approx(1.09e-3)   # the 10th of 100 sorted times
    assert probe.slowdown() > 0                   # a real GEMM still times


def test_a_parents_reference_seeds_a_worker():
    worker = SpeedProbe(size=8, settle=0, best=1.5e-3)
    assert worker.best == 1.5e-3
