"""perf-calibrate: micro-benchmarks of this machine with PyTorch, fitted into a calibration
file for map-cpu (schema and use: targets/calibration.py).

compiler/calibrate/timing.py   timing with CPU utilization and busy-run rejection
compiler/calibrate/suite.py    the op benchmarks, by Workload op class
compiler/calibrate/memory.py   bandwidth per memory level, dispatch and fork/join costs
compiler/calibrate/machine.py  machine identity, software versions, measured clock
compiler/calibrate/runner.py   the run and the document it writes
"""

from compiler.calibrate.runner import PRESET_SETTINGS, calibrate

__all__ = ["PRESET_SETTINGS", "calibrate"]
