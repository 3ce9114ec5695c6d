"""One perf-validate measurement in a fresh process.

Why a fresh process: eager PyTorch's large activations come from glibc malloc, whose mmap
threshold adapts to what was freed before, so the same model can run 2x faster after
another model has run in the process (fewer freshly mapped pages to fault in). Measuring
each configuration in its own process makes a row independent of the rows before it, and
is what a user running one model sees.

Usage: python -m compiler.validate_worker '{"model": ..., "batch": ..., "precision": ...,
"runtime": ..., "repeats": ..., "min_time_s": ..., "max_foreign": ..., "threads": ...,
"probe_best_s": ..., "pin_allocator": ...}'
prints the measurement (compiler.validate.measure) as one JSON line.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str] | None = None) -> int:
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    import torch

    from compiler.calibrate.timing import SpeedProbe, Timer
    from compiler.model_zoo import build
    from compiler.validate import measure

    torch.set_num_threads(spec["threads"])
    if spec.get("pin_allocator"):
        from compiler.calibrate.memory import pin_allocator
        pin_allocator()
    probe = SpeedProbe(best=spec.get("probe_best_s"))
    timer = Timer(threads=spec["threads"], repeats=spec["repeats"], min_time_s=spec["min_time_s"],
                  warmup=3, max_foreign=spec["max_foreign"], probe=probe)
    result = measure(build(spec["model"], spec["batch"]), spec["precision"], spec["runtime"], timer)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
